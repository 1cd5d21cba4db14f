"""Cycles on a real database: creation, transitions and their audit, the calendar."""

from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from domain.cycle_states import CycleEvent, Trigger
from domain.errors import CycleNotFound, DomainError, MissingValue, TransitionRefused
from domain.values import InvalidValue
from flows.usecases import audit, cycles
from infra import db
from infra.tables import AuditRow, Base, CycleRow, PairingSetRow
from infra.uow import UnitOfWork

AUG_2 = datetime(2026, 8, 2, 12, tzinfo=UTC)


def make_cycle(uow: UnitOfWork, year: int = 2026) -> None:
    cycles.create_cycle(uow, year, timezone="America/Chicago", milestones={}, actor="chair")


def test_migrations_run_twice_without_change(database_url: str) -> None:
    db.upgrade(database_url)
    db.upgrade(database_url)


def test_the_migrated_schema_is_the_one_the_tables_declare(database_url: str) -> None:
    """Column sizes included: a migration that forgot a widened column would let SQLite
    store what PostgreSQL refuses."""
    with db.engine_for(database_url).connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": False}
        )
        assert compare_metadata(context, Base.metadata) == []


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


def audit_kinds(uow: UnitOfWork) -> list[str]:
    with uow:
        return list(uow.session.scalars(select(AuditRow.kind).order_by(AuditRow.seq)))


def test_a_cycle_year_or_zone_the_program_cannot_have_is_refused_when_created(
    uow: UnitOfWork,
) -> None:
    for year in (0, 1, 1999, 2101, 99999):
        with pytest.raises(InvalidValue, match=rf"^year {year} is out of range; a cycle year"):
            cycles.create_cycle(uow, year, timezone="UTC", milestones={}, actor="chair")
    for zone in ("America", "Mars/Olympus", "localtime", ""):
        with pytest.raises(
            InvalidValue, match=rf"^timezone '{zone}' is not an IANA time zone name; use one"
        ):
            cycles.create_cycle(uow, 2026, timezone=zone, milestones={}, actor="chair")
    assert audit_kinds(uow) == []
    created = cycles.create_cycle(
        uow, 2026, timezone=" America/Chicago ", milestones={}, actor="chair"
    )
    assert created.message == "cycle 2026 created in state planned (America/Chicago)"
    assert cycles.describe(uow, 2026).timezone == "America/Chicago"


LONGEST_ACTOR = "A" * 200


def test_an_actor_is_one_line_of_at_most_200_characters_on_both_databases(
    uow: UnitOfWork,
) -> None:
    refusals = {
        "": (MissingValue, "an actor is required"),
        "   ": (MissingValue, "an actor is required"),
        "A" * 201: (InvalidValue, "actor is 201 characters long; keep it to 200"),
        "Pat\nChair": (InvalidValue, r"actor 'Pat\\nChair' contains a line break"),
        "Pat\x00": (InvalidValue, r"contains a NUL character \(U\+0000\)"),
    }
    for actor, (error, words) in refusals.items():
        with pytest.raises(error, match=words):
            cycles.create_cycle(uow, 2026, timezone="UTC", milestones={}, actor=actor)
    make_cycle(uow)
    for actor, (error, words) in refusals.items():
        with pytest.raises(error, match=words):
            cycles.fire_event(
                uow, 2026, CycleEvent.open_call, actor=actor, trigger=Trigger.cli, now=AUG_2
            )
        with pytest.raises(error, match=words):
            cycles.reschedule(
                uow, 2026, {CycleEvent.close_applications: "2026-10-07"}, actor=actor, now=AUG_2
            )
    assert audit_kinds(uow) == ["cycle_created"]
    moved = cycles.fire_event(
        uow, 2026, CycleEvent.open_call, actor=LONGEST_ACTOR, trigger=Trigger.cli, now=AUG_2
    )
    assert moved.changed
    assert audit.history(uow, 2026).transitions[0].actor == LONGEST_ACTOR


def test_a_cancel_reason_is_plain_text_of_at_most_2000_characters_on_both_databases(
    uow: UnitOfWork,
) -> None:
    make_cycle(uow)
    for reason, words in (
        ("R" * 2001, "reason is 2,001 characters long; keep it to 2,000"),
        ("merged\x00with 2027", r"contains a NUL character \(U\+0000\)"),
        ("merged\x1bwith 2027", r"contains a control character \(U\+001B\)"),
    ):
        with pytest.raises(InvalidValue, match=words):
            cycles.fire_event(
                uow,
                2026,
                CycleEvent.cancel,
                actor="chair",
                trigger=Trigger.cli,
                reason=reason,
                now=AUG_2,
            )
    with uow:
        row = uow.session.get(CycleRow, 2026)
        assert row is not None and (row.state, row.cancel_reason) == ("planned", None)
    longest = "merged with 2027,\n" + "R" * 1982
    cycles.fire_event(
        uow, 2026, CycleEvent.cancel, actor="chair", trigger=Trigger.cli, reason=longest, now=AUG_2
    )
    assert cycles.describe(uow, 2026).cancel_reason == longest
