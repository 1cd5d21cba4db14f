"""Cycles on a real database: creation, transitions and their audit, the calendar."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from domain.cycle_states import CycleEvent, Trigger
from domain.errors import CycleNotFound, DomainError, TransitionRefused
from flows.usecases import audit, cycles
from infra import db
from infra.tables import AuditRow, PairingSetRow
from infra.uow import UnitOfWork

AUG_2 = datetime(2026, 8, 2, 12, tzinfo=UTC)


def make_cycle(uow: UnitOfWork, year: int = 2026) -> None:
    cycles.create_cycle(uow, year, timezone="America/Chicago", milestones={}, actor="chair")


def test_migrations_run_twice_without_change(database_url: str) -> None:
    db.upgrade(database_url)
    db.upgrade(database_url)


def test_a_created_cycle_is_planned_with_the_default_calendar(uow: UnitOfWork) -> None:
    make_cycle(uow)
    shown = cycles.describe(uow, 2026)
    assert shown.state == "planned"
    assert shown.calendar["announce_pairings"] == "2026-11-05T00:00:00-06:00"
    assert shown.allowed_events == ("open_call", "cancel")


def test_creating_a_cycle_twice_is_a_no_op_but_different_dates_are_refused(
    uow: UnitOfWork,
) -> None:
    make_cycle(uow)
    again = cycles.create_cycle(uow, 2026, timezone="America/Chicago", milestones={}, actor="chair")
    assert not again.created and "already exists" in again.message
    with pytest.raises(DomainError, match="reschedule"):
        cycles.create_cycle(
            uow,
            2026,
            timezone="America/Chicago",
            milestones={CycleEvent.open_call: "2026-08-03"},
            actor="chair",
        )


def test_a_transition_and_its_audit_record_are_written_together(uow: UnitOfWork) -> None:
    make_cycle(uow)
    result = cycles.fire_event(
        uow,
        2026,
        CycleEvent.open_call,
        actor="chair",
        trigger=Trigger.manual,
        now=AUG_2,
        flow_run_id="run-1",
    )
    assert result.changed and result.target == "call_open"
    history = audit.history(uow, 2026)
    assert [t.as_dict() for t in history.transitions] == [
        {
            "seq": result.audit_seq,
            "event": "open_call",
            "source": "planned",
            "target": "call_open",
            "actor": "chair",
            "trigger": "manual",
            "reason": None,
            "flow_run_id": "run-1",
            "at": AUG_2.isoformat(),
            "messages": 0,
            "tasks": 1,
        }
    ]
    assert cycles.describe(uow, 2026).state == "call_open"


def test_a_refused_transition_leaves_no_trace(uow: UnitOfWork) -> None:
    make_cycle(uow)
    with pytest.raises(TransitionRefused, match="events allowed now: open_call, cancel"):
        cycles.fire_event(
            uow, 2026, CycleEvent.start_mentoring, actor="chair", trigger=Trigger.cli, now=AUG_2
        )
    with uow:
        kinds = uow.session.scalars(select(AuditRow.kind)).all()
    assert kinds == ["cycle_created"]


def test_a_repeated_event_is_an_idempotent_no_op(uow: UnitOfWork) -> None:
    make_cycle(uow)
    first = cycles.fire_event(
        uow, 2026, CycleEvent.open_call, actor="a", trigger=Trigger.cli, now=AUG_2
    )
    second = cycles.fire_event(
        uow, 2026, CycleEvent.open_call, actor="b", trigger=Trigger.cli, now=AUG_2
    )
    assert first.changed and not second.changed
    assert "already in state call_open" in second.message
    assert len(audit.history(uow, 2026).transitions) == 1


def test_announcing_needs_an_approved_pairing_set_in_the_database(uow: UnitOfWork) -> None:
    make_cycle(uow)
    late = datetime(2026, 11, 6, tzinfo=UTC)
    for event in (CycleEvent.open_call, CycleEvent.close_applications):
        cycles.fire_event(uow, 2026, event, actor="s", trigger=Trigger.schedule, now=late)
    with pytest.raises(TransitionRefused, match="no approved pairing set"):
        cycles.fire_event(
            uow, 2026, CycleEvent.announce_pairings, actor="s", trigger=Trigger.schedule, now=late
        )
    with uow:
        uow.session.add(
            PairingSetRow(
                cycle_year=2026,
                status="approved",
                proposed_at=late,
                approved_by="chair",
                approved_at=late,
            )
        )
        uow.commit()
    result = cycles.fire_event(
        uow, 2026, CycleEvent.announce_pairings, actor="s", trigger=Trigger.schedule, now=late
    )
    assert result.target == "paired"


def test_cancel_records_its_reason(uow: UnitOfWork) -> None:
    make_cycle(uow)
    cycles.fire_event(
        uow,
        2026,
        CycleEvent.cancel,
        actor="chair",
        trigger=Trigger.cli,
        reason="merged with 2027",
        now=AUG_2,
    )
    shown = cycles.describe(uow, 2026)
    assert (shown.state, shown.cancel_reason) == ("cancelled", "merged with 2027")
    assert audit.history(uow, 2026).transitions[0].reason == "merged with 2027"


def test_reschedule_moves_a_future_milestone_and_audits_it(uow: UnitOfWork) -> None:
    make_cycle(uow)
    cal = cycles.reschedule(
        uow, 2026, {CycleEvent.close_applications: "2026-10-07"}, actor="chair", now=AUG_2
    )
    assert cal.as_iso()["close_applications"] == "2026-10-07T23:59:59-05:00"
    assert cycles.describe(uow, 2026).calendar["close_applications"].startswith("2026-10-07")
    record = audit.history(uow, 2026).records[-1]
    assert record.kind == "calendar_changed"
    assert record.fields["before"] == {"close_applications": "2026-09-30T23:59:59-05:00"}


def test_an_unknown_cycle_is_reported_with_its_year(uow: UnitOfWork) -> None:
    """The sentence names no command; the command line adds how to create it."""
    with pytest.raises(CycleNotFound, match=r"^there is no cycle 2031$") as refusal:
        cycles.describe(uow, 2031)
    assert refusal.value.year == 2031
