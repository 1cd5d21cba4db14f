"""The scheduled tick: once a day, fire every transition whose milestone has come.

Days the server missed are caught up in order, exactly once: the tick looks at the
calendar, not at how many times it ran. A cycle that cannot move does not stop the
others; the run then ends Failed, naming it, so the committee sees it in the UI. Every
cycle it looked at has its status page and history refreshed (the dates passing change
what the page says even when nothing moves).
"""

from datetime import datetime
from typing import Any

from prefect import State, flow, get_run_logger
from prefect.states import Failed

import flows.failed_echo  # noqa: F401  (no traceback after a refusal)
from flows.cockpit_pages import transition_headline
from flows.orchestration import (
    announce_transition,
    current_flow_run_id,
    open_cycle_years,
    refresh_cycle_pages,
)
from flows.usecases.tick import TickReport, run_tick
from infra.uow import UnitOfWork


@flow(name="daily-tick", log_prints=True)
def daily_tick(now: datetime | None = None) -> dict[str, Any] | State[dict[str, Any]]:
    """Advance every open cycle as far as its calendar allows.

    Ends Failed, after moving every other cycle, when a cycle could not move; the
    result (the report, with ``failed``) is kept either way.

    Args:
        now: pretend it is this moment (for catching up or rehearsing); default: now.
    """
    uow = UnitOfWork.from_settings()
    looked_at = open_cycle_years(uow)
    report = run_tick(uow, now=now, flow_run_id=current_flow_run_id())
    logger = get_run_logger()
    for result in report.transitions:
        logger.info(result.message)
        if result.changed:
            announce_transition(result)
    for held in report.held:
        logger.warning("held: %s", held)
    for failure in report.failed:
        logger.error(failure.message)
    for problem in refresh_cycle_pages(uow, page_headlines(report, looked_at)):
        logger.warning(problem)
    return failed_state(report) if report.failed else report.as_dict()


def page_headlines(report: TickReport, looked_at: list[int]) -> dict[int, str | None]:
    """Each cycle the tick looked at, with what the tick did to it in words."""
    said: dict[int, list[str]] = {year: [] for year in looked_at}
    for result in report.transitions:
        if result.changed:
            said.setdefault(result.year, []).append(transition_headline(result))
    for failure in report.failed:
        said.setdefault(failure.year, []).append(
            f"The daily check could not move it: {failure.error}"
        )
    return {
        year: " ".join(words) if words else "The daily check found nothing due."
        for year, words in said.items()
    }


def failed_state(report: TickReport) -> State[dict[str, Any]]:
    """Failed, with a message naming each cycle that could not move and the report as
    its result; returned rather than raised, so the log holds no traceback."""
    moved = len([t for t in report.transitions if t.changed])
    return Failed(
        message=f"{'; '.join(f.message for f in report.failed)} (every other cycle was "
        f"handled: {moved} transition(s) made)",
        data=report.as_dict(),
    )
