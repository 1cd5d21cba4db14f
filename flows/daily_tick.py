"""The scheduled tick: once a day, fire every transition whose milestone has come.

Days the server missed are caught up in order, exactly once: the tick looks at the
calendar, not at how many times it ran.
"""

from datetime import datetime

from prefect import flow, get_run_logger

from flows.orchestration import announce_transition, current_flow_run_id, publish_cycle_summary
from flows.usecases.tick import run_tick
from infra.uow import UnitOfWork


@flow(name="daily-tick", log_prints=True)
def daily_tick(now: datetime | None = None) -> dict[str, object]:
    """Advance every open cycle as far as its calendar allows.

    Args:
        now: pretend it is this moment (for catching up or rehearsing); default: now.
    """
    uow = UnitOfWork.from_settings()
    report = run_tick(uow, now=now, flow_run_id=current_flow_run_id())
    logger = get_run_logger()
    for result in report.transitions:
        logger.info(result.message)
        if result.changed:
            announce_transition(result)
            publish_cycle_summary(uow, result.year, result.message)
    for held in report.held:
        logger.warning("held: %s", held)
    return report.as_dict()
