"""The committee's steps, one flow (and one deployment) each, in the committee's words.

Each form asks only what a person fills in: the year (empty for the current cycle), their
name, and a reason. A refusal by the program's rules ends the run at once, Failed, with
one sentence that speaks of the form's boxes (never a command-line flag) and no
traceback; a step taken ends Completed with a sentence saying where the cycle now stands.
The event-driven ``cycle-transition`` deployment (flows/cycle_transition.py) keeps the
machine parameters (event, trigger, when_due) for automations.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from prefect import Flow, State, flow, get_run_logger, task
from prefect.states import Completed, Failed

import flows.failed_echo  # noqa: F401  (no traceback after a refusal)
from domain.cycle_states import STEP_NAMES, CycleEvent, CycleState, Trigger
from domain.errors import CycleNotFound, DomainError, MissingValue, TransitionRefused
from domain.time_words import moment_words
from domain.values import InvalidValue
from flows.cycle_transition import database_trouble
from flows.orchestration import announce_transition, current_flow_run_id, publish_cycle_summary
from flows.usecases.cycles import TransitionResult, describe, fire_event, list_all
from infra.db import DatabaseUnusable
from infra.uow import UnitOfWork

STATE_WORDS: Mapping[CycleState, str] = {
    CycleState.planned: "planned (its call for applications has not opened)",
    CycleState.call_open: "open for applications",
    CycleState.applications_closed: "closed for applications (pairings under review)",
    CycleState.paired: "paired (the pairings are announced)",
    CycleState.orientation: "in orientation",
    CycleState.active: "in formal mentoring",
    CycleState.ended: "ended (the assessment is under way)",
    CycleState.assessed: "finished (its assessment is recorded)",
    CycleState.cancelled: "cancelled",
}

FORM_BOXES: Mapping[str, str] = {"actor": "Your name", "reason": "Reason", "year": "Year"}
"""The form's box for each value the use cases name (``actor`` is the Your name box)."""

ASK_THE_SERVER = "ask whoever runs the server"

NEW_YEAR_FORM = "Start a new year"
"""The committee's form that creates a year's cycle (flows/committee_new_year.py)."""

REVIEW_FORM = "Review the pairings"
"""The committee's form that proposes the pairings and waits for the committee's answer
(flows/pairing_review.py)."""

NEW_YEAR_WORDS = f"the “{NEW_YEAR_FORM}” form"


class NoCurrentCycle(DomainError):
    """The Year box was left empty and no cycle is in progress."""


def _quoted(steps: list[str]) -> str:
    names = [f"“{step}”" for step in steps]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _sentence(text: str) -> str:
    """A domain message as a sentence: capital first letter, one full stop."""
    text = text.strip().rstrip(".")
    return text[:1].upper() + text[1:] + "."


def chosen_year(uow: UnitOfWork, year: str) -> int:
    """The year typed in the Year box, or the current cycle's: the latest not finished."""
    typed = year.strip()
    if typed:
        if not typed.isdigit() or len(typed) != 4:
            raise InvalidValue(
                "year",
                f"The Year box holds {typed!r}: write a year such as 2026, or leave it empty "
                "for the current cycle.",
            )
        return int(typed)
    in_progress = [view.year for view in list_all(uow) if not view.state.is_final]
    if not in_progress:
        raise NoCurrentCycle(
            "No cycle is in progress: write the year in the Year box, or start one with "
            f"{NEW_YEAR_WORDS}."
        )
    return max(in_progress)


def refusal_sentence(refusal: DomainError, event: CycleEvent | None = None) -> str:
    """The one sentence the form's run ends with: the refusal in the form's words, naming
    its boxes where the CLI would name a flag (the CLI's counterpart: flows/cli/hints.py).
    ``event`` is the step's, for a step's form; other forms (imports, history) take none."""
    what = f"“{STEP_NAMES[event]}”" if event is not None else "This run"
    if isinstance(refusal, NoCurrentCycle):
        return str(refusal)
    if isinstance(refusal, MissingValue):
        return _missing(refusal)
    if isinstance(refusal, InvalidValue):
        return _invalid(refusal)
    if isinstance(refusal, TransitionRefused) and event is not None:
        return _transition_refused(refusal, event)
    if isinstance(refusal, CycleNotFound):
        which = f"cycle {refusal.year}" if refusal.year is not None else "such cycle"
        return f"There is no {which}: check the Year box, or start it with {NEW_YEAR_WORDS}."
    if isinstance(refusal, DatabaseUnusable):
        return _sentence(
            f"{what} could not start: the program's database cannot be used ({refusal}); "
            f"{ASK_THE_SERVER}"
        )
    return _sentence(str(refusal))


