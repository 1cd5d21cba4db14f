"""``mentoring demo`` gives Prefect's ephemeral server room to start on a busy machine, and
says so in one line when even that is not enough."""

import subprocess
import sys
from pathlib import Path

import pytest
from prefect.server.api.server import SubprocessASGIServer
from prefect.settings import Settings

from flows import prefect_server
from flows.demo import prepare_environment

SETTING = prefect_server.EPHEMERAL_STARTUP_SETTING
TOUCHED = (
    "MENTORING_HOME",
    "MENTORING_DATABASE_URL",
    "MENTORING_MAIL_DIR",
    "MENTORING_SMTP_HOST",
    "PREFECT_HOME",
    "PREFECT_API_URL",
    "PREFECT_LOGGING_LEVEL",
    "PREFECT_SERVER_ANALYTICS_ENABLED",
    "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW",
    SETTING,
)


@pytest.fixture
def demo_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Whatever ``prepare_environment`` writes into os.environ is put back afterwards:
    each name is set first so that monkeypatch records it (``delenv`` of a name that is not
    there records nothing, and what the demo then sets would outlive the test)."""
    for name in TOUCHED:
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    return monkeypatch


def test_the_demo_waits_two_minutes_for_the_prefect_server(
    demo_environment: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert prepare_environment(tmp_path / "demo") == 120
    assert Settings().server.ephemeral.startup_timeout_seconds == 120, "Prefect reads it"


def test_the_demo_honours_the_operators_own_startup_timeout(
    demo_environment: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    demo_environment.setenv(SETTING, "300")
    assert prepare_environment(tmp_path / "demo") == 300
    assert Settings().server.ephemeral.startup_timeout_seconds == 300


def test_a_startup_timeout_that_is_not_a_number_is_refused_in_one_line(
    demo_environment: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    demo_environment.setenv(SETTING, "two minutes")
    with pytest.raises(prefect_server.PrefectStackError, match="whole number of seconds"):
        prepare_environment(tmp_path / "demo")


def test_a_server_too_slow_to_start_is_stopped_and_said_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started: list[subprocess.Popen[bytes]] = []

    def never_answers(_server: SubprocessASGIServer) -> subprocess.Popen[bytes]:
        started.append(subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]))
        return started[-1]

    monkeypatch.setattr(SubprocessASGIServer, "_run_uvicorn_command", never_answers)
    # Prefect keeps one server per port for the process: one an earlier test started would
    # answer at once, so this test gets a table of its own
    monkeypatch.setattr(SubprocessASGIServer, "_instances", {})
    with pytest.raises(prefect_server.PrefectStackError) as refused:
        prefect_server.start_ephemeral_server(timeout=1)
    message = str(refused.value)
    assert "\n" not in message
    assert "did not start within 1 s" in message
    assert f"{SETTING}=240" in message, "says what to try"
    assert started and started[0].poll() is not None, "the stuck server is stopped"
