"""Transition flows under a real (test) Prefect server: audit, idempotency, concurrency."""

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text

from domain.cycle_states import CycleEvent, Trigger
from flows import orchestration
from flows.cycle_transition import advance_cycle
from flows.daily_tick import daily_tick
from flows.usecases import audit, cycles
from infra import db
from infra.uow import UnitOfWork


@pytest.fixture
def cycle_2026(uow: UnitOfWork) -> UnitOfWork:
    cycles.create_cycle(uow, 2026, timezone="America/Chicago", milestones={}, actor="chair")
    return uow


def test_the_flow_moves_the_cycle_and_audits_its_flow_run(cycle_2026: UnitOfWork) -> None:
    state = advance_cycle(2026, CycleEvent.open_call, "Pat Chair", return_state=True)
    assert state.is_completed()
    (transition,) = audit.history(cycle_2026, 2026).transitions
    assert transition.flow_run_id == str(state.state_details.flow_run_id)
    assert (transition.trigger, transition.actor) == ("manual", "Pat Chair")
    assert cycles.describe(cycle_2026, 2026).state == "call_open"


def test_running_the_flow_twice_gives_one_transition(cycle_2026: UnitOfWork) -> None:
    first = advance_cycle(2026, CycleEvent.open_call, "a")
    second = advance_cycle(2026, CycleEvent.open_call, "b")
    assert first["changed"] is True and second["changed"] is False
    assert len(audit.history(cycle_2026, 2026).transitions) == 1


def test_two_concurrent_runs_give_one_transition(cycle_2026: UnitOfWork) -> None:
    with ThreadPoolExecutor(2) as pool:
        runs = list(
            pool.map(lambda who: advance_cycle(2026, CycleEvent.open_call, who), ["a", "b"])
        )
    assert sorted(r["changed"] for r in runs) == [False, True]
    assert len(audit.history(cycle_2026, 2026).transitions) == 1


def test_a_refused_event_fails_the_run_with_the_reason(cycle_2026: UnitOfWork) -> None:
    state = advance_cycle(2026, CycleEvent.start_mentoring, "a", return_state=True)
    assert state.is_failed()
    assert "events allowed now: open_call, cancel" in str(state.message) + str(
        state.result(raise_on_failure=False)
    )
    assert cycles.describe(cycle_2026, 2026).state == "planned"


def test_event_triggered_runs_are_recorded_as_such(cycle_2026: UnitOfWork) -> None:
    advance_cycle(2026, CycleEvent.cancel, "automation", reason="test", trigger=Trigger.event)
    assert audit.history(cycle_2026, 2026).transitions[0].trigger == "event"


def test_a_transition_emits_the_step_and_the_state_reached_once(
    cycle_2026: UnitOfWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    emitted: list[dict[str, Any]] = []
    monkeypatch.setattr(orchestration, "emit_event", lambda **event: emitted.append(event))
    advance_cycle(2026, CycleEvent.open_call, "Pat Chair")
    advance_cycle(2026, CycleEvent.open_call, "Pat Chair")
    assert [e["event"] for e in emitted] == [
        "mentoring.cycle.open_call",
        "mentoring.cycle.call_open",
    ]
    assert {e["resource"]["prefect.resource.id"] for e in emitted} == {"mentoring.cycle.2026"}
    assert emitted[0]["payload"] == {
        "year": 2026,
        "source": "planned",
        "target": "call_open",
        "event": "open_call",
    }


def test_the_daily_tick_moves_the_healthy_cycle_and_fails_naming_the_poisoned_one(
    cycle_2026: UnitOfWork, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    cycles.create_cycle(
        cycle_2026,
        2027,
        timezone="America/Chicago",
        milestones={CycleEvent.open_call: "2026-08-01"},
        actor="chair",
    )
    with db.engine_for(database_url).begin() as conn:
        conn.execute(text("UPDATE cycles SET timezone = 'America' WHERE year = 2026"))
    with caplog.at_level(logging.INFO):
        state = daily_tick(now=datetime(2026, 8, 2, 12, tzinfo=UTC), return_state=True)
    assert state.is_failed()
    run_log = [r for r in caplog.records if r.name.startswith("prefect")]
    assert any(
        r.levelno == logging.ERROR and r.getMessage().startswith("cycle 2026 could not move")
        for r in run_log
    )
    assert not any(r.exc_info or "Traceback" in r.getMessage() for r in run_log)
    assert "cycle 2026 could not move" in str(state.message)
    assert "America" in str(state.message) and "2027" not in str(state.message)
    report = state.result(raise_on_failure=False)
    assert [f["year"] for f in report["failed"]] == [2026]
    assert [(t["year"], t["event"]) for t in report["transitions"]] == [(2027, "open_call")]
    (opened,) = audit.history(cycle_2026, 2027).transitions
    assert opened.flow_run_id == str(state.state_details.flow_run_id)
    assert cycles.describe(cycle_2026, 2027).state == "call_open"


def test_a_daily_tick_with_every_cycle_healthy_completes_with_its_report(
    cycle_2026: UnitOfWork,
) -> None:
    state = daily_tick(now=datetime(2026, 8, 2, 12, tzinfo=UTC), return_state=True)
    assert state.is_completed()
    report = state.result()
    assert report["failed"] == []
    assert [(t["year"], t["event"]) for t in report["transitions"]] == [(2026, "open_call")]
