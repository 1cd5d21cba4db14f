"""The transition flow: fire one event on a cycle, then announce it and report.

The committee runs it by hand from the Prefect UI (the event is a dropdown), deployment
triggers run it in reaction to events, and it is idempotent: a second run, a double
click or a retry after a crash finds the cycle already moved and changes nothing.
"""

from typing import Any

from prefect import State, flow, get_run_logger, task
from sqlalchemy.exc import OperationalError

from domain.cycle_states import CycleEvent, Trigger
from flows.orchestration import announce_transition, current_flow_run_id, publish_cycle_summary
from flows.usecases.cycles import TransitionResult, fire_event, is_due
from infra.uow import UnitOfWork


def _database_trouble(_task: object, _run: object, state: State[Any]) -> bool:
    """Retry a lost connection or a lock timeout, never a refusal by the program's rules."""
    return isinstance(state.result(raise_on_failure=False), OperationalError)


@task(retries=2, retry_delay_seconds=5, retry_condition_fn=_database_trouble)
def fire(
    year: int,
    event: CycleEvent,
    actor: str,
    reason: str | None,
    trigger: Trigger,
    flow_run_id: str | None,
) -> TransitionResult:
    """The one use case; retried only on database trouble (a refusal is final)."""
    return fire_event(
        UnitOfWork.from_settings(),
        year,
        event,
        actor=actor,
        trigger=trigger,
        reason=reason,
        flow_run_id=flow_run_id,
    )


@flow(name="cycle-transition", log_prints=True)
def advance_cycle(
    year: int,
    event: CycleEvent,
    actor: str,
    reason: str | None = None,
    trigger: Trigger = Trigger.manual,
    when_due: bool = False,
) -> dict[str, object]:
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
    if when_due and not is_due(uow, year, event):
        message = f"{event} is not due yet for cycle {year}; the daily tick will fire it"
        get_run_logger().info(message)
        return {"year": year, "event": str(event), "changed": False, "message": message}
    result = fire(year, event, actor, reason, trigger, current_flow_run_id())
    logger = get_run_logger()
    logger.info(result.message)
    if result.changed:
        announce_transition(result)
    publish_cycle_summary(uow, year, result.message)
    return result.as_dict()