def _missing(refusal: MissingValue) -> str:
    if refusal.field == "actor":
        return (
            "Write your name in the Your name box: the cycle's history records who took each step."
        )
    if refusal.field == "reason":
        return "Give a reason in the Reason box."
    return _sentence(str(refusal))


def _invalid(refusal: InvalidValue) -> str:
    box = FORM_BOXES.get(refusal.field)
    text = refusal.reason
    if box is None or not text.startswith(refusal.field):
        return _sentence(text)
    return _sentence(f"The {box} box{text[len(refusal.field) :]}")


def _transition_refused(refusal: TransitionRefused, event: CycleEvent) -> str:
    step, year = STEP_NAMES[event], refusal.year
    if refusal.missing == "approved_pairings":
        return (
            f"The pairings of cycle {year} are not approved yet: approve them first with "
            f"“{REVIEW_FORM}” (its paused run, the Resume button)."
        )
    if refusal.missing == "reason" and event is CycleEvent.cancel:
        return f"Cancelling cycle {year} needs a reason: write it in the Reason box."
    view = describe(UnitOfWork.from_settings(), year)
    if refusal.missing == "reason":
        due = view.calendar.get(str(event))
        when = (
            f"is set for {moment_words(datetime.fromisoformat(due), view.timezone)}"
            if due
            else "has no date on the calendar yet"
        )
        return (
            f"“{step}” for cycle {year} {when}; to take this step before then, write why "
            "in the Reason box."
        )
    state = STATE_WORDS[view.state]
    if view.state.is_final:
        return f"Cycle {year} is {state}: no step can be taken on it any more."
    open_steps = _quoted([STEP_NAMES[e] for e in view.allowed_events])
    return (
        f"Cycle {year} is {state}, so “{step}” cannot be taken now; the steps open are "
        f"{open_steps}."
    )


def done_sentence(result: TransitionResult, actor: str) -> str:
    """A step's outcome as the run's state message and first log line."""
    target = STATE_WORDS[CycleState(result.target)]
    if not result.changed:
        return f"Cycle {result.year} is already {target}; nothing was changed."
    step = STEP_NAMES[CycleEvent(result.event)]
    held = "".join(f" Not sent: {_sentence(line)}" for line in result.not_sent)
    return (
        f"Cycle {result.year} is now {target} (“{step}”, by {actor}): "
        f"{_plural(result.messages, 'message')} to send, {_plural(result.tasks, 'task')} created."
        f"{held}"
    )


@dataclass(frozen=True)
class StepOutcome:
    """The sentence a step ends with, and what it did (None when it was refused)."""

    sentence: str
    result: TransitionResult | None = None


@task(name="take-the-step", retries=2, retry_delay_seconds=5, retry_condition_fn=database_trouble)
def _take(
    event: CycleEvent, year: str, actor: str, reason: str, flow_run_id: str | None
) -> StepOutcome:
    """Fire the step and log its sentence (the run's first line of its own). A refusal comes
    back as a value, not an exception, so the run ends at once without a traceback; only
    database trouble is retried."""
    logger = get_run_logger()
    try:
        uow = UnitOfWork.from_settings()
        result = fire_event(
            uow,
            chosen_year(uow, year),
            event,
            actor=actor,
            trigger=Trigger.manual,
            reason=reason or None,
            flow_run_id=flow_run_id,
        )
    except DomainError as refusal:
        sentence = refusal_sentence(refusal, event)
        logger.error(sentence)
        return StepOutcome(sentence)
    sentence = done_sentence(result, actor.strip())
    logger.info(sentence)
    return StepOutcome(sentence, result)


