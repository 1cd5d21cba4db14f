"""The outbox end to end: transitions queue mail, delivery sends it once, to a real server."""

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from domain.cycle_states import CycleEvent, Trigger
from flows.usecases import cycles, notifications
from flows.usecases.clock import utcnow
from infra.mail import DeliveryResult, MailSettings
from infra.mail_smtp import SmtpTransport
from infra.tables import MemberRow, MessageRow, PairRow
from infra.uow import UnitOfWork
from tests.builders import paired_cycle
from tests.smtp_server import SmtpTestServer

# Past a crashed delivery's lease: the run deadline (600 s), a timeout and the grace.
LEASE_OVER = timedelta(minutes=15)

pytestmark = pytest.mark.smtp


@pytest.fixture
def server() -> Iterator[SmtpTestServer]:
    with SmtpTestServer() as running:
        yield running


def transport(server: SmtpTestServer) -> SmtpTransport:
    return SmtpTransport(
        MailSettings(host=server.host, port=server.port, connections=2, max_attempts=2, timeout=5)
    )


def statuses(uow: UnitOfWork) -> Counter[str]:
    with uow:
        return Counter(uow.session.scalars(select(MessageRow.status)))


def test_each_mentor_and_mentee_gets_a_pairing_notice_naming_their_partner(
    uow: UnitOfWork, server: SmtpTestServer
) -> None:
    paired_cycle(uow)
    counts = notifications.deliver(uow, transport(server))
    assert counts.failed == 0 and counts.pending == 0
    notices = [r for r in server.received if "pairing_notice" in str(r.message["Message-ID"])]
    with uow:
        pairs = uow.session.scalars(select(PairRow)).all()
        emails = {m.member_id: m.email for m in uow.session.scalars(select(MemberRow))}
    assert len(notices) == 2 * len(pairs)
    by_recipient = Counter(r.rcpt_tos[0] for r in notices)
    for pair in pairs:
        assert by_recipient[emails[pair.mentor_id]] >= 1
        assert by_recipient[emails[pair.mentee_id]] >= 1
    sample = pairs[0]
    to_mentee = [r for r in notices if r.rcpt_tos[0] == emails[sample.mentee_id]]
    text = to_mentee[0].message.get_body(("plain",)).get_content()
    assert emails[sample.mentor_id] in text


def test_a_second_delivery_sends_nothing(uow: UnitOfWork, server: SmtpTestServer) -> None:
    paired_cycle(uow)
    first = notifications.deliver(uow, transport(server))
    received = len(server.received)
    second = notifications.deliver(uow, transport(server))
    assert first.sent == received and second.sent == 0
    assert len(server.received) == received


def test_a_crash_between_sending_and_marking_resends_only_that_message(
    uow: UnitOfWork, server: SmtpTestServer
) -> None:
    paired_cycle(uow)
    total = sum(statuses(uow).values())

    class Crash(Exception):
        pass

    class CrashingTransport(SmtpTransport):
        def deliver(self, messages, on_result, progress=None, **options):  # type: ignore[no-untyped-def]
            seen = 0

            def mark_then_crash(result: DeliveryResult) -> None:
                nonlocal seen
                seen += 1
                if seen == 5:
                    raise Crash("power cut after the server said 250")
                on_result(result)

            return super().deliver(messages, mark_then_crash, progress, **options)

    with pytest.raises(Crash):
        notifications.deliver(uow, CrashingTransport(transport(server).settings))
    held = len(server.received)
    at_once = notifications.deliver(uow, transport(server))
    assert len(server.received) == held + at_once.sent, "the crashed run's lease still holds"
    later = notifications.deliver(uow, transport(server), now=lambda: utcnow() + LEASE_OVER)
    assert later.sent > 0, "the lease ran out, so its messages went out"
    ids = Counter(r.message["Message-ID"] for r in server.received)
    assert len(ids) == total, "no message may be lost"
    assert max(ids.values()) <= 2
    connections = transport(server).settings.connections
    assert 1 <= sum(n - 1 for n in ids.values()) <= 2 * connections + 1
    assert statuses(uow) == Counter({"sent": total})


def test_mail_waits_while_the_server_is_down_then_all_goes_out(
    uow: UnitOfWork, server: SmtpTestServer
) -> None:
    paired_cycle(uow)
    total = sum(statuses(uow).values())
    server.stop()
    down = notifications.deliver(uow, transport(server))
    assert (down.sent, down.failed, down.pending) == (0, 0, total)
    server.start()
    up = notifications.deliver(uow, transport(server))
    assert (up.sent, up.pending) == (total, 0)


def test_a_refused_address_is_marked_failed_and_the_rest_go_out(uow: UnitOfWork) -> None:
    paired_cycle(uow)
    with uow:
        victim = uow.session.scalars(select(MessageRow.to_address)).first()
        total = len(uow.session.scalars(select(MessageRow)).all())
        victims = len(
            uow.session.scalars(select(MessageRow).where(MessageRow.to_address == victim)).all()
        )
    with SmtpTestServer(reject=[victim]) as refusing:
        counts = notifications.deliver(uow, transport(refusing))
    assert (counts.failed, counts.sent, counts.pending) == (victims, total - victims, 0)
    with uow:
        failed = uow.session.scalars(select(MessageRow).where(MessageRow.status == "failed")).all()
    assert all(f.last_error and "550" in f.last_error for f in failed)


def test_transitions_queue_once_even_when_repeated(uow: UnitOfWork) -> None:
    paired_cycle(uow)
    before = sum(statuses(uow).values())
    nov_20 = datetime(2026, 11, 20, 12, tzinfo=UTC)
    first = cycles.fire_event(
        uow, 2026, CycleEvent.start_orientation, actor="s", trigger=Trigger.schedule, now=nov_20
    )
    again = cycles.fire_event(
        uow, 2026, CycleEvent.start_orientation, actor="s", trigger=Trigger.schedule, now=nov_20
    )
    assert first.messages > 0 and not again.changed
    assert sum(statuses(uow).values()) == before + first.messages
