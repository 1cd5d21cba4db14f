"""What the daily tick should do to a cycle at a given moment."""

from datetime import datetime

from domain.cycle import Cycle, events_from
from domain.cycle_states import CycleEvent


def next_milestone(cycle: Cycle) -> CycleEvent | None:
    """The forward event the cycle waits for in its current state (None when final)."""
    forward = [e for e in events_from(cycle.state) if e is not CycleEvent.cancel]
    return forward[0] if forward else None


def due_event(cycle: Cycle, now: datetime) -> CycleEvent | None:
    """The next event if its milestone has come; a tick fires these one after another,
    so days the server missed are caught up in order."""
    event = next_milestone(cycle)
    if event is None or not cycle.calendar.is_due(event, now):
        return None
    return event
