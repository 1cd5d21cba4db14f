"""The daily tick walks a cycle through its calendar, catching up missed days in order."""

from datetime import UTC, datetime

from domain.cycle_states import CycleEvent, Trigger
from flows.usecases import audit, cycles
from flows.usecases.tick import run_tick
from infra.tables import PairingSetRow
from infra.uow import UnitOfWork


def at(y: int, m: int, d: int, h: int = 12) -> datetime:
    return datetime(y, m, d, h, tzinfo=UTC)


def approve_pairings(uow: UnitOfWork, year: int) -> None:
    with uow:
        uow.session.add(
            PairingSetRow(
                cycle_year=year,
                status="approved",
                proposed_at=at(2026, 10, 20),
                approved_by="chair",
                approved_at=at(2026, 10, 20),
            )
        )
        uow.commit()


def state(uow: UnitOfWork) -> str:
    return str(cycles.describe(uow, 2026).state)


def test_ticks_on_successive_dates_walk_the_whole_calendar(uow: UnitOfWork) -> None:
    cycles.create_cycle(uow, 2026, timezone="America/Chicago", milestones={}, actor="chair")
    expected = [
        (at(2026, 7, 31), "planned"),
        (at(2026, 8, 1, 6), "call_open"),
        (at(2026, 9, 30, 12), "call_open"),
        (at(2026, 10, 1, 12), "applications_closed"),
        (at(2026, 11, 5, 12), "applications_closed"),
    ]
    for now, want in expected:
        run_tick(uow, now=now)
        assert state(uow) == want, now
    held = run_tick(uow, now=at(2026, 11, 6)).held
    assert held and "no approved pairing set" in held[0]
    approve_pairings(uow, 2026)
    for now, want in [
        (at(2026, 11, 6), "paired"),
        (at(2026, 11, 20, 7), "orientation"),
        (at(2026, 12, 1, 7), "active"),
        (at(2027, 7, 1, 7), "ended"),
        (at(2027, 8, 1, 6), "assessed"),
    ]:
        run_tick(uow, now=now)
        assert state(uow) == want, now
    triggers = {t.trigger for t in audit.history(uow, 2026).transitions}
    assert triggers == {"schedule"}


def test_a_week_of_missed_ticks_catches_up_in_order_exactly_once(uow: UnitOfWork) -> None:
    cycles.create_cycle(uow, 2026, timezone="America/Chicago", milestones={}, actor="chair")
    approve_pairings(uow, 2026)
    report = run_tick(uow, now=at(2026, 12, 3))
    assert [t.event for t in report.transitions] == [
        str(e)
        for e in (
            CycleEvent.open_call,
            CycleEvent.close_applications,
            CycleEvent.announce_pairings,
            CycleEvent.start_orientation,
            CycleEvent.start_mentoring,
        )
    ]
    assert run_tick(uow, now=at(2026, 12, 3)).transitions == ()
    assert len(audit.history(uow, 2026).transitions) == 5
    assert state(uow) == "active"


def test_final_cycles_are_left_alone(uow: UnitOfWork) -> None:
    cycles.create_cycle(uow, 2026, timezone="America/Chicago", milestones={}, actor="chair")
    cycles.fire_event(
        uow,
        2026,
        CycleEvent.cancel,
        actor="chair",
        trigger=Trigger.cli,
        reason="no budget",
        now=at(2026, 7, 1),
    )
    assert run_tick(uow, now=at(2027, 9, 1)).transitions == ()
