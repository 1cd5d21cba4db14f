"""Stopping ``mentoring serve`` in the middle of a delivery (issue 11, "Clean shutdown").

A real ``mentoring serve`` runs the ``deliver-notifications`` deployment against a slow
aiosmtpd server. SIGTERM must leave no process of serve's tree (the flow run included,
which Prefect starts in a session of its own) and send no message twice; after a
``kill -9`` of serve, the next serve on the same home must clear what was left and start.
"""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from flows import prefect_server as stack
from flows.usecases.clock import utcnow
from flows.usecases.notifications import list_messages
from infra import db
from infra.uow import UnitOfWork
from tests.builders import checkin_reminders
from tests.smtp_server import SmtpTestServer

pytestmark = [pytest.mark.smtp, pytest.mark.timeout(300)]

MESSAGES = 120
SMTP_TIMEOUT = 5
GRACE = SMTP_TIMEOUT + 10  # what serve gives a flow run (flows/serve.py)
SCRIPT = Path(sys.executable).with_name("mentoring")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module", autouse=True)
def prefect_harness() -> Iterator[None]:
    """Overrides the e2e harness: serve starts a real server of its own."""
    yield


@dataclass
class Site:
    """A program home with queued mail, a slow mail server, and serve's environment."""

    home: Path
    env: dict[str, str]
    smtp: SmtpTestServer
    port: int
    logs: Path

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.home / 'mentoring.db'}"

    @property
    def pid_file(self) -> Path:
        return self.home / "prefect" / "serve.pids"

    def message_ids(self) -> list[str]:
        return [str(received.message["Message-ID"]) for received in self.smtp.received]

    def statuses(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for message in list_messages(UnitOfWork(db.session_factory(self.database_url))):
            counts[str(message.status)] = counts.get(str(message.status), 0) + 1
        return counts


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "MENTORING_"))}
    # A reply every 0.1 s: about 5 messages a second on two connections.
    with SmtpTestServer(delay=0.1) as smtp:
        env.update(
            MENTORING_HOME=str(home),
            MENTORING_SMTP_HOST=smtp.host,
            MENTORING_SMTP_PORT=str(smtp.port),
            MENTORING_SMTP_CONNECTIONS="2",
            MENTORING_SMTP_TIMEOUT=str(SMTP_TIMEOUT),
            PREFECT_WORKER_QUERY_SECONDS="1",
        )
        subprocess.run([str(SCRIPT), "db", "upgrade"], env=env, check=True, capture_output=True)
        url = f"sqlite:///{home / 'mentoring.db'}"
        uow = UnitOfWork(db.session_factory(url))
        with uow:
            uow.outbox.enqueue(checkin_reminders(MESSAGES), utcnow())
            uow.commit()
        db.engine_for(url).dispose()
        yield Site(home, env, smtp, stack.free_port(), tmp_path)


