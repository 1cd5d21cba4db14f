"""The committee's form to start a year: the year's cycle, planned, on the default calendar.

The form asks only the year (empty: the next one) and the person's name; it creates the
cycle as ``mentoring cycle create YEAR`` does (flows/usecases/cycles.py), in Chicago time,
its history record naming the run (trigger ``manual``, the flow run id) as a step's does,
then emits ``mentoring.cycle.created`` and ``mentoring.cycle.planned`` (as a step emits
what it did and the state reached) and publishes the cycle's status page. A year that
already has its cycle, or a Year box that holds no year, ends the run at once, Failed,
with one sentence and no traceback.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from prefect import State, flow, get_run_logger, task
from prefect.events import emit_event
from prefect.states import Completed, Failed

import flows.failed_echo  # noqa: F401  (no traceback after a refusal)
from domain.calendar import DEFAULT_TIMEZONE, CycleCalendar
from domain.cycle_states import CycleEvent, CycleState, Trigger
from domain.errors import DomainError
from domain.time_words import marked_moment
from domain.values import FIRST_CYCLE_YEAR, LAST_CYCLE_YEAR, InvalidValue, actor_name
from flows.committee_steps import NEW_YEAR_FORM, STATE_WORDS, refusal_sentence
from flows.cycle_transition import database_trouble
from flows.orchestration import current_flow_run_id, cycle_resource, publish_cycle_summary
from flows.usecases.clock import utcnow
from flows.usecases.cycles import CycleView, create_cycle, describe, list_all
from infra.uow import UnitOfWork

CREATED = "created"
"""What a new year's first event says happened (no step and no state is so named)."""


class YearExists(DomainError):
    """The year asked for has its cycle already."""


@dataclass(frozen=True)
class NewYearOutcome:
    """The sentence the form's run ends with, and the year started (None when refused)."""

    sentence: str
    year: int | None = None


def upcoming_year(now: datetime) -> int:
    """The first year whose call for applications, on the default calendar, is still to
    come: this year's until it opens on August 1, then next year's."""
    year = now.year
    while _opens(year) <= now:
        year += 1
    return year


def _opens(year: int) -> datetime:
    return CycleCalendar.default(year, DEFAULT_TIMEZONE).milestone(CycleEvent.open_call)


def year_to_start(uow: UnitOfWork, typed: str, now: datetime) -> int:
    """The year typed in the Year box; empty: the year after the latest cycle, or, when
    that year's call has opened already (or there is no cycle yet), the upcoming year."""
    text = typed.strip()
    if not text:
        latest = max((view.year for view in list_all(uow)), default=None)
        upcoming = upcoming_year(now)
        return upcoming if latest is None else max(latest + 1, upcoming)
    if not text.isdigit() or len(text) != 4:
        raise InvalidValue(
            "year",
            f"The Year box holds {text!r}: write a year such as {upcoming_year(now)}, or "
            "leave it empty for the next year.",
        )
    if not FIRST_CYCLE_YEAR <= int(text) <= LAST_CYCLE_YEAR:
        raise InvalidValue(
            "year",
            f"The Year box holds {text}: a cycle's year is between {FIRST_CYCLE_YEAR} and "
            f"{LAST_CYCLE_YEAR}.",
        )
    return int(text)


def _refuse_existing(uow: UnitOfWork, year: int) -> None:
    existing = {view.year: view for view in list_all(uow)}.get(year)
    if existing is not None:
        raise YearExists(_exists_sentence(existing))


def _exists_sentence(view: CycleView) -> str:
    return (
        f"Cycle {view.year} already exists and is {STATE_WORDS[view.state]}: nothing was "
        "changed; write another year in the Year box, or leave it empty for the next one."
    )


def started_sentence(view: CycleView, actor: str, now: datetime) -> str:
    """The year started, with its first dates in the cycle's zone ("(passed)" if so)."""

    def when(event: CycleEvent) -> str:
        at = datetime.fromisoformat(view.calendar[str(event)])
        return marked_moment(at, view.timezone, now, with_year=True)

    return (
        f"Cycle {view.year} is started (by {actor}) and planned: its call for applications "
        f"opens {when(CycleEvent.open_call)} and closes {when(CycleEvent.close_applications)}"
        f"; the pairings are announced {when(CycleEvent.announce_pairings)}."
    )


@task(name="start-the-year", retries=2, retry_delay_seconds=5, retry_condition_fn=database_trouble)
def _start(year: str, your_name: str, flow_run_id: str | None) -> NewYearOutcome:
    """Create the cycle and log its sentence. A refusal comes back as a value, not an
    exception, so the run ends at once without a traceback; only database trouble is
    retried."""
    logger = get_run_logger()
    now = utcnow()
    try:
        uow = UnitOfWork.from_settings()
        actor = actor_name(your_name)
        chosen = year_to_start(uow, year, now)
        _refuse_existing(uow, chosen)
        creation = create_cycle(
            uow,
            chosen,
            timezone=DEFAULT_TIMEZONE,
            milestones={},
            actor=actor,
            now=now,
            trigger=Trigger.manual,
            flow_run_id=flow_run_id,
        )
        view = describe(uow, chosen)
        if not creation.created:  # another run created it a moment ago
            raise YearExists(_exists_sentence(view))
    except DomainError as refusal:
        sentence = refusal_sentence(refusal)
        logger.error(sentence)
        return NewYearOutcome(sentence)
    sentence = started_sentence(view, actor, now)
    logger.info(sentence)
    return NewYearOutcome(sentence, chosen)


def announce_creation(year: int) -> None:
    """Emit the year's creation and the state it starts in, as a step emits what it did
    and the state reached, so deployment triggers can react to a new year."""
    payload = {"year": year, "event": CREATED, "target": str(CycleState.planned)}
    for name in (CREATED, CycleState.planned):
        emit_event(event=f"mentoring.cycle.{name}", resource=cycle_resource(year), payload=payload)


@flow(name=NEW_YEAR_FORM)
def start_a_new_year(your_name: str, year: str = "") -> State[Any]:
    """Start a year's cycle: it is planned, with the usual calendar in Chicago time (the
    call for applications opens August 1 and closes September 30, the pairings are
    announced November 5, mentoring runs from December 1 to June 30, the assessment closes
    August 1). Each step is then taken with its own form, or by the daily check on its date.

    Args:
        your_name: Your name: the cycle's history records who started the year.
        year: The year whose call for applications opens (2027 runs from August 2027 to
            July 2028). Leave it empty for the next year: the one after the latest cycle,
            or, if that year's call has opened already, the first year whose call is
            still to come.
    """
    outcome = _start(year, your_name, current_flow_run_id())
    if outcome.year is None:
        return Failed(message=outcome.sentence)
    announce_creation(outcome.year)
    publish_cycle_summary(UnitOfWork.from_settings(), outcome.year, outcome.sentence)
    return Completed(message=outcome.sentence, data={"year": outcome.year})
