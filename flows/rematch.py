"""Withdrawals and re-pairing on Prefect.

``withdraw_participant`` records a withdrawal (the same use case as the CLI) and emits
``mentoring.participant.withdrawn``; a deployment trigger on that event runs
``propose_rematch`` (the ``propose-repairing`` deployment), which recomputes the open
re-pairing offers against today's pairs and waiting list and publishes them as the table
artifact ``cycle-<year>-repairing`` the committee reads before approving one
(``mentoring repairing approve``).
"""

from collections.abc import Sequence
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact
from prefect.events import emit_event

from domain.cycle_states import Trigger
from domain.offers import StoredOffer
from flows.orchestration import cycle_resource
from flows.usecases import rematch, withdrawing
from infra.uow import UnitOfWork

WITHDRAWN_EVENT = "mentoring.participant.withdrawn"
ACTOR = "propose-repairing flow"


def artifact_key(year: int) -> str:
    """Prefect artifact keys allow lowercase letters, digits and dashes only."""
    return f"cycle-{year}-repairing"


def publish_offers(year: int, offers: Sequence[StoredOffer]) -> str:
    """The open offers as a table: who was left short, the best new partner, and why."""
    key = artifact_key(year)
    create_table_artifact(
        key=key,
        table=[
            {
                "offer": o.id,
                "left short": o.member_id,
                "role": o.role,
                "new mentor": o.mentor_id if o.role == "mentee" else None,
                "new mentee": o.mentee_id if o.role == "mentor" else None,
                "score": o.score,
                "why": o.explanation or o.reason,
            }
            for o in offers
        ],
        description=f"Open re-pairing offers for cycle {year}: approve one with "
        f"`mentoring repairing approve {year} OFFER_ID --actor NAME`",
    )
    return key


@flow(name="propose-repairing", log_prints=True)
def propose_rematch(year: int) -> dict[str, Any]:
    """Recompute cycle YEAR's re-pairing offers and publish them for the committee.

    Args:
        year: the cycle's year (the year its call for applications opens).
    """
    uow = UnitOfWork.from_settings()
    logger = get_run_logger()
    refused = rematch.rematch_refusal(uow, year)
    if refused:
        logger.info(refused)
        return rematch.OfferRefresh(year, False, (), refused).as_dict()
    result = rematch.refresh_offers(uow, year, actor=ACTOR)
    key = publish_offers(year, result.offers)
    logger.info(result.message)
    return {**result.as_dict(), "artifact_key": key}


@flow(name="withdraw-participant", log_prints=True)
def withdraw_participant(
    year: int, member_id: str, actor: str, reason: str, role: str | None = None
) -> dict[str, Any]:
    """Withdraw MEMBER_ID from cycle YEAR and let the re-pairing flow react.

    Args:
        year: the cycle's year.
        member_id: the participant's Core member id.
        actor: who records the withdrawal, for the audit log.
        reason: why the participant withdraws.
        role: for a participant who applied as both, withdraw from this role only (mentor or
            mentee); leave empty to withdraw from the program.
    """
    result = withdrawing.withdraw(
        UnitOfWork.from_settings(),
        year,
        member_id,
        role=role,
        actor=actor,
        reason=reason,
        trigger=Trigger.manual,
    )
    get_run_logger().info(result.message)
    if result.changed:
        emit_event(
            event=WITHDRAWN_EVENT,
            resource=cycle_resource(year),
            payload={"year": year, "member_id": member_id},
        )
    return result.as_dict()
