"""Exactly once under overlap, never in the way, bounded, and said: ``notifications deliver``
run as real processes against a real SMTP server on loopback (aiosmtpd, or a plain socket
that never answers), on SQLite and PostgreSQL.

Messages are counted by Message-ID at the server: a message the server took twice is a
second mail in someone's inbox, whatever the database says.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType

import pytest
from sqlalchemy import select

from domain.cycle_states import CycleEvent, Trigger
from domain.notifications import message_id_for
from flows.usecases import cycles, notifications, withdrawing
from flows.usecases.clock import utcnow
from infra.mail import MailSettings
from infra.mail_smtp import SmtpTransport
from infra.tables import MessageRow
from infra.uow import UnitOfWork
from tests.builders import checkin_reminders, paired_cycle
from tests.cli import Run
from tests.smtp_server import HOST, SmtpTestServer, free_port

pytestmark = pytest.mark.smtp

ROOT = Path(__file__).resolve().parents[2]
SENDER_DOMAIN = "core.example.org"  # the default sender's, so the Message-IDs' domain
YEAR = 2026
NOV_10 = datetime(2026, 11, 10, 12, tzinfo=UTC)
NOV_20 = datetime(2026, 11, 20, 12, tzinfo=UTC)
# More than one claim's worth of mail, so more than one of the overlapping runs gets work
# (and a killed run holds some messages, not all).
MORE_THAN_A_CLAIM = notifications.CLAIM_SIZE + 100
ROUND_TRIP = 0.003  # seconds the server waits before each reply, so runs really overlap
STARTUP = 15.0  # seconds a CLI process may take to start and end on a busy two-core machine
# Past any lease a run of these tests takes (deadline + timeout + grace, at most 11 min).
LEASE_OVER = timedelta(minutes=15)


@dataclass(frozen=True)
class Stored:
    """One outbox row as delivery left it."""

    key: str
    status: str
    attempts: int
    claim_token: str | None
    last_error: str | None


def queue_mail(uow: UnitOfWork, at_least: int = 0) -> int:
    """A paired cycle's notices (240), topped up with check-in reminders to ``at_least``;
    returns how many messages are queued."""
    paired_cycle(uow)
    with uow:
        missing = at_least - uow.outbox.pending_count()
        if missing > 0:
            uow.outbox.enqueue(checkin_reminders(missing), utcnow())
            uow.commit()
        return uow.outbox.pending_count()


def stored(uow: UnitOfWork) -> list[Stored]:
    with uow:
        rows = uow.session.scalars(select(MessageRow).order_by(MessageRow.id))
        return [Stored(r.key, str(r.status), r.attempts, r.claim_token, r.last_error) for r in rows]


def message_ids(server: SmtpTestServer) -> Counter[str]:
    return Counter(str(r.message["Message-ID"]) for r in server.received)


def expected_ids(rows: list[Stored]) -> set[str]:
    return {message_id_for(r.key, SENDER_DOMAIN) for r in rows}


def smtp_env(port: int, **settings: str) -> dict[str, str]:
    """The process environment of a delivery to 127.0.0.1:``port`` (and the test's
    database, which the ``database_url`` fixture exported)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MENTORING_SMTP_", "MENTORING_MAIL_"))
    }
    env.update(MENTORING_SMTP_HOST=HOST, MENTORING_SMTP_PORT=str(port))
    env.update({f"MENTORING_{name.upper()}": value for name, value in settings.items()})
    return env


class Delivery:
    """``mentoring notifications deliver --json`` as a process of its own."""

    def __init__(self, env: dict[str, str]) -> None:
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flows.cli", "notifications", "deliver", "--json"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.ended: float | None = None

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def finish(self, timeout: float = 120.0) -> Run:
        stdout, stderr = self.process.communicate(timeout=timeout)
        self.ended = time.monotonic()
        return Run(self.process.returncode, stdout, stderr)

    @property
    def lasted(self) -> float:
        """Seconds from starting the process to its end (after :meth:`finish`)."""
        assert self.ended is not None
        return self.ended - self.started


