"""The committee's pairing work: propose, review candidates, edit, approve, export.

The Prefect approval flow and the CLI call these same functions.
"""

import csv
from dataclasses import asdict, fields
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.applications import Application
from domain.cycle_states import CycleEvent, CycleState
from domain.errors import DomainError
from domain.matching import (
    MatchWeights,
    PairingProposal,
    PairingRules,
    candidate_edges,
    propose_pairings,
    waiting_list,
)
from flows.usecases.clock import utcnow
from infra import audit_log, cycle_settings, cycles
from infra.applications import application_of
from infra.tables import (
    ApplicationRow,
    MemberRow,
    PairingRuleRow,
    PairingSetRow,
    PairRow,
    UnmatchedRow,
)
from infra.uow import UnitOfWork

EDIT_KINDS = ("fix", "block")


def active_applications(session: Session, year: int) -> list[Application]:
    query = select(ApplicationRow).where(
        ApplicationRow.cycle_year == year, ApplicationRow.status == "active"
    )
    return [application_of(r) for r in session.scalars(query)]


def weights_of(session: Session, year: int) -> MatchWeights:
    return MatchWeights(**cycle_settings.read(session, year).get("matching", {}).get("weights", {}))


def rules_of(session: Session, year: int) -> PairingRules:
    edits = session.scalars(select(PairingRuleRow).where(PairingRuleRow.cycle_year == year)).all()
    matching = cycle_settings.read(session, year).get("matching", {})
    return PairingRules(
        allow_same_institution=bool(matching.get("allow_same_institution", False)),
        fixed=frozenset((e.mentor_id, e.mentee_id) for e in edits if e.kind == "fix"),
        blocked=frozenset((e.mentor_id, e.mentee_id) for e in edits if e.kind == "block"),
    )


def reference_time(session: Session, year: int) -> datetime:
    """Time-zone distances are measured when mentoring begins (DST as it will be then)."""
    calendar = cycles.calendar_of(session, cycles.load_row(session, year))
    at = calendar.due_at(CycleEvent.start_mentoring)
    assert at is not None
    return at


def _require_review_window(session: Session, year: int) -> None:
    state = CycleState(cycles.load_row(session, year, for_update=True).state)
    if state is not CycleState.applications_closed:
        raise DomainError(
            f"cycle {year} is in state {state}: pairings are proposed and approved after "
            "applications close and before they are announced (state applications_closed)"
        )


def propose(
    uow: UnitOfWork, year: int, *, actor: str, now: datetime | None = None
) -> dict[str, Any]:
    """Solve for the optimal set around the committee's edits and keep it as the proposal."""
    now = now or utcnow()
    with uow:
        session = uow.session
        _require_review_window(session, year)
        apps = active_applications(session, year)
        weights, rules, ref = (
            weights_of(session, year),
            rules_of(session, year),
            reference_time(session, year),
        )
        proposal = propose_pairings(apps, weights, rules, ref)
        queue = {e.mentee_id: e.position for e in waiting_list(proposal, apps, weights, rules, ref)}
        set_row = _store_proposal(session, year, proposal, queue, now)
        audit_log.append(
            session,
            kind="pairings_proposed",
            cycle_year=year,
            at=now,
            actor=actor,
            fields={
                "set_id": set_row.id,
                "pairs": len(proposal.pairs),
                "unmatched": len(proposal.unmatched),
                "total_score": proposal.total_score,
                "fixed": sorted(map(list, rules.fixed)),
                "blocked": sorted(map(list, rules.blocked)),
            },
            touched=("pairing_sets", "pairs"),
        )
        uow.commit()
        return _proposal_view(set_row, proposal, queue)


