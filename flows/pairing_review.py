"""The committee approves pairings in the Prefect UI.

The flow proposes the optimal set, posts it as a Markdown artifact that reads by name
(every pair on one page, the people not paired with the reason), and pauses for the
committee's answer in the run's Resume form: approve it, or name pairs to remove (block)
or keep (fix), by names or member ids, in which case it re-solves around them and asks
again, saying which pairs it understood. A name it cannot place is refused in one
sentence on the next page, and nothing is changed. On approval the set is recorded (who,
when), the committee's "Approve the pairing set" task is done, and
``mentoring.pairings.approved`` is emitted, which lets ``announce_pairings`` fire once its
milestone is due.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime

from prefect import flow, get_run_logger, pause_flow_run
from prefect.artifacts import create_markdown_artifact
from prefect.events import emit_event
from prefect.input import RunInput
from pydantic import Field

from domain.errors import DomainError
from flows.orchestration import cycle_resource
from flows.usecases import pairing_names, pairings
from flows.usecases.pairing_names import Person, UnplacedName
from flows.usecases.pairings import LeftOutView, ProposedPairView, ProposedSet
from infra.uow import UnitOfWork

PAIR_FORMAT = (
    "Mentor : Mentee, by name or member id (Ada Lovelace : Grace Hopper, or C100001 : C100021)"
)

HOW_TO_ANSWER = (
    "**This run is waiting for your answer.** On this run's page, open the menu (the "
    "**⋮** button at the top right) and choose **Resume**. In the form that opens: write "
    "your name under **Reviewer**; to approve the pairs below as they stand, switch "
    "**Approve** on; to change them instead, add each pair to take out under **Remove "
    "Pairs**, or each pair to keep whatever happens under **Keep Pairs**, written as "
    f"{PAIR_FORMAT}. One person's name alone is enough when they are in only one pair. "
    "Then press **Resume**. After a change the pairs are worked out again and shown here "
    "for another look."
)

_MARKDOWN_SPECIAL = set("\\`*_[]<>#|~&!")


class PairingReview(RunInput):
    """The committee's answer in the Resume form."""

    reviewer: str = Field(description="Your name, for the cycle's history.")
    approve: bool = Field(
        default=False,
        description="Approve the pairs shown in this run's 'pairings' artifact, as they stand.",
    )
    remove_pairs: list[str] = Field(
        default_factory=list,
        description=f"Pairs to take out, each as {PAIR_FORMAT}; the pairs are worked out "
        "again without them and shown again.",
    )
    keep_pairs: list[str] = Field(
        default_factory=list,
        description=f"Pairs to keep whatever else changes, each as {PAIR_FORMAT}.",
    )


def md(text: str) -> str:
    """Text from the roster or an application shown as itself, never as Markdown or HTML."""
    return "".join(f"\\{c}" if c in _MARKDOWN_SPECIAL else c for c in " ".join(text.split()))


def proposal_markdown(
    year: int,
    proposed: ProposedSet,
    people: Mapping[str, Person],
    round_no: int,
    notes: Sequence[str] = (),
) -> str:
    """The proposal as the committee reads it: names first, every pair and every person not
    paired on one page, the reasons as short lists; member ids only as an aside in italics."""

    def person(member_id: str) -> Person:
        return people.get(member_id) or Person.unknown(member_id)

    pairs = sorted(
        proposed.pairs,
        key=lambda p: (person(p.mentor_id).name.casefold(), person(p.mentee_id).name.casefold()),
    )
    lines = [
        f"# Proposed pairings, cycle {year}",
        "",
        f"Round {round_no}: **{len(pairs)} pairs**, **{len(proposed.unmatched)} "
        f"{'person' if len(proposed.unmatched) == 1 else 'people'} not paired**.",
        "",
        f"> {HOW_TO_ANSWER}",
        "",
    ]
    if notes:
        lines += ["## What your last answer did", "", *(f"- {md(n)}" for n in notes), ""]
    lines += [f"## Pairs ({len(pairs)})", ""]
    for number, pair in enumerate(pairs, 1):
        lines += _pair_block(number, pair, person(pair.mentor_id), person(pair.mentee_id))
    lines += [f"## Not paired ({len(proposed.unmatched)})", ""]
    if not proposed.unmatched:
        lines.append("Everyone who applied is paired.")
    lines += [
        _left_out_line(u, person(u.member_id))
        for u in sorted(proposed.unmatched, key=lambda u: person(u.member_id).name.casefold())
    ]
    return "\n".join(lines) + "\n"


