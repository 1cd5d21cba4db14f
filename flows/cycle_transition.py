"""The transition flow: fire one event on a cycle, then announce it and report.

Deployment triggers and scripts run it with the machine parameters (event, trigger,
when_due); the committee's forms are the step flows of flows/committee_steps.py. It is
idempotent: a second run, a double click or a retry after a crash finds the cycle already
moved and changes nothing. A refusal ends the run at once, Failed, with the rule's
sentence as its message and no traceback.
"""

from typing import Any

from prefect import State, flow, get_run_logger, task
from prefect.states import Failed
from sqlalchemy.exc import OperationalError

import flows.failed_echo  # noqa: F401  (no traceback after a refusal)
from domain.cycle_states import CycleEvent, Trigger
from domain.errors import DomainError
from flows.orchestration import (
    announce_transition,
    current_flow_run_id,
    publish_transition_pages,
)
from flows.usecases.cycles import TransitionResult, fire_event, is_due
from infra.uow import UnitOfWork


def database_trouble(_task: object, _run: object, state: State[Any]) -> bool:
    """Retry a lost connection or a lock timeout, never a refusal by the program's rules."""
    return isinstance(state.result(raise_on_failure=False), OperationalError)


@task(retries=2, retry_delay_seconds=5, retry_condition_fn=database_trouble)
def fire(
    year: int,
    event: CycleEvent,
    actor: str,
    reason: str | None,
    trigger: Trigger,
    flow_run_id: str | None,
) -> TransitionResult | str:
    """The one use case; retried only on database trouble. A refusal is final and comes
    back as its sentence (a value, not an exception), so no traceback is logged."""
    try:
        return fire_event(
            UnitOfWork.from_settings(),
            year,
            event,
            actor=actor,
            trigger=trigger,
            reason=reason,
            flow_run_id=flow_run_id,
        )
    except DomainError as refusal:
        return str(refusal)


@flow(name="cycle-transition", log_prints=True)
def advance_cycle(
    year: int,
    event: CycleEvent,
    actor: str,
    reason: str | None = None,
    trigger: Trigger = Trigger.manual,
    when_due: bool = False,
) -> dict[str, object] | State[Any]:
    """Fire EVENT on the cycle of YEAR as ACTOR.

    Args:
        year: the cycle's year (the year its call for applications opens).
        event: what to do; each event moves the cycle one step (see the README).
        actor: who is doing this, for the audit log.
        reason: required to cancel, or to fire before the milestone's date.
        trigger: how this run was started; leave it at manual when starting it by hand.
        when_due: only fire if the milestone has come (event-driven runs); otherwise leave it
            to the daily tick.
    """
    uow = UnitOfWork.from_settings()
    logger = get_run_logger()
    try:
        waiting = when_due and not is_due(uow, year, event)
    except DomainError as refusal:
        logger.error(str(refusal))
        return Failed(message=str(refusal))
    if waiting:
        message = f"{event} is not due yet for cycle {year}; the daily tick will fire it"
        logger.info(message)
        return {"year": year, "event": str(event), "changed": False, "message": message}
    result = fire(year, event, actor, reason, trigger, current_flow_run_id())
    if isinstance(result, str):
        logger.error(result)
        return Failed(message=result)
    logger.info(result.message)
    if result.changed:
        announce_transition(result)
    publish_transition_pages(uow, result)
    return result.as_dict()