def _store_proposal(
    session: Session, year: int, proposal: PairingProposal, queue: dict[str, int], now: datetime
) -> PairingSetRow:
    for old in session.scalars(
        select(PairingSetRow).where(
            PairingSetRow.cycle_year == year, PairingSetRow.status == "proposed"
        )
    ):
        old.status = "superseded"
    set_row = PairingSetRow(cycle_year=year, status="proposed", proposed_at=now)
    session.add(set_row)
    session.flush()
    session.add_all(
        PairRow(
            set_id=set_row.id,
            mentor_id=p.mentor_id,
            mentee_id=p.mentee_id,
            score=p.score,
            explanation=p.breakdown.explain(),
            status="active",
        )
        for p in proposal.pairs
    )
    session.add_all(
        UnmatchedRow(
            set_id=set_row.id,
            member_id=u.member_id,
            role=str(u.role),
            reason=u.reason,
            position=queue.get(u.member_id) if str(u.role) == "mentee" else None,
        )
        for u in proposal.unmatched
    )
    session.flush()
    return set_row


def _proposal_view(
    set_row: PairingSetRow, proposal: PairingProposal, queue: dict[str, int]
) -> dict[str, Any]:
    return {
        "set_id": set_row.id,
        "status": set_row.status,
        "pairs": [
            {
                "mentor_id": p.mentor_id,
                "mentee_id": p.mentee_id,
                "score": p.score,
                "fixed": p.fixed,
                "explanation": p.breakdown.explain(),
            }
            for p in proposal.pairs
        ],
        "unmatched": [
            {
                "member_id": u.member_id,
                "role": str(u.role),
                "reason": u.reason,
                "waiting_list_position": queue.get(u.member_id)
                if str(u.role) == "mentee"
                else None,
            }
            for u in proposal.unmatched
        ],
        "total_score": proposal.total_score,
    }


def candidates(uow: UnitOfWork, year: int) -> dict[str, Any]:
    """Every allowed edge with its score, and each mentor's capacity (SPEC layout)."""
    with uow:
        session = uow.session
        cycles.load_row(session, year)
        found = candidate_edges(
            active_applications(session, year),
            weights_of(session, year),
            rules_of(session, year),
            reference_time(session, year),
        )
    return {"capacities": found.capacities, "edges": [asdict(e) for e in found.edges]}


def edit(
    uow: UnitOfWork,
    year: int,
    *,
    kind: str,
    mentor_id: str,
    mentee_id: str,
    actor: str,
    now: datetime | None = None,
) -> str:
    """Fix or block a pair (``unfix``/``unblock`` lift it); re-propose to solve around it."""
    now = now or utcnow()
    lifting = kind.startswith("un")
    base = kind[2:] if lifting else kind
    if base not in EDIT_KINDS:
        raise DomainError(f"unknown pairing edit {kind!r}: use fix, block, unfix or unblock")
    with uow:
        session = uow.session
        _require_review_window(session, year)
        apps = {a.member_id for a in active_applications(session, year)}
        for who in (mentor_id, mentee_id):
            if who not in apps:
                raise DomainError(f"{who} has no active application in cycle {year}")
        existing = session.get(PairingRuleRow, (year, mentor_id, mentee_id))
        if lifting:
            if existing is None or existing.kind != base:
                return f"{mentor_id} → {mentee_id} was not {base}ed; nothing to do"
            session.delete(existing)
        elif existing is not None and existing.kind == base:
            return f"{mentor_id} → {mentee_id} is already {base}ed; nothing to do"
        else:
            session.merge(
                PairingRuleRow(
                    cycle_year=year,
                    mentor_id=mentor_id,
                    mentee_id=mentee_id,
                    kind=base,
                    actor=actor,
                    at=now,
                )
            )
        audit_log.append(
            session,
            kind="pairing_edited",
            cycle_year=year,
            at=now,
            actor=actor,
            fields={"edit": kind, "mentor_id": mentor_id, "mentee_id": mentee_id},
            touched=("pairing_rules",),
        )
        uow.commit()
    return f"{kind} {mentor_id} → {mentee_id}; run `mentoring pairings propose {year}` to re-solve"


def latest_set(session: Session, year: int, status: str) -> PairingSetRow | None:
    return session.scalars(
        select(PairingSetRow)
        .where(PairingSetRow.cycle_year == year, PairingSetRow.status == status)
        .order_by(PairingSetRow.id.desc())
    ).first()