def _pair_block(number: int, pair: ProposedPairView, mentor: Person, mentee: Person) -> list[str]:
    kept = ", kept by the committee" if pair.fixed else ""
    reasons = [r for r in pair.explanation.split("; ") if r.strip()]
    return [
        f"**{number}. {md(mentor.name)} → {md(mentee.name)}**",
        "",
        f"- **Mentor:** {_about(mentor)}",
        f"- **Mentee:** {_about(mentee)}",
        f"- **Why this pair** (score {pair.score:.2f}{kept}):",
        *(f"  - {md(r)}" for r in reasons),
        f"- *Member ids {md(mentor.member_id)} : {md(mentee.member_id)}*",
        "",
    ]


def _about(who: Person) -> str:
    details = [d for d in (who.career_stage, who.institution) if d]
    said = f"{md(who.name)} — {md(', '.join(details))}" if details else md(who.name)
    if who.applied_as == "mentor and mentee":
        said += " (applied as mentor and mentee)"
    return said


def _left_out_line(left: LeftOutView, who: Person) -> str:
    place = (
        f" Place {left.waiting_list_position} on the waiting list."
        if left.waiting_list_position is not None
        else ""
    )
    details = ", ".join(d for d in (left.role, who.career_stage, who.institution) if d)
    return (
        f"- **{md(who.name)}** ({md(details)}): {md(left.reason.rstrip('.'))}.{place} "
        f"*Member id {md(who.member_id)}*"
    )


def publish_proposal(
    year: int,
    proposed: ProposedSet,
    people: Mapping[str, Person],
    round_no: int,
    notes: Sequence[str] = (),
) -> None:
    """The proposal as one Markdown page the committee reads before answering."""
    create_markdown_artifact(
        key=f"cycle-{year}-pairings",
        markdown=proposal_markdown(year, proposed, people, round_no, notes),
        description=f"Proposed pairings for cycle {year}, round {round_no}: "
        f"{len(proposed.pairs)} pairs, {len(proposed.unmatched)} not paired",
    )


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
        max_rounds: how many times the run asks before it gives up.
        timeout_hours: how long to wait for each answer.
        poll_seconds: how often the paused run looks for the answer.
        now: the moment to record (for rehearsals and the demo); default: now.
    """
    uow = UnitOfWork.from_settings()
    logger = get_run_logger()
    notes: list[str] = []
    proposed: ProposedSet | None = None
    for round_no in range(1, max_rounds + 1):
        if proposed is None:
            proposed = pairings.propose(uow, year, actor="review-pairings flow", now=now)
        publish_proposal(year, proposed, pairing_names.people(uow, year), round_no, notes)
        logger.info(
            "round %s: %s pairs proposed; waiting for the committee to press Resume",
            round_no,
            len(proposed.pairs),
        )
        review = pause_flow_run(
            wait_for_input=PairingReview.with_initial_data(
                description=f"Read the proposed pairings for cycle {year} in this run's "
                f"**Artifacts** tab (`cycle-{year}-pairings`), then answer here: your "
                "name; **Approve** to approve them as they stand, or pairs to remove or "
                f"keep, each as {PAIR_FORMAT}; then **Resume**.",
            ),
            timeout=timeout_hours * 3600,
            poll_interval=poll_seconds,
        )
        try:
            if not review.reviewer.strip():
                raise UnplacedName("write your name under Reviewer")
            edits = pairing_names.edit_by_name(
                uow,
                year,
                remove=review.remove_pairs,
                keep=review.keep_pairs,
                actor=review.reviewer,
                now=now,
            )
        except UnplacedName as refused:
            notes = [f"Nothing was changed or approved: {refused}."]
            logger.warning("round %s: %s", round_no, notes[0])
            continue
        if edits:
            notes = [e.said for e in edits]
            if review.approve:
                notes.append("Not approved yet: look at the new pairs and approve them.")
            for note in notes:
                logger.info(note)
            proposed = None
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
        notes = ["Neither approved nor changed; here are the same pairs again."]
        logger.info(notes[0])
    raise DomainError(
        f"no approval after {max_rounds} rounds; start the review of the pairings again"
    )
