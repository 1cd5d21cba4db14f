"""Where a member stands: whether the call is open, and what became of an application.

Pure rules the participants' site and the committee's list share: the call is open for
applying in ``call_open`` between its opening and closing milestones; an application is
received, withdrawn, paired, on the waiting list, or not paired (and why).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.applications import ApplicationStatus
from domain.cycle import Cycle
from domain.cycle_states import CycleEvent, CycleState
from domain.enrolment import Enrolment
from domain.pairs import LeftOut

ANNOUNCED_STATES = frozenset(
    {
        CycleState.paired,
        CycleState.orientation,
        CycleState.active,
        CycleState.ended,
        CycleState.assessed,
    }
)
"""States in which the pairings have been announced (a cancelled cycle shows none)."""

STATE_WORDS: Mapping[CycleState, str] = {
    CycleState.planned: "planned",
    CycleState.call_open: "call for applications open",
    CycleState.applications_closed: "applications closed; pairings being prepared",
    CycleState.paired: "pairings announced",
    CycleState.orientation: "orientation",
    CycleState.active: "mentoring under way",
    CycleState.ended: "formal mentoring ended; assessment",
    CycleState.assessed: "assessed (finished)",
    CycleState.cancelled: "cancelled",
}


class ApplicationState(StrEnum):
    """What became of an application, as the committee's list gives it."""

    received = "received"
    withdrawn = "withdrawn"
    paired = "paired"
    waiting = "waiting_list"
    not_paired = "not_paired"

    @property
    def words(self) -> str:
        return {
            ApplicationState.received: "received",
            ApplicationState.withdrawn: "withdrawn",
            ApplicationState.paired: "paired",
            ApplicationState.waiting: "on the waiting list",
            ApplicationState.not_paired: "not paired",
        }[self]


@dataclass(frozen=True)
class Outcome:
    """An application's state, and for one not paired, the reason the set gave."""

    state: ApplicationState
    reason: str | None = None

    @property
    def words(self) -> str:
        if self.state is ApplicationState.not_paired and self.reason:
            return f"not paired because {self.reason}"
        return self.state.words


def outcome(
    enrolment: Enrolment, paired: Iterable[str], left_out: Mapping[str, LeftOut]
) -> Outcome:
    """An application's outcome given the approved set's active pairs' members
    (``paired``) and who the set left out; before any approved set, ``received``."""
    if enrolment.status is ApplicationStatus.withdrawn:
        return Outcome(ApplicationState.withdrawn)
    if enrolment.member_id in set(paired):
        return Outcome(ApplicationState.paired)
    waiting = left_out.get(enrolment.member_id)
    if waiting is None:
        return Outcome(ApplicationState.received)
    if waiting.position is not None:
        return Outcome(ApplicationState.waiting, waiting.reason)
    return Outcome(ApplicationState.not_paired, waiting.reason)


def call_is_open(cycle: Cycle, now: datetime) -> bool:
    """Members may apply: the cycle is in ``call_open`` (on its date, or earlier when the
    committee opened it early) and its deadline has not passed."""
    closes = cycle.calendar.due_at(CycleEvent.close_applications)
    return cycle.state is CycleState.call_open and closes is not None and now <= closes


def open_call(cycles: Iterable[Cycle], now: datetime) -> Cycle | None:
    """The cycle whose call is open at ``now`` (the latest, should two be)."""
    found = [c for c in cycles if call_is_open(c, now)]
    return max(found, key=lambda c: c.year, default=None)


def next_call_opens(cycles: Iterable[Cycle], now: datetime) -> datetime | None:
    """When the next call opens: the earliest opening still ahead of a cycle not yet
    open (None: the committee has not planned one)."""
    ahead = [
        opens
        for c in cycles
        if c.state is CycleState.planned
        and (opens := c.calendar.due_at(CycleEvent.open_call)) is not None
        and opens > now
    ]
    return min(ahead, default=None)


MILESTONE_WORDS: Mapping[CycleEvent, str] = {
    CycleEvent.open_call: "Call for applications opens",
    CycleEvent.close_applications: "Applications close",
    CycleEvent.announce_pairings: "Pairings announced",
    CycleEvent.start_orientation: "Orientation",
    CycleEvent.start_mentoring: "Formal mentoring begins",
    CycleEvent.end_mentoring: "Formal mentoring ends",
    CycleEvent.complete_assessment: "Assessment closes",
}
"""Each milestone as a member reads it on the program's dates."""


def partners_shown(state: CycleState) -> bool:
    """A member sees their partners once the pairings are announced (not when cancelled)."""
    return state in ANNOUNCED_STATES
