"""The committee approves pairings in the Prefect UI.

The committee's form, "Review the pairings", asks only the year (empty: the current cycle)
and the person's name. The run proposes the optimal set, posts it as a Markdown artifact
that reads by name (every pair on one page, the people not paired with the reason), and
pauses for the committee's answer in the run's Resume form: approve it, or name pairs to
remove (block) or keep (fix), by names or member ids, in which case it re-solves around
them and asks again, saying which pairs it understood. A name it cannot place is refused
in one sentence on the next page, and nothing is changed. On approval the set is recorded
(who, when), the committee's "Approve the pairing set" task is done, and
``mentoring.pairings.approved`` is emitted, which lets ``announce_pairings`` fire once its
milestone is due. A refusal by the program's rules ends the form's run Failed, in one
sentence. The ``review-pairings`` flow runs the same review with its machine parameters,
for the demo and scripts.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from prefect import State, flow, get_run_logger, pause_flow_run
from prefect.artifacts import create_markdown_artifact
from prefect.events import emit_event
from prefect.exceptions import FlowPauseTimeout
from prefect.input import RunInput
from prefect.states import Completed, Failed
from pydantic import Field

import flows.failed_echo  # noqa: F401  (no traceback after a refusal)
from domain.activities import ActivityRefused
from domain.cycle_states import CycleEvent
from domain.errors import DomainError
from domain.time_words import has_passed, moment_words
from flows.committee_steps import REVIEW_FORM, STATE_WORDS, chosen_year, refusal_sentence
from flows.orchestration import cycle_resource
from flows.usecases import pairing_names, pairings
from flows.usecases.clock import utcnow
from flows.usecases.cycles import describe
from flows.usecases.pairing_names import Person, UnplacedName
from flows.usecases.pairings import LeftOutView, PairingApproval, ProposedPairView, ProposedSet
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


@dataclass(frozen=True)
class ReviewRounds:
    """How long the review goes on: rounds of answers, the wait for each, the polling."""

    max_rounds: int = 5
    timeout_hours: int = 168
    poll_seconds: int = 5


@dataclass(frozen=True)
class Approved:
    """The approval a review ended with, and who gave it in the Resume form."""

    approval: PairingApproval
    reviewer: str


class UnansweredReview(DomainError):
    """The review ran out of rounds without an approval."""

    def __init__(self, max_rounds: int) -> None:
        super().__init__(
            f"no approval after {max_rounds} rounds; start the review of the pairings again"
        )
        self.max_rounds = max_rounds


def review(
    uow: UnitOfWork,
    year: int,
    *,
    proposer: str,
    rounds: ReviewRounds,
    now: datetime | None = None,
) -> Approved:
    """Propose the pairings (recorded as ``proposer``'s), publish them and pause for the
    committee's answer, round after round, until it approves them; what both entry points
    run. A refusal by the program's rules is raised as the domain's error."""
    logger = get_run_logger()
    notes: list[str] = []
    proposed: ProposedSet | None = None
    for round_no in range(1, rounds.max_rounds + 1):
        if proposed is None:
            proposed = pairings.propose(uow, year, actor=proposer, now=now)
        publish_proposal(year, proposed, pairing_names.people(uow, year), round_no, notes)
        logger.info(
            "round %s: %s pairs proposed; waiting for the committee to press Resume",
            round_no,
            len(proposed.pairs),
        )
        answer = pause_flow_run(
            wait_for_input=PairingReview.with_initial_data(
                description=f"Read the proposed pairings for cycle {year} in this run's "
                f"**Artifacts** tab (`cycle-{year}-pairings`), then answer here: your "
                "name; **Approve** to approve them as they stand, or pairs to remove or "
                f"keep, each as {PAIR_FORMAT}; then **Resume**.",
            ),
            timeout=rounds.timeout_hours * 3600,
            poll_interval=rounds.poll_seconds,
        )
        try:
            if not answer.reviewer.strip():
                raise UnplacedName("write your name under Reviewer")
            edits = pairing_names.edit_by_name(
                uow,
                year,
                remove=answer.remove_pairs,
                keep=answer.keep_pairs,
                actor=answer.reviewer,
                now=now,
            )
        except UnplacedName as refused:
            notes = [f"Nothing was changed or approved: {refused}."]
            logger.warning("round %s: %s", round_no, notes[0])
            continue
        if edits:
            notes = [e.said for e in edits]
            if answer.approve:
                notes.append("Not approved yet: look at the new pairs and approve them.")
            for note in notes:
                logger.info(note)
            proposed = None
            continue
        if answer.approve:
            result = pairings.approve(uow, year, actor=answer.reviewer, now=now)
            emit_event(
                event="mentoring.pairings.approved",
                resource=cycle_resource(year),
                payload={"year": year, "set_id": result.set_id, "approved_by": answer.reviewer},
            )
            logger.info(result.message)
            return Approved(result, answer.reviewer.strip())
        notes = ["Neither approved nor changed; here are the same pairs again."]
        logger.info(notes[0])
    raise UnansweredReview(rounds.max_rounds)


@flow(name="review-pairings", log_prints=True)
def review_pairings(
    year: int,
    max_rounds: int = 5,
    timeout_hours: int = 168,
    poll_seconds: int = 5,
    now: datetime | None = None,
) -> dict[str, object]:
    """Propose the cycle's pairings and wait for the committee to approve them (for the
    demo and scripts; the committee's form is "Review the pairings").

    Args:
        year: the cycle's year.
        max_rounds: how many times the run asks before it gives up.
        timeout_hours: how long to wait for each answer.
        poll_seconds: how often the paused run looks for the answer.
        now: the moment to record (for rehearsals and the demo); default: now.
    """
    rounds = ReviewRounds(max_rounds, timeout_hours, poll_seconds)
    uow = UnitOfWork.from_settings()
    done = review(uow, year, proposer="review-pairings flow", rounds=rounds, now=now)
    return done.approval.as_dict()


def review_refusal(refusal: DomainError) -> str:
    """The one sentence a refused review ends with, in the form's words."""
    if isinstance(refusal, ActivityRefused):
        return (
            f"Cycle {refusal.year} is {STATE_WORDS[refusal.state]}: the pairings are reviewed "
            "after applications close and before they are announced."
        )
    if isinstance(refusal, UnansweredReview):
        return (
            f"The pairings were not approved after {refusal.max_rounds} rounds: run "
            f"“{REVIEW_FORM}” again to go on."
        )
    return refusal_sentence(refusal)


def approved_sentence(uow: UnitOfWork, year: int, done: Approved) -> str:
    """The approval as the run's state message: how many pairs, by whom, and when they are
    announced (at once by the automation when their date has passed)."""
    if not done.approval.changed:
        return _sentence_of(f"Nothing was approved: {done.approval.message}")
    view = describe(uow, year)
    due = datetime.fromisoformat(view.calendar[str(CycleEvent.announce_pairings)])
    when = moment_words(due, view.timezone, with_year=True)
    announced = (
        f"their date ({when}) has passed, so they are announced now"
        if has_passed(due, utcnow())
        else f"they are announced on {when}"
    )
    return (
        f"The pairings of cycle {year} are approved ({done.approval.pairs} pairs, by "
        f"{done.reviewer}); {announced}."
    )


def _sentence_of(text: str) -> str:
    return text.rstrip(".") + "."


@flow(name=REVIEW_FORM)
def review_the_pairings(your_name: str, year: str = "") -> State[Any]:
    """Propose the year's mentor and mentee pairings and wait for the committee: read them
    by name in the run's Artifacts tab, then answer in the paused run's Resume form (its
    menu, top right): approve them, or name pairs to remove or keep and get new ones.
    Approving lets the pairings be announced on their date.

    Args:
        your_name: Your name: the cycle's history records who asked for the pairings.
        year: The cycle's year, the year its call opens (2026 runs from August 2026 to July
            2027). Leave it empty for the current cycle.
    """
    logger = get_run_logger()
    uow = UnitOfWork.from_settings()
    try:
        chosen = chosen_year(uow, year)
        done = review(uow, chosen, proposer=your_name, rounds=ReviewRounds())
    except DomainError as refusal:
        sentence = review_refusal(refusal)
        logger.error(sentence)
        return Failed(message=sentence)
    except FlowPauseTimeout:
        sentence = (
            f"Nobody answered in the Resume form within a week: run “{REVIEW_FORM}” again to go on."
        )
        logger.error(sentence)
        return Failed(message=sentence)
    sentence = approved_sentence(uow, chosen, done)
    logger.info(sentence)
    return Completed(message=sentence, data=done.approval.as_dict())
