"""The committee's form to set the orientation session: when it starts, how long it lasts,
its video link.

It changes the cycle's program details as ``mentoring cycle program YEAR
--orientation-at …`` does (flows/usecases/program.py), so the same rules hold: the
session's details are refused once its invitations have gone out, and when they were held
back because the session had begun (a late start), setting a new session queues them and
closes the committee's task about them. A refusal ends the run at once, Failed, in one
sentence that names the form's boxes; the cycle's status page is published after.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from prefect import State, flow, get_run_logger, task
from prefect.states import Completed, Failed

import flows.failed_echo  # noqa: F401  (no traceback after a refusal)
from domain.calendar import wall_clock
from domain.errors import DomainError
from domain.followups import orientation_held_key
from domain.program import ProgramDetails
from domain.time_words import moment_words
from domain.values import actor_name
from flows.committee_steps import chosen_year, refusal_sentence
from flows.cycle_transition import database_trouble
from flows.orchestration import publish_cycle_summary
from flows.usecases import program
from flows.usecases.clock import utcnow
from flows.usecases.cycles import describe
from infra.uow import UnitOfWork

ORIENTATION_FORM = "Set the orientation session"

SESSION_BOXES: Mapping[str, str] = {
    "orientation_at": "Starts",
    "orientation_minutes": "Minutes",
    "orientation_join_url": "Video link",
}
"""The form's box for each program detail it sets."""


class SessionFormRefused(DomainError):
    """What was typed in the form cannot be read, said in the form's words."""


@dataclass(frozen=True)
class SessionOutcome:
    """The sentence the run ends with, and the year whose session was set (None if refused)."""

    sentence: str
    year: int | None = None


def session_values(starts: str, minutes: str, video_link: str) -> dict[str, Any]:
    """The program details the boxes set: only the boxes filled in."""
    values: dict[str, Any] = {}
    if starts.strip():
        values["orientation_at"] = starts.strip()
    if minutes.strip():
        if not minutes.strip().isdigit():
            raise SessionFormRefused(
                f"The Minutes box holds {minutes.strip()!r}: write how long the session "
                "lasts in minutes, such as 90."
            )
        values["orientation_minutes"] = int(minutes.strip())
    if video_link.strip():
        values["orientation_join_url"] = video_link.strip()
    if not values:
        raise SessionFormRefused(
            "Write when the session starts in the Starts box (and, if they change, its length "
            "in Minutes and its Video link)."
        )
    return values


def in_form_words(sentence: str) -> str:
    """A refusal that names a program detail, naming the form's box instead."""
    for detail, box in SESSION_BOXES.items():
        sentence = sentence.replace(detail.capitalize(), f"The {box} box")
        sentence = sentence.replace(detail, f"the {box} box")
    return sentence


def session_sentence(
    year: int, details: ProgramDetails, zone: str, actor: str, invited: bool
) -> str:
    """The session as set, on the cycle's clock, and what followed."""
    assert details.orientation_at is not None
    starts = wall_clock(datetime.fromisoformat(details.orientation_at), ZoneInfo(zone))
    link = f", {details.orientation_join_url}" if details.orientation_join_url else ""
    then = (
        " The invitations held back are queued for it, and the task about them is closed."
        if invited
        else ""
    )
    return (
        f"The orientation of cycle {year} is set for "
        f"{moment_words(starts, zone, with_year=True)}, {details.orientation_minutes} "
        f"minutes{link} (by {actor}).{then}"
    )


def _held(uow: UnitOfWork, year: int) -> bool:
    with uow:
        return any(t.key == orientation_held_key(year) for t in uow.tasks.open_of_cycle(year))


@task(name="set-the-session", retries=2, retry_delay_seconds=5, retry_condition_fn=database_trouble)
def _set(year: str, your_name: str, starts: str, minutes: str, video_link: str) -> SessionOutcome:
    """Set the session and log its sentence; a refusal comes back as a value, so the run
    ends at once without a traceback (only database trouble is retried)."""
    logger = get_run_logger()
    try:
        uow = UnitOfWork.from_settings()
        actor = actor_name(your_name)
        chosen = chosen_year(uow, year)
        values = session_values(starts, minutes, video_link)
        held = _held(uow, chosen)
        details = program.set_details(uow, chosen, values, actor=actor, now=utcnow())
        invited = held and not _held(uow, chosen)
        zone = describe(uow, chosen).timezone
    except DomainError as refusal:
        sentence = in_form_words(refusal_sentence(refusal))
        logger.error(sentence)
        return SessionOutcome(sentence)
    sentence = session_sentence(chosen, details, zone, actor, invited)
    logger.info(sentence)
    return SessionOutcome(sentence, chosen)


@flow(name=ORIENTATION_FORM)
def set_the_orientation_session(
    your_name: str, starts: str, year: str = "", minutes: str = "", video_link: str = ""
) -> State[Any]:
    """Set the orientation session that the invitations announce (late November by
    default, 1 PM on the orientation date, 90 minutes). Once the invitations have gone out
    the session can no longer be changed here: write to the participants instead. If the
    invitations were held back because the session had already begun, setting a new one
    sends them.

    Args:
        your_name: Your name: the cycle's history records who set the session.
        starts: When the session starts, on the cycle's clock (Chicago time unless the
            cycle has another zone), as year-month-day and hour:minute, such as
            2026-11-20 13:00.
        year: The cycle's year; leave it empty for the current cycle.
        minutes: How long the session lasts, in minutes (15 to 480); empty: as it is.
        video_link: The session's video-call link (https://…); empty: as it is.
    """
    outcome = _set(year, your_name, starts, minutes, video_link)
    if outcome.year is None:
        return Failed(message=outcome.sentence)
    publish_cycle_summary(UnitOfWork.from_settings(), outcome.year, outcome.sentence)
    return Completed(message=outcome.sentence, data={"year": outcome.year})