def one_error_line(run: Run) -> str:
    """stderr is one line, no traceback; returns it."""
    lines = run.stderr.strip().splitlines()
    assert "Traceback" not in run.stderr
    assert len(lines) == 1, run.stderr
    return lines[0]


# 1. Overlapping deliveries


@pytest.mark.parametrize("runs", [4, 16])
def test_overlapping_deliveries_send_every_message_exactly_once(uow: UnitOfWork, runs: int) -> None:
    total = queue_mail(uow, MORE_THAN_A_CLAIM)
    with SmtpTestServer(delay=ROUND_TRIP) as server:
        env = smtp_env(server.port, smtp_timeout="10")
        deliveries = [Delivery(env) for _ in range(runs)]
        results = [d.finish() for d in deliveries]
        server.wait_until_idle()
        ids = message_ids(server)

    assert [r.code for r in results] == [0] * runs, [r.stderr for r in results]
    sent = [r.json["sent"] for r in results]
    assert sum(sent) == total
    assert sum(1 for n in sent if n) >= 2, f"the runs did not overlap: {sent}"
    rows = stored(uow)
    assert len(rows) == total
    assert ids.keys() == expected_ids(rows)
    assert max(ids.values()) == 1, [i for i, n in ids.items() if n > 1][:5]
    assert {(r.status, r.attempts, r.claim_token) for r in rows} == {("sent", 1, None)}


# 2. Nothing waits for the mail server


