"""What each cycle state allows: one table of the committee's activities and one check.

A use case asks :func:`require` before it changes anything; the refusal names the state
the cycle is in and where the activity is allowed, in the committee's words. Entry points
add their own hint (a flag, a form field) to the sentence; the domain names none.
"""

from collections.abc import Mapping
from enum import StrEnum

from domain.cycle_states import FINAL_STATES, CycleState
from domain.errors import DomainError


class Activity(StrEnum):
    """Something the committee (or a participant) does to a cycle outside its transitions."""

    intake = "intake"
    late_intake = "late_intake"
    pairing_review = "pairing_review"
    survey_answers = "survey_answers"
    withdrawal = "withdrawal"
    ending_pairs = "ending_pairs"
    repairing_offers = "repairing_offers"
    repairing_approval = "repairing_approval"
    call_list_details = "call_list_details"
    orientation_details = "orientation_details"
    rescheduling = "rescheduling"


_ANNOUNCED = frozenset({CycleState.paired, CycleState.orientation, CycleState.active})

ALLOWED: Mapping[Activity, frozenset[CycleState]] = {
    Activity.intake: frozenset({CycleState.call_open}),
    Activity.late_intake: frozenset({CycleState.call_open, CycleState.applications_closed}),
    Activity.pairing_review: frozenset({CycleState.applications_closed}),
    Activity.survey_answers: frozenset({CycleState.ended}),
    Activity.withdrawal: frozenset({CycleState.call_open, CycleState.applications_closed})
    | _ANNOUNCED,
    Activity.ending_pairs: _ANNOUNCED,
    Activity.repairing_offers: _ANNOUNCED,
    Activity.repairing_approval: _ANNOUNCED,
    Activity.call_list_details: frozenset({CycleState.planned}),
    Activity.orientation_details: frozenset(
        {
            CycleState.planned,
            CycleState.call_open,
            CycleState.applications_closed,
            CycleState.paired,
        }
    ),
    Activity.rescheduling: frozenset(CycleState) - FINAL_STATES,
}
"""The states in which each activity is allowed; every other state refuses it."""

PROGRAM_DETAILS: Mapping[Activity, tuple[str, ...]] = {
    Activity.call_list_details: ("call_list_address",),
    Activity.orientation_details: ("orientation_at", "orientation_minutes", "orientation_join_url"),
}
"""Program details a message carries: settable only until that message has gone out (the
call for applications, the orientation invitation); the others stay settable."""

_OVERRIDES: Mapping[Activity, Activity] = {Activity.intake: Activity.late_intake}


def _listing(names: list[str], last: str) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" {last} {names[-1]}"


def _states(activity: Activity) -> str:
    return _listing([str(s) for s in CycleState if s in ALLOWED[activity]], "or")


def _gone_out(activity: Activity) -> str:
    fields = _listing(list(PROGRAM_DETAILS[activity]), "and")
    return f"the message using {fields} has gone out; write to the participants instead"


def _where(activity: Activity) -> str:
    """Where ``activity`` is allowed, as the refusal says it."""
    if activity is Activity.intake:
        return "applications are accepted only while the call is open (call_open)"
    if activity is Activity.late_intake:
        return (
            "applications are accepted only while the call is open (call_open), and late "
            "ones until the pairings are announced (applications_closed)"
        )
    if activity is Activity.pairing_review:
        return (
            "pairings are proposed and approved after applications close and before they "
            "are announced (state applications_closed)"
        )
    if activity is Activity.survey_answers:
        return (
            "survey responses are imported only while it is ended (the July survey window, "
            "before complete_assessment)"
        )
    if activity is Activity.rescheduling:
        return (
            "its calendar is closed (milestones can be moved only before a cycle is assessed "
            "or cancelled)"
        )
    if activity in PROGRAM_DETAILS:
        return _gone_out(activity)
    what = {
        Activity.withdrawal: "participants can withdraw",
        Activity.ending_pairs: "pairs can be ended",
        Activity.repairing_offers: "re-pairing offers are made",
        Activity.repairing_approval: "re-pairings can be approved",
    }[activity]
    return f"{what} only while the cycle is in {_states(activity)}"


def is_allowed(activity: Activity, state: CycleState) -> bool:
    return state in ALLOWED[activity]


def override_for(activity: Activity, state: CycleState) -> Activity | None:
    """What the committee may choose instead in ``state`` (late intake once the call closed)."""
    other = _OVERRIDES.get(activity)
    return other if other is not None and is_allowed(other, state) else None


def refusal(activity: Activity, state: CycleState, year: int) -> str | None:
    """Why ``activity`` is refused in ``state``, or None when the state allows it."""
    if is_allowed(activity, state):
        return None
    sentence = f"cycle {year} is in state {state}: {_where(activity)}"
    if override_for(activity, state) is Activity.late_intake:
        sentence += "; the committee can accept late applications"
    return sentence


class ActivityRefused(DomainError):
    """An activity the cycle's state does not allow; entry points may add a hint (for
    ``override``, how to choose it)."""

    def __init__(self, activity: Activity, state: CycleState, year: int) -> None:
        message = refusal(activity, state, year)
        assert message is not None, f"{activity} is allowed in {state}"
        super().__init__(message)
        self.activity, self.state, self.year = activity, state, year

    @property
    def override(self) -> Activity | None:
        return override_for(self.activity, self.state)


def require(activity: Activity, state: CycleState, year: int) -> None:
    """Refuse ``activity`` unless cycle ``year``'s ``state`` allows it."""
    if not is_allowed(activity, state):
        raise ActivityRefused(activity, state, year)


def details_activity(name: str) -> Activity | None:
    """The activity that setting program detail ``name`` is, if a message carries it."""
    return next((a for a, names in PROGRAM_DETAILS.items() if name in names), None)
