"""The committee's pairing work: propose, review candidates, edit, approve.

The Prefect approval flow and the CLI call these same functions; all of them but the
candidate list are allowed only between the close of applications and the announcement.
The committee reads and names people by name: see :mod:`flows.usecases.pairing_names`.
"""

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from domain.activities import Activity, require
from domain.cycle_states import CycleEvent
from domain.errors import DomainError
from domain.followups import tasks_for
from domain.matching import (
    CandidateEdge,
    PairingProposal,
    candidate_edges,
    propose_pairings,
    waiting_list,
)
from domain.pairing_status import PairingSetStatus
from domain.values import MEMBER_ID_MAX, actor_name, single_line
from flows.usecases.clock import utcnow
from flows.usecases.followups import close_tasks
from flows.usecases.matching_inputs import matching_inputs
from infra.uow import UnitOfWork

EDIT_KINDS = ("fix", "block")


@dataclass(frozen=True)
class ProposedPairView:
    """One proposed pair; ``fixed`` when the committee set it by hand."""

    mentor_id: str
    mentee_id: str
    score: float
    fixed: bool
    explanation: str


@dataclass(frozen=True)
class LeftOutView:
    """An applicant the proposal leaves out, why, and a mentee's place on the waiting list."""

    member_id: str
    role: str
    reason: str
    waiting_list_position: int | None


@dataclass(frozen=True)
class ProposedSet:
    """The proposal kept for review (``pairings propose --json`` prints ``as_dict()``)."""

    set_id: int
    status: PairingSetStatus
    pairs: tuple[ProposedPairView, ...]
    unmatched: tuple[LeftOutView, ...]
    total_score: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "set_id": self.set_id,
            "status": str(self.status),
            "pairs": [asdict(p) for p in self.pairs],
            "unmatched": [asdict(u) for u in self.unmatched],
            "total_score": self.total_score,
        }


@dataclass(frozen=True)
class CandidateList:
    """Every allowed edge with its score, and each mentor's capacity (SPEC layout)."""

    capacities: dict[str, int]
    edges: tuple[CandidateEdge, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"capacities": dict(self.capacities), "edges": [asdict(e) for e in self.edges]}


@dataclass(frozen=True)
class PairingEdit:
    """A fixed or blocked pair, set or lifted; ``summary`` names the edit alone."""

    year: int
    edit: str
    mentor_id: str
    mentee_id: str
    changed: bool
    summary: str
    message: str


@dataclass(frozen=True)
class PairingApproval:
    """The set approved now (``pairs`` counted, the tasks it completed), or the one
    approved before."""

    set_id: int
    changed: bool
    message: str
    pairs: int | None = None
    tasks_done: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        if not self.changed:
            return {"set_id": self.set_id, "changed": False, "message": self.message}
        return {
            "set_id": self.set_id,
            "changed": True,
            "pairs": self.pairs,
            "tasks_done": list(self.tasks_done),
            "message": self.message,
        }


def propose(uow: UnitOfWork, year: int, *, actor: str, now: datetime | None = None) -> ProposedSet:
    """Solve for the optimal set around the committee's edits and keep it as the proposal."""
    now = now or utcnow()
    actor = actor_name(actor)
    with uow:
        require(Activity.pairing_review, uow.cycles.state_of(year, for_update=True), year)
        given = matching_inputs(uow, year)
        proposal = propose_pairings(given.apps, given.weights, given.rules, given.ref)
        queue = {
            e.mentee_id: e.position
            for e in waiting_list(proposal, given.apps, given.weights, given.rules, given.ref)
        }
        stored = uow.pairings.store_proposal(year, proposal, queue, now)
        uow.audit.append(
            kind="pairings_proposed",
            cycle_year=year,
            at=now,
            actor=actor,
            fields={
                "set_id": stored.id,
                "pairs": len(proposal.pairs),
                "unmatched": len(proposal.unmatched),
                "total_score": proposal.total_score,
                "fixed": sorted(map(list, given.rules.fixed)),
                "blocked": sorted(map(list, given.rules.blocked)),
            },
        )
        uow.commit()
        return _proposed_set(stored.id, stored.status, proposal, queue)


def _proposed_set(
    set_id: int, status: PairingSetStatus, proposal: PairingProposal, queue: dict[str, int]
) -> ProposedSet:
    return ProposedSet(
        set_id,
        status,
        tuple(
            ProposedPairView(p.mentor_id, p.mentee_id, p.score, p.fixed, p.breakdown.explain())
            for p in proposal.pairs
        ),
        tuple(
            LeftOutView(
                u.member_id,
                str(u.role),
                u.reason,
                queue.get(u.member_id) if str(u.role) == "mentee" else None,
            )
            for u in proposal.unmatched
        ),
        proposal.total_score,
    )


