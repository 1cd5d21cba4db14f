"""The vocabulary of the annual cycle: its states, events and triggers (SPEC values)."""

from enum import StrEnum


class CycleState(StrEnum):
    """Where a cycle stands; the values are the public contract."""

    planned = "planned"
    call_open = "call_open"
    applications_closed = "applications_closed"
    paired = "paired"
    orientation = "orientation"
    active = "active"
    ended = "ended"
    assessed = "assessed"
    cancelled = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATES


FINAL_STATES = frozenset({CycleState.assessed, CycleState.cancelled})


class CycleEvent(StrEnum):
    """What moves a cycle on; each forward event has a milestone on the calendar."""

    open_call = "open_call"
    close_applications = "close_applications"
    announce_pairings = "announce_pairings"
    start_orientation = "start_orientation"
    start_mentoring = "start_mentoring"
    end_mentoring = "end_mentoring"
    complete_assessment = "complete_assessment"
    cancel = "cancel"


class Trigger(StrEnum):
    """Who or what fired an event, as the audit log records it."""

    manual = "manual"
    schedule = "schedule"
    cli = "cli"
    event = "event"
    site = "site"  # a member, on the participants' site


FORWARD_EVENTS: tuple[CycleEvent, ...] = tuple(e for e in CycleEvent if e is not CycleEvent.cancel)

TARGET_OF: dict[CycleEvent, CycleState] = {
    CycleEvent.open_call: CycleState.call_open,
    CycleEvent.close_applications: CycleState.applications_closed,
    CycleEvent.announce_pairings: CycleState.paired,
    CycleEvent.start_orientation: CycleState.orientation,
    CycleEvent.start_mentoring: CycleState.active,
    CycleEvent.end_mentoring: CycleState.ended,
    CycleEvent.complete_assessment: CycleState.assessed,
    CycleEvent.cancel: CycleState.cancelled,
}

STEP_NAMES: dict[CycleEvent, str] = {
    CycleEvent.open_call: "Open the call for applications",
    CycleEvent.close_applications: "Close applications",
    CycleEvent.announce_pairings: "Announce the pairings",
    CycleEvent.start_orientation: "Begin orientation",
    CycleEvent.start_mentoring: "Begin mentoring",
    CycleEvent.end_mentoring: "End mentoring",
    CycleEvent.complete_assessment: "Record the assessment",
    CycleEvent.cancel: "Cancel this year",
}
"""Each step in the committee's words: its deployment's and flow's name, and how the
cycle's pages name it."""

DESCRIPTIONS: dict[CycleEvent, str] = {
    CycleEvent.open_call: "Open the call for applications (August): Core members may apply "
    "as mentor, mentee or both.",
    CycleEvent.close_applications: "Close the application period (end of September); "
    "the committee reviews applications and pairs participants.",
    CycleEvent.announce_pairings: "Notify mentors and mentees of their pairings (early "
    "November). Needs a pairing set the committee approved.",
    CycleEvent.start_orientation: "Begin training and orientation (late November).",
    CycleEvent.start_mentoring: "Begin formal mentoring (December); it runs six months.",
    CycleEvent.end_mentoring: "End formal mentoring (end of June); pairs may go on on their "
    "own, outside the program.",
    CycleEvent.complete_assessment: "Close the July assessment and record the response rate.",
    CycleEvent.cancel: "Cancel this year's cycle (a reason is required). Final.",
}
