"""The annual cycle as a state machine, and the rule for firing one event on it.

The machine only declares states, transitions and named guards; the guards are
predicates on :class:`Cycle`, the plain domain object. The machine is built lazily
around a loaded cycle (python-statemachine's ``MachineMixin`` does not run on rows that
SQLAlchemy loads), fired, and thrown away.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from statemachine import Event, StateMachine
from statemachine.exceptions import TransitionNotAllowed
from statemachine.states import States

from domain.calendar import CycleCalendar
from domain.cycle_states import TARGET_OF, CycleEvent, CycleState, Trigger
from domain.errors import TransitionRefused


@dataclass
class Cycle:
    """One year's program: its state, calendar and what the guards need to know."""

    year: int
    calendar: CycleCalendar
    state: CycleState = CycleState.planned
    has_approved_pairings: bool = False

    def reason_given(self, reason: str | None = None) -> bool:
        """Cancelling a cycle is never silent: the committee says why."""
        return bool(reason and reason.strip())

    def approved_pairings(self) -> bool:
        """Pairings are announced only once the committee has approved a set."""
        return self.has_approved_pairings

    def due_or_explained(
        self, event: Event, now: datetime, trigger: Trigger, reason: str | None = None
    ) -> bool:
        """Before its date, an event fires only by hand and with a recorded reason."""
        if self.calendar.is_due(CycleEvent(event.id), now):
            return True
        return trigger is not Trigger.schedule and self.reason_given(reason)


class CycleMachine(StateMachine):
    """planned → call_open → applications_closed → paired → orientation → active → ended
    → assessed, with ``cancel`` from any non-final state."""

    s = States.from_enum(
        CycleState,
        initial=CycleState.planned,
        final=[CycleState.assessed, CycleState.cancelled],
        use_enum_instance=True,
    )

    open_call = s.planned.to(s.call_open, cond="due_or_explained")
    close_applications = s.call_open.to(s.applications_closed, cond="due_or_explained")
    announce_pairings = s.applications_closed.to(
        s.paired, cond=["approved_pairings", "due_or_explained"]
    )
    start_orientation = s.paired.to(s.orientation, cond="due_or_explained")
    start_mentoring = s.orientation.to(s.active, cond="due_or_explained")
    end_mentoring = s.active.to(s.ended, cond="due_or_explained")
    complete_assessment = s.ended.to(s.assessed, cond="due_or_explained")
    cancel = (
        s.planned.to(s.cancelled, cond="reason_given")
        | s.call_open.to(s.cancelled, cond="reason_given")
        | s.applications_closed.to(s.cancelled, cond="reason_given")
        | s.paired.to(s.cancelled, cond="reason_given")
        | s.orientation.to(s.cancelled, cond="reason_given")
        | s.active.to(s.cancelled, cond="reason_given")
        | s.ended.to(s.cancelled, cond="reason_given")
    )


def machine_for(cycle: Cycle) -> CycleMachine:
    """Wrap a loaded cycle; the machine writes the new state back to ``cycle.state``."""
    return CycleMachine(cycle, state_field="state")


def events_from(state: CycleState) -> list[CycleEvent]:
    """The events the machine has a transition for in ``state`` (guards not evaluated)."""
    sm = CycleMachine(Cycle(0, CycleCalendar("UTC"), state=state), state_field="state")
    return [CycleEvent(e.id) for e in sm.allowed_events]


@dataclass(frozen=True)
class Decision:
    """What firing an event did to a cycle: moved it, or found it already there."""

    event: CycleEvent
    source: CycleState
    target: CycleState
    changed: bool
    early: bool = False


def fire(
    cycle: Cycle,
    event: CycleEvent,
    *,
    now: datetime,
    trigger: Trigger,
    reason: str | None = None,
) -> Decision:
    """Apply ``event`` to ``cycle`` in place, or refuse with a message naming what is allowed.

    Firing an event whose target is the current state is an idempotent no-op, so a
    duplicate scheduled run or a second click changes nothing.
    """
    source = cycle.state
    if TARGET_OF[event] is source:
        return Decision(event, source, source, changed=False)
    if event not in events_from(source):
        raise TransitionRefused(_not_allowed(cycle, event), year=cycle.year)
    early = event is not CycleEvent.cancel and not cycle.calendar.is_due(event, now)
    kwargs: dict[str, Any] = {"now": now, "trigger": trigger, "reason": reason}
    try:
        machine_for(cycle).send(str(event), **kwargs)
    except TransitionNotAllowed as err:
        raise _guard_failed(cycle, event, now, trigger) from err
    return Decision(event, source, cycle.state, changed=True, early=early)


def _not_allowed(cycle: Cycle, event: CycleEvent) -> str:
    allowed = ", ".join(events_from(cycle.state)) or "none (the cycle is final)"
    return (
        f"cannot {event}: cycle {cycle.year} is in state {cycle.state}; "
        f"events allowed now: {allowed}"
    )


def _guard_failed(
    cycle: Cycle, event: CycleEvent, now: datetime, trigger: Trigger
) -> TransitionRefused:
    prefix = f"cannot {event} cycle {cycle.year} (state {cycle.state})"
    if event is CycleEvent.cancel:
        return TransitionRefused(
            f"{prefix}: a reason is required to cancel", year=cycle.year, missing="reason"
        )
    if event is CycleEvent.announce_pairings and not cycle.has_approved_pairings:
        return TransitionRefused(
            f"{prefix}: no approved pairing set yet; the committee must approve one first",
            year=cycle.year,
            missing="approved_pairings",
        )
    due = cycle.calendar.due_at(event)
    due_text = due.isoformat() if due else "unscheduled"
    if trigger is Trigger.schedule:
        return TransitionRefused(f"{prefix}: not due until {due_text}", year=cycle.year)
    return TransitionRefused(
        f"{prefix}: its milestone is {due_text}; firing it early needs a reason",
        year=cycle.year,
        missing="reason",
    )