def candidates(uow: UnitOfWork, year: int) -> CandidateList:
    """Every allowed edge with its score, and each mentor's capacity."""
    with uow:
        given = matching_inputs(uow, year)
    found = candidate_edges(given.apps, given.weights, given.rules, given.ref)
    return CandidateList(found.capacities, tuple(found.edges))


def edit(
    uow: UnitOfWork,
    year: int,
    *,
    kind: str,
    mentor_id: str,
    mentee_id: str,
    actor: str,
    now: datetime | None = None,
) -> PairingEdit:
    """Fix or block a pair (``unfix``/``unblock`` lift it); re-propose to solve around it."""
    now = now or utcnow()
    actor = actor_name(actor)
    mentor_id = single_line(mentor_id, "mentor_id", MEMBER_ID_MAX)
    mentee_id = single_line(mentee_id, "mentee_id", MEMBER_ID_MAX)
    lifting = kind.startswith("un")
    base = kind[2:] if lifting else kind
    if base not in EDIT_KINDS:
        raise DomainError(f"unknown pairing edit {kind!r}: use fix, block, unfix or unblock")
    summary = f"{kind} {mentor_id} → {mentee_id}"

    def unchanged(message: str) -> PairingEdit:
        return PairingEdit(year, kind, mentor_id, mentee_id, False, summary, message)

    with uow:
        require(Activity.pairing_review, uow.cycles.state_of(year, for_update=True), year)
        active = {a.member_id for a in uow.applications.active(year)}
        for who in (mentor_id, mentee_id):
            if who not in active:
                raise DomainError(f"{who} has no active application in cycle {year}")
        existing = uow.pairings.edit_kind(year, mentor_id, mentee_id)
        if lifting:
            if existing != base:
                return unchanged(f"{mentor_id} → {mentee_id} was not {base}ed; nothing to do")
            uow.pairings.lift_edit(year, mentor_id, mentee_id)
        elif existing == base:
            return unchanged(f"{mentor_id} → {mentee_id} is already {base}ed; nothing to do")
        else:
            uow.pairings.set_edit(year, mentor_id, mentee_id, base, actor, now)
        uow.audit.append(
            kind="pairing_edited",
            cycle_year=year,
            at=now,
            actor=actor,
            fields={"edit": kind, "mentor_id": mentor_id, "mentee_id": mentee_id},
        )
        uow.commit()
    return PairingEdit(
        year,
        kind,
        mentor_id,
        mentee_id,
        True,
        summary,
        f"{summary}; propose the pairings again to re-solve around it",
    )


def approve(
    uow: UnitOfWork, year: int, *, actor: str, now: datetime | None = None
) -> PairingApproval:
    """Approve the current proposal (the latest); announcing pairings needs this."""
    now = now or utcnow()
    actor = actor_name(actor)
    with uow:
        require(Activity.pairing_review, uow.cycles.state_of(year, for_update=True), year)
        approved = uow.pairings.latest_set(year, PairingSetStatus.approved)
        proposed = uow.pairings.latest_set(year, PairingSetStatus.proposed)
        if proposed is None:
            if approved is not None:
                return PairingApproval(
                    approved.id,
                    False,
                    f"pairing set {approved.id} is already approved by {approved.approved_by}",
                )
            raise DomainError(
                f"cycle {year} has no proposed pairing set; propose the pairings first"
            )
        done = _close_review_tasks(uow, year, actor, now)
        uow.pairings.approve(proposed.id, actor, now)
        pairs = uow.pairings.pairs_of(proposed.id)
        uow.audit.append(
            kind="pairings_approved",
            cycle_year=year,
            at=now,
            actor=actor,
            fields={
                "set_id": proposed.id,
                "pairs": len(pairs),
                "pair_list": sorted([p.mentor_id, p.mentee_id] for p in pairs),
                "tasks_done": list(done),
            },
        )
        uow.commit()
        closed = "".join(f"; task “{title}” done" for title in done)
        return PairingApproval(
            proposed.id,
            True,
            f"pairing set {proposed.id} ({len(pairs)} pairs) approved by {actor}{closed}",
            len(pairs),
            done,
        )


REVIEW_ENDS_WITH = (CycleEvent.open_call, CycleEvent.close_applications)
"""The steps whose committee tasks approving the pairing set completes: opening the call
asks to review the applications as they arrive, closing applications to approve the
pairing set; the approval ends both."""


def _close_review_tasks(uow: UnitOfWork, year: int, actor: str, now: datetime) -> tuple[str, ...]:
    """Mark done (each audited) the committee's open tasks the approval completes; returns
    their titles. Before the approval's own record, so each record seals the rows it wrote
    and the approval's record can name them."""
    calendar = uow.cycles.calendar(year)
    asked = [spec.key for event in REVIEW_ENDS_WITH for spec in tasks_for(event, year, calendar)]
    done = close_tasks(
        uow, year, asked, actor=actor, done_by=actor, because="approving the pairing set", now=now
    )
    return tuple(t.title for t in done)
