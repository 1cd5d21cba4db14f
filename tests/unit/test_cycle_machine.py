"""The cycle state machine without a database: paths, refusals, guards, finals."""

from datetime import UTC, datetime

import pytest

from domain.calendar import CycleCalendar
from domain.cycle import Cycle, events_from, fire
from domain.cycle_states import (
    FINAL_STATES,
    FORWARD_EVENTS,
    TARGET_OF,
    CycleEvent,
    CycleState,
    Trigger,
)
from domain.errors import TransitionRefused

LONG_AFTER = datetime(2030, 1, 1, tzinfo=UTC)
BEFORE_ANYTHING = datetime(2026, 7, 1, tzinfo=UTC)
FORWARD_PATH = list(zip(FORWARD_EVENTS, list(CycleState)[1:8], strict=True))


def cycle_in(state: CycleState, approved: bool = True) -> Cycle:
    return Cycle(2026, CycleCalendar.default(2026), state=state, has_approved_pairings=approved)


def test_a_cycle_walks_the_whole_calendar_to_assessed() -> None:
    cycle = cycle_in(CycleState.planned)
    for event, expected in FORWARD_PATH:
        decision = fire(cycle, event, now=LONG_AFTER, trigger=Trigger.schedule)
        assert decision.changed and cycle.state is expected
    assert cycle.state is CycleState.assessed


@pytest.mark.parametrize("state", [s for s in CycleState if s not in FINAL_STATES])
def test_cancel_with_a_reason_works_from_every_open_state(state: CycleState) -> None:
    cycle = cycle_in(state)
    fire(cycle, CycleEvent.cancel, now=LONG_AFTER, trigger=Trigger.cli, reason="budget")
    assert cycle.state is CycleState.cancelled


@pytest.mark.parametrize("state", [s for s in CycleState if s not in FINAL_STATES])
def test_cancel_without_a_reason_is_refused(state: CycleState) -> None:
    cycle = cycle_in(state)
    with pytest.raises(TransitionRefused, match="reason is required"):
        fire(cycle, CycleEvent.cancel, now=LONG_AFTER, trigger=Trigger.cli, reason="  ")
    assert cycle.state is state


@pytest.mark.parametrize(
    ("state", "event"),
    [
        (state, event)
        for state in CycleState
        for event in CycleEvent
        if event not in events_from(state) and TARGET_OF[event] is not state
    ],
)
def test_every_disallowed_event_names_the_state_and_what_is_allowed(
    state: CycleState, event: CycleEvent
) -> None:
    cycle = cycle_in(state)
    with pytest.raises(TransitionRefused) as refusal:
        fire(cycle, event, now=LONG_AFTER, trigger=Trigger.cli, reason="r")
    message = str(refusal.value)
    assert f"state {state}" in message
    allowed = events_from(state)
    assert all(str(e) in message for e in allowed)
    if not allowed:
        assert "final" in message
    assert cycle.state is state


@pytest.mark.parametrize("final", sorted(FINAL_STATES))
def test_final_states_allow_no_event(final: CycleState) -> None:
    assert events_from(final) == []


def test_firing_the_event_of_the_current_state_again_changes_nothing() -> None:
    cycle = cycle_in(CycleState.call_open)
    decision = fire(cycle, CycleEvent.open_call, now=LONG_AFTER, trigger=Trigger.manual)
    assert not decision.changed and cycle.state is CycleState.call_open


def test_pairings_are_not_announced_without_an_approved_set() -> None:
    cycle = cycle_in(CycleState.applications_closed, approved=False)
    with pytest.raises(TransitionRefused, match="no approved pairing set"):
        fire(cycle, CycleEvent.announce_pairings, now=LONG_AFTER, trigger=Trigger.schedule)
    cycle.has_approved_pairings = True
    fire(cycle, CycleEvent.announce_pairings, now=LONG_AFTER, trigger=Trigger.schedule)
    assert cycle.state is CycleState.paired


@pytest.mark.parametrize("trigger", [Trigger.cli, Trigger.manual, Trigger.event])
def test_a_manual_trigger_before_the_milestone_needs_a_reason(trigger: Trigger) -> None:
    cycle = cycle_in(CycleState.planned)
    with pytest.raises(TransitionRefused, match="early needs a reason"):
        fire(cycle, CycleEvent.open_call, now=BEFORE_ANYTHING, trigger=trigger)
    decision = fire(
        cycle, CycleEvent.open_call, now=BEFORE_ANYTHING, trigger=trigger, reason="pilot year"
    )
    assert decision.early and cycle.state is CycleState.call_open


def test_the_schedule_never_fires_an_event_before_its_date() -> None:
    cycle = cycle_in(CycleState.planned)
    with pytest.raises(TransitionRefused, match="not due until 2026-08-01"):
        fire(
            cycle, CycleEvent.open_call, now=BEFORE_ANYTHING, trigger=Trigger.schedule, reason="any"
        )
    assert cycle.state is CycleState.planned


def test_a_milestone_that_has_come_needs_no_reason() -> None:
    cycle = cycle_in(CycleState.planned)
    at = cycle.calendar.due_at(CycleEvent.open_call)
    assert at is not None
    decision = fire(cycle, CycleEvent.open_call, now=at, trigger=Trigger.cli)
    assert decision.changed and not decision.early
