"""Delivery ends in bounded time and says why: stalls, deadlines, stops, blocked servers.

Against a real SMTP server (aiosmtpd on 127.0.0.1) that stalls, and the .eml folder.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest

from domain.notifications import OutgoingMessage
from infra.mail import DeliveryReport, DeliveryResult, DeliveryStatus, MailSettings
from infra.mail_eml import EmlFolderTransport
from infra.mail_smtp import SmtpTransport
from tests.builders import checkin_reminders
from tests.smtp_server import SENDER, SmtpTestServer
from tests.smtp_server import settings_for as smtp_settings

pytestmark = pytest.mark.smtp
SLACK = 0.75  # seconds of scheduling on a busy machine


def settings_for(server: SmtpTestServer, **overrides: object) -> MailSettings:
    """Two connections, a 1 s timeout and two attempts: limits are reached quickly."""
    return smtp_settings(
        server, **{"connections": 2, "timeout": 1.0, "max_attempts": 2, **overrides}
    )


class Recorder:
    def __init__(self) -> None:
        self.results: list[DeliveryResult] = []

    def __call__(self, result: DeliveryResult) -> None:
        self.results.append(result)

    def of(self, status: DeliveryStatus) -> list[DeliveryResult]:
        return [r for r in self.results if r.status is status]


def accounted(report: DeliveryReport, recorder: Recorder, batch: list[OutgoingMessage]) -> None:
    """Every message has exactly one result; only released ones were not tried."""
    assert sorted(r.key for r in recorder.results) == sorted(m.key for m in batch)
    total = report.sent + report.failed + report.deferred + report.released
    assert total == len(batch)
    assert len(recorder.of(DeliveryStatus.released)) == report.released
    assert all(r.tried != (r.status is DeliveryStatus.released) for r in recorder.results)


def names_the_server(report: DeliveryReport, server: SmtpTestServer, words: str) -> None:
    assert report.blocked is not None
    assert report.blocked.startswith(f"mail server {server.host}:{server.port} {words}")


def test_a_server_stalling_after_the_data_ends_the_run_within_its_deadline() -> None:
    batch = checkin_reminders(20)
    recorder = Recorder()
    with SmtpTestServer(stall_on="DATA", stall_after=3) as server:
        started = time.monotonic()
        report = SmtpTransport(settings_for(server)).deliver(batch, recorder, deadline=started + 5)
        elapsed = time.monotonic() - started
        stalled = server.handler.stalls

    assert elapsed < 1.0 + SLACK + 1.0  # one timeout, not one per message or the deadline
    accounted(report, recorder, batch)
    assert report.failed == 0
    assert 3 <= report.sent == len(server.received)
    assert report.deferred == stalled == 2  # the one in flight on each connection
    assert all("outcome unknown" in r.detail for r in recorder.of(DeliveryStatus.deferred))
    assert report.released == 20 - report.sent - 2
    names_the_server(report, server, "timed out waiting for the answer to the message data")


def test_the_deadline_stops_new_messages_and_releases_the_rest() -> None:
    batch = checkin_reminders(40)
    recorder = Recorder()
    with SmtpTestServer(delay=0.05) as server:  # a message takes 0.2 s on a connection
        started = time.monotonic()
        report = SmtpTransport(settings_for(server, timeout=5.0)).deliver(
            batch, recorder, deadline=started + 0.6
        )
        elapsed = time.monotonic() - started

    assert elapsed < 0.6 + 0.2 + SLACK  # the messages in flight finished, no more began
    accounted(report, recorder, batch)
    assert (report.failed, report.deferred, report.blocked) == (0, 0, None)
    assert 2 <= report.sent == len(server.received) < 20
    assert all("deadline" in r.detail for r in recorder.of(DeliveryStatus.released))


def test_a_slow_server_is_cut_off_one_timeout_after_the_deadline() -> None:
    batch = checkin_reminders(10)
    recorder = Recorder()
    with SmtpTestServer(delay=0.4) as server:  # alive, but a message takes 1.6 s
        started = time.monotonic()
        report = SmtpTransport(settings_for(server)).deliver(
            batch, recorder, deadline=started + 0.1
        )
        elapsed = time.monotonic() - started

    assert elapsed < 0.1 + 1.0 + SLACK
    accounted(report, recorder, batch)
    assert report.blocked is None  # the server answered each step within the timeout
    assert (report.sent, report.failed, report.deferred) == (0, 0, 2)
    assert all("the run ended" in r.detail for r in recorder.of(DeliveryStatus.deferred))


def test_a_deadline_already_passed_opens_no_connection() -> None:
    batch = checkin_reminders(6)
    recorder = Recorder()
    with SmtpTestServer() as server:
        transport = SmtpTransport(settings_for(server))
        report = transport.deliver(batch, recorder, deadline=time.monotonic())

    accounted(report, recorder, batch)
    assert (report.released, report.blocked) == (6, None)
    assert transport.connections_opened == 0 and server.handler.connections == 0


def test_a_server_that_never_greets_is_given_up_within_the_timeout() -> None:
    batch = checkin_reminders(10)
    recorder = Recorder()
    with SmtpTestServer(stall_on="greeting") as server:
        started = time.monotonic()
        report = SmtpTransport(settings_for(server, connections=4)).deliver(batch, recorder)
        elapsed = time.monotonic() - started

    assert elapsed < 1.0 + SLACK
    accounted(report, recorder, batch)
    assert report.released == 10
    names_the_server(report, server, "timed out waiting for its greeting (1 s)")
    assert server.received == []


def test_a_refused_connection_blocks_the_run_without_counting_attempts() -> None:
    server = SmtpTestServer()  # never started: nothing listens on its port
    batch = checkin_reminders(5)
    recorder = Recorder()
    report = SmtpTransport(settings_for(server)).deliver(batch, recorder)

    accounted(report, recorder, batch)
    assert report.released == 5
    names_the_server(report, server, "is unreachable")
    assert "refused" in (report.blocked or "").lower()


def test_setting_stop_finishes_the_messages_in_flight_and_releases_the_rest() -> None:
    batch = checkin_reminders(40)
    recorder = Recorder()
    stop = threading.Event()

    def record_and_stop_at_five(result: DeliveryResult) -> None:
        recorder(result)
        if len(recorder.results) == 5:
            stop.set()  # what a SIGTERM handler does

    with SmtpTestServer(delay=0.02) as server:
        transport = SmtpTransport(settings_for(server))
        report = transport.deliver(batch, record_and_stop_at_five, stop=stop)

    accounted(report, recorder, batch)
    assert (report.failed, report.deferred, report.blocked) == (0, 0, None)
    assert 5 <= report.sent <= 5 + 2 * 2  # those queued and those in flight
    assert report.sent == len(server.received)  # in flight finished, each reported
    assert all("stopped" in r.detail for r in recorder.of(DeliveryStatus.released))


def test_stop_cuts_a_backoff_short() -> None:
    server = SmtpTestServer()  # down
    settings = settings_for(server, backoff_initial=30.0, backoff_max=30.0, max_attempts=3)
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    recorder = Recorder()
    started = time.monotonic()
    report = SmtpTransport(settings).deliver(checkin_reminders(4), recorder, stop=stop)

    assert time.monotonic() - started < 0.3 + SLACK
    # Stopped during the wait to reconnect: nothing went out because the server was never
    # reached, and the report says so rather than blaming the stop alone.
    assert report.released == 4
    assert report.blocked is not None and "unreachable" in report.blocked


def test_flush_follows_results_and_ends_the_run(tmp_path: Path) -> None:
    events: list[str] = []
    with SmtpTestServer(delay=0.002) as server:
        SmtpTransport(settings_for(server)).deliver(
            checkin_reminders(30),
            lambda result: events.append("result"),
            flush=lambda: events.append("flush"),
        )
    EmlFolderTransport(tmp_path, SENDER).deliver(
        checkin_reminders(300),
        lambda result: events.append("eml result"),
        flush=lambda: events.append("eml flush"),
    )

    smtp_events = [e for e in events if not e.startswith("eml")]
    assert smtp_events.count("result") == 30 and smtp_events[-1] == "flush"
    assert "flush" in smtp_events[:-1]  # not only at the end: whenever none is ready
    eml_events = [e for e in events if e.startswith("eml")]
    assert eml_events.count("eml result") == 300 and eml_events[-1] == "eml flush"
    assert 2 <= eml_events.count("eml flush") <= 300 // EmlFolderTransport.chunk + 1


# The .eml folder


def test_the_eml_folder_releases_everything_after_the_deadline_or_a_stop(tmp_path: Path) -> None:
    transport = EmlFolderTransport(tmp_path / "mail", SENDER)
    stopped = threading.Event()
    stopped.set()
    for keywords in ({"deadline": time.monotonic()}, {"stop": stopped}):
        recorder = Recorder()
        report = transport.deliver(checkin_reminders(3), recorder, **keywords)
        assert (report.sent, report.released, report.blocked) == (0, 3, None)
        assert not any(r.tried for r in recorder.results)
    assert not (tmp_path / "mail").exists() or not any((tmp_path / "mail").iterdir())


def test_an_eml_folder_that_cannot_be_written_blocks_the_run(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "mail"
    not_a_folder.write_text("a file where the folder should be")
    recorder = Recorder()
    report = EmlFolderTransport(not_a_folder, SENDER).deliver(checkin_reminders(3), recorder)

    assert (report.sent, report.released) == (0, 3)
    assert report.blocked is not None
    assert report.blocked.startswith(f"mail folder {not_a_folder} cannot be written")
    assert not any(r.tried for r in recorder.results)


def test_a_server_down_for_a_whole_short_run_is_said() -> None:
    """A deadline that ends the run during the reconnect waits still names the server."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    settings = MailSettings(host="127.0.0.1", port=port, connections=2, timeout=1.0)
    results: list[DeliveryResult] = []
    report = SmtpTransport(settings).deliver(
        checkin_reminders(5), results.append, deadline=time.monotonic() + 2.0
    )
    assert report.released == 5 and not any(r.tried for r in results)
    assert report.blocked is not None
    assert report.blocked.startswith(f"mail server 127.0.0.1:{port} is unreachable")