def take_step(event: CycleEvent, year: str, your_name: str, reason: str) -> State[Any]:
    """What every step flow does: fire, then announce, report and end in its sentence."""
    outcome = _take(event, year, your_name, reason.strip(), current_flow_run_id())
    if outcome.result is None:
        return Failed(message=outcome.sentence)
    if outcome.result.changed:
        announce_transition(outcome.result)
    publish_cycle_summary(UnitOfWork.from_settings(), outcome.result.year, outcome.sentence)
    return Completed(message=outcome.sentence, data=outcome.result.as_dict())


_ARGS = """

    Args:
        your_name: Your name: the cycle's history records who took each step.
        year: The cycle's year, the year its call opens (2026 runs from August 2026 to July
            2027). Leave it empty for the current cycle.
        reason: {reason}
    """
_WHEN_EARLY = (
    "Why you take this step now. Needed only before its date on the calendar; the\n"
    "            run says so if it is."
)
_STEP_HELP: dict[CycleEvent, tuple[str, str]] = {
    CycleEvent.open_call: (
        "Open the call for applications (August): Core members may apply as mentor, mentee\n"
        "    or both.",
        _WHEN_EARLY,
    ),
    CycleEvent.close_applications: (
        "Close the application period (end of September); the committee then reviews the\n"
        "    applications and pairs the participants.",
        _WHEN_EARLY,
    ),
    CycleEvent.announce_pairings: (
        "Tell mentors and mentees their pairings (early November). Needs the pairings the\n"
        "    committee approved in the pairing review.",
        _WHEN_EARLY,
    ),
    CycleEvent.start_orientation: ("Begin training and orientation (late November).", _WHEN_EARLY),
    CycleEvent.start_mentoring: (
        "Begin formal mentoring (December); it runs six months.",
        _WHEN_EARLY,
    ),
    CycleEvent.end_mentoring: (
        "End formal mentoring (end of June); pairs may go on on their own, outside the program.",
        _WHEN_EARLY,
    ),
    CycleEvent.complete_assessment: (
        "Close the July assessment and record its response rate. Final: the year is done.",
        _WHEN_EARLY,
    ),
    CycleEvent.cancel: (
        "Cancel a year's cycle. Final: it cannot be undone, and no further step can be taken.",
        "Why the year is cancelled (required): the cycle's history keeps it.",
    ),
}


def step_flow(event: CycleEvent) -> Flow[..., State[Any]]:
    """The flow of one step: the same three boxes, its own name and help (Prefect reads the
    form's help from the function's docstring, so each flow gets its own)."""

    def step(your_name: str, year: str = "", reason: str = "") -> State[Any]:
        return take_step(event, year, your_name, reason)

    summary, reason_help = _STEP_HELP[event]
    step.__doc__ = summary + _ARGS.format(reason=reason_help)
    step.__name__ = step.__qualname__ = STEP_NAMES[event].lower().replace(" ", "_")
    return flow(name=STEP_NAMES[event])(step)


open_the_call = step_flow(CycleEvent.open_call)
close_applications = step_flow(CycleEvent.close_applications)
announce_the_pairings = step_flow(CycleEvent.announce_pairings)
begin_orientation = step_flow(CycleEvent.start_orientation)
begin_mentoring = step_flow(CycleEvent.start_mentoring)
end_mentoring = step_flow(CycleEvent.end_mentoring)
record_the_assessment = step_flow(CycleEvent.complete_assessment)
cancel_this_year = step_flow(CycleEvent.cancel)

STEP_FLOWS = {
    CycleEvent.open_call: open_the_call,
    CycleEvent.close_applications: close_applications,
    CycleEvent.announce_pairings: announce_the_pairings,
    CycleEvent.start_orientation: begin_orientation,
    CycleEvent.start_mentoring: begin_mentoring,
    CycleEvent.end_mentoring: end_mentoring,
    CycleEvent.complete_assessment: record_the_assessment,
    CycleEvent.cancel: cancel_this_year,
}
"""Each event's flow, for tests and for anyone wiring a step by its event."""