def approve(
    uow: UnitOfWork, year: int, *, actor: str, now: datetime | None = None
) -> dict[str, Any]:
    """Approve the current proposal (the latest); announcing pairings needs this."""
    now = now or utcnow()
    with uow:
        session = uow.session
        _require_review_window(session, year)
        approved = latest_set(session, year, "approved")
        proposed = latest_set(session, year, "proposed")
        if proposed is None:
            if approved is not None:
                return {
                    "set_id": approved.id,
                    "changed": False,
                    "message": f"pairing set {approved.id} is already approved "
                    f"by {approved.approved_by}",
                }
            raise DomainError(
                f"cycle {year} has no proposed pairing set; run "
                f"`mentoring pairings propose {year}` first"
            )
        if approved is not None:
            approved.status = "superseded"
        proposed.status, proposed.approved_by, proposed.approved_at = "approved", actor, now
        pairs = session.scalars(select(PairRow).where(PairRow.set_id == proposed.id)).all()
        audit_log.append(
            session,
            kind="pairings_approved",
            cycle_year=year,
            at=now,
            actor=actor,
            fields={
                "set_id": proposed.id,
                "pairs": len(pairs),
                "pair_list": sorted([p.mentor_id, p.mentee_id] for p in pairs),
            },
            touched=("pairing_sets",),
        )
        uow.commit()
        return {
            "set_id": proposed.id,
            "changed": True,
            "pairs": len(pairs),
            "message": f"pairing set {proposed.id} ({len(pairs)} pairs) approved by {actor}",
        }


def approved_pairs(session: Session, year: int) -> list[PairRow]:
    approved = latest_set(session, year, "approved")
    if approved is None:
        return []
    return list(
        session.scalars(
            select(PairRow)
            .where(PairRow.set_id == approved.id, PairRow.status == "active")
            .order_by(PairRow.mentor_id, PairRow.mentee_id)
        )
    )


EXPORT_COLUMNS = (
    "mentor_id",
    "mentor_name",
    "mentor_email",
    "mentor_institution",
    "mentee_id",
    "mentee_name",
    "mentee_email",
    "mentee_institution",
    "score",
    "explanation",
)


def export(uow: UnitOfWork, year: int, path: Path) -> int:
    """Write the approved pairs as CSV for the committee's records; returns how many."""
    with uow:
        session = uow.session
        pairs = approved_pairs(session, year)
        if not pairs:
            raise DomainError(f"cycle {year} has no approved pairing set to export")
        people = {m.member_id: m for m in session.scalars(select(MemberRow))}
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(EXPORT_COLUMNS)
            for p in pairs:
                mentor, mentee = people.get(p.mentor_id), people.get(p.mentee_id)
                writer.writerow(
                    [
                        p.mentor_id,
                        *_person(mentor),
                        p.mentee_id,
                        *_person(mentee),
                        p.score,
                        p.explanation,
                    ]
                )
        return len(pairs)


def _person(member: MemberRow | None) -> list[str]:
    if member is None:
        return ["", "", ""]
    return [f"{member.first_name} {member.last_name}".strip(), member.email, member.institution]


def set_matching(
    uow: UnitOfWork,
    year: int,
    *,
    actor: str,
    weights: dict[str, float],
    allow_same_institution: bool | None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Change this cycle's weights or institution rule (validated, audited)."""
    now = now or utcnow()
    known = {f.name for f in fields(MatchWeights)}
    unknown = sorted(set(weights) - known)
    if unknown:
        raise DomainError(
            f"unknown weight(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    with uow:
        session = uow.session
        current = cycle_settings.read(session, year).get("matching", {})
        merged_weights = {**current.get("weights", {}), **weights}
        MatchWeights(**merged_weights)
        values: dict[str, Any] = {"weights": merged_weights}
        if allow_same_institution is not None:
            values["allow_same_institution"] = allow_same_institution
        result = cycle_settings.update(session, year, "matching", values)
        audit_log.append(
            session,
            kind="matching_settings",
            cycle_year=year,
            at=now,
            actor=actor,
            fields=values,
            touched=("cycle_settings",),
        )
        uow.commit()
    return result
