"""A pair that needs attention, on Prefect.

After a flagged check-in the participants' site calls :func:`announce_needs_attention`,
which emits ``mentoring.pair.needs_attention`` (resource ``mentoring.cycle.<year>``, the
pair's id and the program's reasons in the payload: nothing a partner wrote). A trigger
on that event runs ``tell_the_committee_about_a_pair`` (deployment
``tell-the-committee-about-a-pair``), which queues the committee's notice (once per pair
and month) with the re-pairing the program would offer when a partner asked for contact.
The flow's ``now`` is for rehearsals and the demo; the deployment's trigger leaves it
empty.
"""

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from prefect import flow, get_run_logger
from prefect.events import emit_event
from prefect.settings import PREFECT_API_URL

from flows.orchestration import cycle_resource
from flows.usecases.pair_attention import tell_the_committee
from infra.uow import UnitOfWork

NEEDS_ATTENTION_EVENT = "mentoring.pair.needs_attention"
ACTOR = "tell-the-committee flow"


def announce_needs_attention(year: int, pair_id: int, reasons: Sequence[str]) -> bool:
    """Emit ``mentoring.pair.needs_attention`` for pair ``pair_id`` of cycle ``year``, when a
    Prefect server is configured (``mentoring serve`` gives the site one); without one,
    Prefect would start a temporary server inside the site's process, so it is skipped and
    the committee still has the task the check-in created. Returns whether it was sent."""
    if not PREFECT_API_URL.value():
        logging.getLogger(__name__).warning(
            "pair %s of cycle %s needs attention; no PREFECT_API_URL, so no event was sent "
            "(the committee's task was created)",
            pair_id,
            year,
        )
        return False
    emit_event(
        event=NEEDS_ATTENTION_EVENT,
        resource=cycle_resource(year),
        payload={"year": year, "pair_id": pair_id, "reasons": list(reasons)},
    )
    return True


@flow(name="tell-the-committee-about-a-pair", log_prints=True)
def tell_the_committee_about_a_pair(
    year: int, pair_id: int, now: datetime | None = None
) -> dict[str, Any]:
    """Tell the committee that a pair of cycle YEAR needs attention.

    Args:
        year: the cycle's year (the year its call for applications opens).
        pair_id: the pair's id, as the event names it.
        now: the moment to date the notice (for rehearsals and the demo); default: now.
    """
    result = tell_the_committee(UnitOfWork.from_settings(), year, pair_id, actor=ACTOR, now=now)
    get_run_logger().info(result.message)
    return {
        "year": result.year,
        "pair_id": result.pair_id,
        "flagged": result.flagged,
        "messages": result.messages,
        "proposals": list(result.proposals),
        "message": result.message,
    }