class SilentServer:
    """A relay that accepts TCP connections on loopback and never says a word."""

    def __init__(self) -> None:
        self.listener = socket.create_server((HOST, 0))
        self.listener.settimeout(0.05)
        self.port = int(self.listener.getsockname()[1])
        self.connections: list[socket.socket] = []
        self.lock = threading.Lock()
        self.closing = threading.Event()
        self.thread = threading.Thread(target=self._accept, name="silent-relay", daemon=True)

    def _accept(self) -> None:
        while not self.closing.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            with self.lock:
                self.connections.append(connection)

    def wait_for_a_connection(self, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self.lock:
                if self.connections:
                    return True
            time.sleep(0.01)
        return False

    def __enter__(self) -> SilentServer:
        self.thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.closing.set()
        self.thread.join()
        self.listener.close()
        with self.lock:
            for connection in self.connections:
                connection.close()


def test_a_withdrawal_and_a_transition_go_through_while_a_delivery_waits_on_a_silent_server(
    uow: UnitOfWork,
) -> None:
    paired_cycle(uow)
    queued = {r.key for r in stored(uow)}
    with SilentServer() as silent:
        delivery = Delivery(smtp_env(silent.port, smtp_timeout="4"))
        assert silent.wait_for_a_connection(STARTUP), "the delivery never reached the server"
        began = time.monotonic()
        withdrawn = withdrawing.withdraw(
            uow, YEAR, "C100270", actor="Pat Chair", reason="family reasons", now=NOV_10
        )
        withdrawal_took = time.monotonic() - began
        began = time.monotonic()
        moved = cycles.fire_event(
            uow, YEAR, CycleEvent.start_orientation, actor="s", trigger=Trigger.schedule, now=NOV_20
        )
        transition_took = time.monotonic() - began
        delivery_still_waiting = delivery.running
        run = delivery.finish()

    assert withdrawn.changed and moved.changed
    assert withdrawal_took < 2.0 and transition_took < 2.0, (withdrawal_took, transition_took)
    assert delivery_still_waiting, "the delivery ended before the test could overlap it"
    assert run.code == 1
    line = one_error_line(run)
    assert line.startswith(f"error: mail server {HOST}:{silent.port} timed out waiting for")
    assert "greeting (4 s)" in line
    rows = stored(uow)
    assert queued < {r.key for r in rows}, "the withdrawal and the transition queued mail"
    assert {(r.status, r.attempts, r.claim_token) for r in rows} == {("pending", 0, None)}


# 3. A stalled or slow server costs the run's deadline at most


DEADLINE = 3  # MENTORING_MAIL_DEADLINE in these tests, seconds
TIMEOUT = 2  # MENTORING_SMTP_TIMEOUT


def bounded_env(port: int) -> dict[str, str]:
    return smtp_env(port, smtp_timeout=str(TIMEOUT), mail_deadline=str(DEADLINE))


def untried_stay_as_they_were(rows: list[Stored], sent: int, in_doubt: int) -> None:
    """``sent`` rows sent once; ``in_doubt`` tried and kept pending (the server may have
    the message); the rest pending with no attempt counted; nothing left claimed."""
    untried = len(rows) - sent - in_doubt
    expected = Counter({("sent", 1): sent, ("pending", 1): in_doubt, ("pending", 0): untried})
    assert Counter((r.status, r.attempts) for r in rows) == +expected  # + drops the zeros
    assert all(r.claim_token is None for r in rows)


def test_a_server_stalling_after_the_data_ends_the_run_and_says_so(uow: UnitOfWork) -> None:
    total = queue_mail(uow)
    with SmtpTestServer(stall_on="DATA", stall_after=20) as server:
        delivery = Delivery(bounded_env(server.port))
        run = delivery.finish()
        stalled = server.handler.stalls
        ids = message_ids(server)

    assert delivery.lasted < DEADLINE + TIMEOUT + STARTUP
    assert run.code == 1
    line = one_error_line(run)
    assert line.startswith(f"error: mail server {HOST}:{server.port} timed out waiting for")
    assert "the answer to the message data" in line
    assert 20 <= len(ids) == run.json["sent"] and max(ids.values()) == 1
    assert run.json["pending"] == total - len(ids)
    rows = stored(uow)
    untried_stay_as_they_were(rows, sent=len(ids), in_doubt=stalled)
    in_doubt = [r for r in rows if (r.status, r.attempts) == ("pending", 1)]
    assert all(r.last_error and "outcome unknown" in r.last_error for r in in_doubt)


def test_a_server_that_never_greets_ends_the_run_within_a_timeout(uow: UnitOfWork) -> None:
    queue_mail(uow)
    with SmtpTestServer(stall_on="greeting") as server:
        delivery = Delivery(bounded_env(server.port))
        run = delivery.finish()
        received = server.received

    assert delivery.lasted < TIMEOUT + STARTUP
    assert run.code == 1
    line = one_error_line(run)
    assert line.startswith(
        f"error: mail server {HOST}:{server.port} timed out waiting for its greeting ({TIMEOUT} s)"
    )
    assert received == []
    untried_stay_as_they_were(stored(uow), sent=0, in_doubt=0)


def test_a_slow_server_ends_the_run_at_its_deadline_leaving_the_rest_queued(
    uow: UnitOfWork,
) -> None:
    total = queue_mail(uow)
    with SmtpTestServer(delay=0.25) as server:  # answers, but a message takes over 1 s
        delivery = Delivery(bounded_env(server.port))
        run = delivery.finish()
        ids = message_ids(server)

    assert delivery.lasted < DEADLINE + TIMEOUT + STARTUP  # not the 60 s all would take
    assert run.code == 0, run.stderr
    assert 0 < len(ids) == run.json["sent"] < total
    assert run.json["pending"] == total - len(ids)
    assert run.json["halted"] == "the delivery run reached its deadline"
    assert "note: the delivery run reached its deadline" in run.stderr
    rows = stored(uow)
    in_doubt = sum(1 for r in rows if (r.status, r.attempts) == ("pending", 1))
    assert in_doubt <= 4  # at most the one in flight on each connection
    untried_stay_as_they_were(rows, sent=len(ids), in_doubt=in_doubt)


# 4. A server that cannot be used is said, and costs no attempt


def test_a_server_that_is_down_fails_the_delivery_in_one_line(uow: UnitOfWork) -> None:
    total = queue_mail(uow)
    port = free_port()
    run = Delivery(smtp_env(port)).finish()

    assert run.code == 1
    line = one_error_line(run)
    assert line.startswith(f"error: mail server {HOST}:{port} is unreachable")
    assert "refused" in line.lower()
    assert (run.json["sent"], run.json["pending"]) == (0, total)
    untried_stay_as_they_were(stored(uow), sent=0, in_doubt=0)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_a_refused_login_fails_the_delivery_in_one_line(uow: UnitOfWork) -> None:
    total = queue_mail(uow)
    with SmtpTestServer(login=("mentoring", "the right one")) as server:
        env = smtp_env(server.port, smtp_user="mentoring", smtp_password="a wrong one")
        run = Delivery(env).finish()
        received = server.received

    assert run.code == 1
    line = one_error_line(run)
    assert line.startswith(f"error: mail server {HOST}:{server.port} refused the login: 535")
    assert "a wrong one" not in run.stderr + run.stdout
    assert received == []
    assert (run.json["sent"], run.json["pending"]) == (0, total)
    untried_stay_as_they_were(stored(uow), sent=0, in_doubt=0)


# 5. A killed delivery's messages wait for its lease, then go out once


def test_a_killed_deliverys_lease_holds_its_messages_until_it_runs_out(uow: UnitOfWork) -> None:
    total = queue_mail(uow, MORE_THAN_A_CLAIM)
    connections = 4
    with SmtpTestServer(delay=ROUND_TRIP) as server:
        killed = Delivery(smtp_env(server.port, smtp_connections=str(connections)))
        end = time.monotonic() + STARTUP + 10
        while server.handler.accepted < 20 and time.monotonic() < end:
            time.sleep(0.005)
        assert killed.running and server.handler.accepted >= 20
        killed.process.send_signal(signal.SIGKILL)
        killed.finish()
        server.wait_until_idle()
        left = stored(uow)
        held = expected_ids([r for r in left if r.claim_token is not None])
        free = expected_ids([r for r in left if (r.status, r.claim_token) == ("pending", None)])
        before = message_ids(server)

        transport = SmtpTransport(MailSettings(host=server.host, port=server.port, timeout=5))
        at_once = notifications.deliver(uow, transport)
        sent_at_once = message_ids(server) - before
        later = notifications.deliver(uow, transport, now=lambda: utcnow() + LEASE_OVER)
        server.wait_until_idle()
        ids = message_ids(server)

    assert held, "the killed run held nothing: it was not killed mid-run"
    assert free, "the killed run held everything: nothing tells a lease from a lock"
    assert sent_at_once.keys() == free and at_once.sent == len(free)
    assert not held & sent_at_once.keys()
    assert later.sent > 0 and later.pending == 0
    rows = stored(uow)
    assert len(ids) == total and ids.keys() == expected_ids(rows), "no message may be lost"
    assert max(ids.values()) <= 2
    assert sum(n - 1 for n in ids.values()) <= 2 * connections + 1
    assert {(r.status, r.claim_token) for r in rows} == {("sent", None)}


def test_a_stopped_delivery_records_what_it_sent_and_gives_back_the_rest(uow: UnitOfWork) -> None:
    total = queue_mail(uow)
    with SmtpTestServer(delay=ROUND_TRIP) as server:
        stopped = Delivery(smtp_env(server.port))
        end = time.monotonic() + STARTUP + 10
        while server.handler.accepted < 20 and time.monotonic() < end:
            time.sleep(0.005)
        assert stopped.running and server.handler.accepted >= 20
        stopped.process.send_signal(signal.SIGTERM)
        run = stopped.finish()
        server.wait_until_idle()
        sent_before = message_ids(server)
        left = stored(uow)
        transport = SmtpTransport(MailSettings(host=server.host, port=server.port, timeout=5))
        rest = notifications.deliver(uow, transport)
        ids = message_ids(server)

    assert run.code == 130
    assert one_error_line(run).startswith("stopped: the messages not sent stay queued")
    assert run.json["sent"] == len(sent_before) < total  # the ones in flight finished
    untried_stay_as_they_were(left, sent=len(sent_before), in_doubt=0)
    assert rest.sent == total - len(sent_before) and rest.pending == 0  # no lease to wait for
    assert len(ids) == total and max(ids.values()) == 1
