"""``notifications deliver`` starts fast: it loads only what delivering needs (issue 11).

Run in a fresh process, as a committee's cron runs it, and read which modules it loaded.
"""

import json
import os
import subprocess
import sys

from infra import db

_CHILD = """
import atexit, json, sys
from flows.cli.app import main
atexit.register(lambda: print(json.dumps(sorted(sys.modules)), file=sys.stderr))
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
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, "notifications", "deliver", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "MENTORING_SMTP_HOST": ""},
        timeout=120,
        check=False,
    )
    return done, set(json.loads(done.stderr.strip().splitlines()[-1]))


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
