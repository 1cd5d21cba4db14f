"""The committee approves pairings in the Prefect UI.

The flow proposes the optimal set, posts it as a table artifact, and pauses for the
committee's answer in the run's Resume form: approve it, or name pairs to remove
(block) or keep (fix), in which case it re-solves around them and asks again. On
approval the set is recorded (who, when) and ``mentoring.pairings.approved`` is emitted,
which lets ``announce_pairings`` fire once its milestone is due.
"""

from datetime import datetime

from prefect import flow, get_run_logger, pause_flow_run
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.events import emit_event
from prefect.input import RunInput
from pydantic import Field

from domain.errors import DomainError
from flows.orchestration import cycle_resource
from flows.usecases import pairings
from flows.usecases.pairings import ProposedSet
from infra.uow import UnitOfWork


class PairingReview(RunInput):
    """The committee's answer in the Resume form."""

    reviewer: str = Field(description="Your name, for the audit log.")
    approve: bool = Field(
        default=False,
        description="Approve the pairing set shown in this run's 'pairings' artifact.",
    )
    remove_pairs: list[str] = Field(
        default_factory=list,
        description="Pairs to remove, as MENTOR_ID:MENTEE_ID; the set is re-solved without "
        "them and shown again.",
    )
    keep_pairs: list[str] = Field(
        default_factory=list,
        description="Pairs to keep whatever the solver finds, as MENTOR_ID:MENTEE_ID.",
    )


def publish_proposal(year: int, proposed: ProposedSet, round_no: int) -> None:
    """The proposal as a table the committee reads before answering."""
    create_table_artifact(
        key=f"cycle-{year}-pairings",
        table=[
            {
                "mentor": p.mentor_id,
                "mentee": p.mentee_id,
                "score": p.score,
                "fixed": p.fixed,
                "why": p.explanation,
            }
            for p in proposed.pairs
        ],
        description=f"Proposed pairings for cycle {year} (round {round_no}), total score "
        f"{proposed.total_score}",
    )
    if proposed.unmatched:
        create_markdown_artifact(
            key=f"cycle-{year}-unmatched",
            markdown="\n".join(
                [f"# Not paired in cycle {year}", "", "| member | role | reason |", "|---|---|---|"]
                + [f"| {u.member_id} | {u.role} | {u.reason} |" for u in proposed.unmatched]
            ),
        )


def apply_edits(
    uow: UnitOfWork, year: int, review: PairingReview, now: datetime | None = None
) -> int:
    """Record the committee's removals and keeps; returns how many edits it made."""
    edits = [("block", p) for p in review.remove_pairs] + [("fix", p) for p in review.keep_pairs]
    for kind, pair in edits:
        mentor_id, sep, mentee_id = pair.strip().partition(":")
        if not sep:
            raise DomainError(f"{pair!r} is not MENTOR_ID:MENTEE_ID")
        pairings.edit(
            uow,
            year,
            kind=kind,
            mentor_id=mentor_id.strip(),
            mentee_id=mentee_id.strip(),
            actor=review.reviewer,
            now=now,
        )
    return len(edits)


@flow(name="review-pairings", log_prints=True)
def review_pairings(
    year: int,
    max_rounds: int = 5,
    timeout_hours: int = 168,
    poll_seconds: int = 5,
    now: datetime | None = None,
) -> dict[str, object]:
    """Propose the cycle's pairings and wait for the committee to approve them.

    Args:
        year: the cycle's year.
        max_rounds: how many rounds of edits before the run gives up.
        timeout_hours: how long to wait for each answer.
        poll_seconds: how often the paused run looks for the answer.
        now: the moment to record (for rehearsals and the demo); default: now.
    """
    uow = UnitOfWork.from_settings()
    logger = get_run_logger()
    for round_no in range(1, max_rounds + 1):
        proposed = pairings.propose(uow, year, actor="review-pairings flow", now=now)
        publish_proposal(year, proposed, round_no)
        logger.info(
            "round %s: %s pairs proposed; waiting for the committee",
            round_no,
            len(proposed.pairs),
        )
        review = pause_flow_run(
            wait_for_input=PairingReview.with_initial_data(
                description=f"**Review** the proposed pairings for cycle {year} "
                f"(artifact `cycle-{year}-pairings`).",
            ),
            timeout=timeout_hours * 3600,
            poll_interval=poll_seconds,
        )
        if apply_edits(uow, year, review, now):
            continue
        if review.approve:
            result = pairings.approve(uow, year, actor=review.reviewer, now=now)
            emit_event(
                event="mentoring.pairings.approved",
                resource=cycle_resource(year),
                payload={"year": year, "set_id": result.set_id, "approved_by": review.reviewer},
            )
            logger.info(result.message)
            return result.as_dict()
        logger.info("neither approved nor edited; proposing again")
    raise DomainError(f"no approval after {max_rounds} rounds; run review-pairings again")
