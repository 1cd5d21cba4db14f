"""``notifications deliver`` starts fast: it loads only what delivering needs (issue 11),
and the collector held off while the command loads is on again when it runs.

Run in a fresh process through the console script's entry point, as a committee's cron
runs it, and read which modules it loaded and the collector's state at exit.
"""

import json
import os
import subprocess
import sys
from typing import Any

from infra import db

_CHILD = """
import atexit, gc, json, sys
from flows.cli import main
atexit.register(lambda: print(json.dumps(
    {"collector": [gc.isenabled(), gc.get_freeze_count()], "modules": sorted(sys.modules)}
), file=sys.stderr))
sys.argv = ["mentoring", *sys.argv[1:]]
main()
"""

# What a delivery does not need: the progress bar (with --json), SMTP when writing .eml
# files, the Prefect stack, the refusal hints (and the seal book's checks they name), the
# address checker, and the repositories other commands use.
NOT_NEEDED = {
    "rich.progress",
    "email_validator",
    "smtplib",
    "flows.prefect_server",
    "flows.cli.hints",
    "infra.repositories.cycles",
    "infra.repositories.pairings",
    "infra.repositories.engagement",
    "infra.repositories.keyed_rows",
}


def _deliver(*args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    done, report = _run_deliver(*args)
    return done, set(report["modules"])


def _run_deliver(*args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, "notifications", "deliver", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "MENTORING_SMTP_HOST": ""},
        timeout=120,
        check=False,
    )
    report: dict[str, Any] = json.loads(done.stderr.strip().splitlines()[-1])
    return done, report


def test_deliver_loads_only_what_delivering_needs(database_url: str) -> None:
    done, loaded = _deliver("--json")

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"sent": 0, "failed": 0, "pending": 0}
    assert loaded & NOT_NEEDED == set()
    if db.sqlite_file(database_url) is not None:
        assert {"sqlalchemy.dialects.postgresql", "psycopg"} & loaded == set()


def test_deliver_without_json_says_the_counts_in_words(database_url: str) -> None:
    done, loaded = _deliver()

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "sent 0, failed 0, still pending 0"
    assert "smtplib" not in loaded


def test_a_mistyped_option_is_a_usage_error(database_url: str) -> None:
    done, _ = _deliver("--jsn")

    assert done.returncode == 2
    assert "No such option: --jsn" in done.stderr


def test_the_collector_is_on_again_when_the_command_runs(database_url: str) -> None:
    """Held off while the modules load, then on: what the command itself makes is
    collected, and what the imports made is set aside (frozen) instead of walked."""
    done, report = _run_deliver("--json")

    assert done.returncode == 0, done.stderr
    enabled, frozen = report["collector"]
    assert enabled is True
    assert frozen > 10_000