@contextmanager
def serving(site: Site, name: str) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """``mentoring serve`` on the site's home and port; killed if the test leaves it up."""
    output = site.logs / f"{name}.out"
    with output.open("wb") as sink:
        proc = subprocess.Popen(
            [str(SCRIPT), "serve", "--port", str(site.port)],
            env=site.env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
        try:
            yield proc, output
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def _wait_for(path: Path, text: str, proc: subprocess.Popen[bytes], timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen = path.read_text(errors="replace")
        if text in seen:
            return seen
        if proc.poll() is not None:
            pytest.fail(f"serve stopped (exit {proc.returncode}):\n{seen[-3000:]}")
        time.sleep(0.5)
    pytest.fail(f"serve did not print {text!r} in {timeout} s:\n{path.read_text()[-3000:]}")


def _start_delivery(site: Site) -> None:
    api = stack.api_url_for("127.0.0.1", site.port)
    env = stack.client_env(site.env, api, site.logs / "client-home", None)
    command = ("deployment", "run", "deliver-notifications/deliver-notifications")
    done = subprocess.run(
        stack.prefect_command(*command), env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _wait_for_mail(site: Site, count: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while len(site.smtp.received) < count:
        assert time.monotonic() < deadline, f"only {len(site.smtp.received)} messages arrived"
        time.sleep(0.1)


def _recorded(site: Site) -> tuple[str, list[stack.StackProcess]]:
    """Serve's mark and processes from its record, once a flow run is among them."""
    deadline = time.monotonic() + 10
    while True:
        record = json.loads(site.pid_file.read_text())
        processes = [stack.StackProcess.of_dict(item) for item in record["processes"]]
        if any(process.role == "flow run" for process in processes):
            return str(record["mark"]), processes
        assert time.monotonic() < deadline, f"no flow run in {site.pid_file}: {record}"
        time.sleep(0.5)


def _deliver_the_rest(site: Site) -> None:
    env = {**site.env, "MENTORING_SMTP_CONNECTIONS": "4"}
    done = subprocess.run(
        [str(SCRIPT), "notifications", "deliver", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_sigterm_mid_delivery_stops_every_process_and_sends_nothing_twice(site: Site) -> None:
    with serving(site, "serve") as (proc, output):
        _wait_for(output, "Prefect UI:", proc, timeout=240)
        _start_delivery(site)
        _wait_for_mail(site, 10)
        mark, processes = _recorded(site)
        assert {p.role for p in processes} >= {"Prefect server", "worker", "flow run"}
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=GRACE + 45)
        said = output.read_text(errors="replace")
    assert code == 0, said[-3000:]
    assert not [p for p in processes if p.alive()], said[-3000:]
    assert stack.marked_processes(mark) == []
    assert "asking 1 flow run(s) to finish" in said
    assert "1 of 1 flow run(s) finished" in said
    assert not site.pid_file.exists()
    arrived = len(site.smtp.received)
    time.sleep(2)
    assert len(site.smtp.received) == arrived, "mail still went out after serve stopped"
    assert 10 <= arrived < MESSAGES
    ids = site.message_ids()
    assert len(set(ids)) == len(ids)
    # What arrived is recorded sent, the rest is pending and free for the next delivery.
    assert site.statuses() == {"sent": arrived, "pending": MESSAGES - arrived}
    _deliver_the_rest(site)
    ids = site.message_ids()
    assert len(ids) == len(set(ids)) == MESSAGES
    assert site.statuses() == {"sent": MESSAGES}


def test_the_next_serve_clears_what_a_killed_serve_left(site: Site) -> None:
    with serving(site, "killed") as (killed, output):
        _wait_for(output, "Prefect UI:", killed, timeout=240)
        _start_delivery(site)
        _wait_for_mail(site, 5)
        _, left = _recorded(site)
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=10)
    assert [p for p in left if p.alive()], "the worker and server outlive a kill -9"
    with serving(site, "next") as (proc, output):
        said = _wait_for(output, "Prefect UI:", proc, timeout=240)
        assert "was killed; it left running:" in said
        assert "flow run (pid" in said
        assert "cleared what the previous serve left" in said
        assert not [p for p in left if p.alive()]
        mark = json.loads(site.pid_file.read_text())["mark"]
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=GRACE + 45)
    assert code == 0, output.read_text(errors="replace")[-3000:]
    assert stack.marked_processes(mark) == []
    ids = site.message_ids()
    assert len(set(ids)) == len(ids)
    assert site.statuses().get("sent", 0) == len(ids)


def test_a_flow_run_that_ignores_sigterm_is_killed_after_the_grace(tmp_path: Path) -> None:
    """The stop's own timing, with stand-ins for flow runs (real processes, each in a
    session of its own as Prefect starts them): one ends soon after SIGTERM, one never."""
    mark = "test-" + tmp_path.name
    env = stack.marked({**os.environ, stack.FLOW_RUN_VARIABLE: "run"}, mark)
    polite = (
        "import signal, sys, time\n"
        "signal.signal(signal.SIGTERM, lambda *a: (time.sleep(1), sys.exit(0)))\n"
        "time.sleep(60)"
    )
    deaf = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
    runs = [
        subprocess.Popen([sys.executable, "-c", code], env=env, start_new_session=True)
        for code in (polite, deaf)
    ]
    try:
        time.sleep(0.5)  # both have set their handlers
        start = time.monotonic()
        asked, killed = stack.finish_flow_runs(mark, grace=3.0)
        took = time.monotonic() - start
        assert {run.pid for run in asked} == {run.pid for run in runs}
        assert [run.pid for run in killed] == [runs[1].pid]
        assert 3.0 <= took < 6.0
        assert stack.marked_processes(mark) == []
    finally:
        for run in runs:
            run.kill()
            run.wait()
