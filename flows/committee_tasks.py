"""The committee's form to mark a task done, by the number the cycle's status page shows
beside each committee task (as ``mentoring tasks done ID`` does on the server).

Most tasks close by themselves when their work is done (approving the pairings, setting a
new orientation session, a participant's answer); this form is for the rest, such as
confirming that no orientation invitation goes after a late start. A refusal ends the run
at once, Failed, in one sentence; the cycle's status page is published after.
"""

from dataclasses import dataclass
from typing import Any

from prefect import State, flow, get_run_logger, task
from prefect.states import Completed, Failed

import flows.failed_echo  # noqa: F401  (no traceback after a refusal)
from domain.errors import DomainError
from domain.values import actor_name
from flows.committee_steps import refusal_sentence
from flows.cycle_transition import database_trouble
from flows.orchestration import publish_cycle_summary
from flows.usecases import followups
from flows.usecases.clock import utcnow
from infra.uow import UnitOfWork

TASK_FORM = "Mark a task done"


class TaskFormRefused(DomainError):
    """The Task number box names no task, said in the form's words."""


@dataclass(frozen=True)
class TaskOutcome:
    """The sentence the run ends with, and the cycle whose task it was (None if refused)."""

    sentence: str
    year: int | None = None


def task_number(typed: str) -> int:
    """The number typed in the Task number box."""
    text = typed.strip().removeprefix("no.").strip()
    if not text.isdigit() or len(text) > 9:
        raise TaskFormRefused(
            f"The Task number box holds {typed.strip()!r}: write the number the cycle's status "
            "page shows beside the task, such as 12."
        )
    return int(text)


@dataclass(frozen=True)
class _Found:
    year: int
    done_by: str | None


def _find(uow: UnitOfWork, number: int) -> _Found:
    with uow:
        found = uow.tasks.get(number)
        if found is None:
            raise TaskFormRefused(
                f"There is no task number {number}: the cycle's status page (its Tasks table) "
                "shows each committee task's number."
            )
        return _Found(found.cycle_year, found.done_by if found.done_at else None)


@task(name="mark-the-task", retries=2, retry_delay_seconds=5, retry_condition_fn=database_trouble)
def _mark(task: str, your_name: str) -> TaskOutcome:
    """Mark the task done and log the sentence; a refusal comes back as a value, so the
    run ends at once without a traceback (only database trouble is retried)."""
    logger = get_run_logger()
    try:
        uow = UnitOfWork.from_settings()
        actor = actor_name(your_name)
        number = task_number(task)
        found = _find(uow, number)
        if found.done_by is not None:
            sentence = (
                f"Task {number} of cycle {found.year} was already done by {found.done_by}; "
                "nothing was changed."
            )
        else:
            said = followups.mark_done(uow, number, actor=actor, now=utcnow())
            sentence = f"{said[:1].upper()}{said[1:]} (cycle {found.year}, by {actor})."
    except DomainError as refusal:
        sentence = refusal_sentence(refusal)
        logger.error(sentence)
        return TaskOutcome(sentence)
    logger.info(sentence)
    return TaskOutcome(sentence, found.year)


@flow(name=TASK_FORM)
def mark_a_task_done(your_name: str, task: str) -> State[Any]:
    """Mark one task done: the cycle's history records who and when. Tasks that work
    closes (approving the pairings, setting a new orientation session, a participant's
    answer) close by themselves.

    Args:
        your_name: Your name: the cycle's history records who marked the task done.
        task: The task's number, as the cycle's status page shows it beside the task
            ("Approve the pairing set (no. 12)": write 12).
    """
    outcome = _mark(task, your_name)
    if outcome.year is None:
        return Failed(message=outcome.sentence)
    publish_cycle_summary(UnitOfWork.from_settings(), outcome.year, outcome.sentence)
    return Completed(message=outcome.sentence, data={"year": outcome.year})
