"""Pairing sets, their pairs and waiting list, and the committee's fixed and blocked pairs."""

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.pairing_rules import PairingRules
from domain.pairing_status import PairingSetStatus, PairStatus
from domain.pairs import LeftOut, Pair, PairingSet
from infra.repositories.settings import SettingsRepository
from infra.tables import PairingRuleRow, PairingSetRow, PairRow, UnmatchedRow

if TYPE_CHECKING:  # the solver is heavy to import; the repository only stores its result
    from domain.matching import PairingProposal


def _set(row: PairingSetRow) -> PairingSet:
    return PairingSet(
        row.id,
        row.cycle_year,
        PairingSetStatus(row.status),
        row.proposed_at,
        row.approved_by,
        row.approved_at,
    )


def _pair(row: PairRow) -> Pair:
    return Pair(
        row.id,
        row.set_id,
        row.mentor_id,
        row.mentee_id,
        row.score,
        row.explanation,
        PairStatus(row.status),
        row.ended_at,
        row.ended_reason,
    )


class PairingRepository:
    """What was proposed and approved for a cycle, and the edits the solver respects."""

    def __init__(self, session: Session, settings: SettingsRepository) -> None:
        self.session = session
        self.settings = settings

    # --- sets -------------------------------------------------------------------------------

    def latest_set(self, year: int, status: PairingSetStatus) -> PairingSet | None:
        row = self._latest_row(year, status)
        return _set(row) if row else None

    def supersede_proposals(self, year: int) -> list[int]:
        """Set aside every current proposal; returns their ids."""
        rows = self.session.scalars(
            select(PairingSetRow).where(
                PairingSetRow.cycle_year == year, PairingSetRow.status == PairingSetStatus.proposed
            )
        ).all()
        for row in rows:
            row.status = PairingSetStatus.superseded
        return [row.id for row in rows]

    def store_proposal(
        self, year: int, proposal: "PairingProposal", queue: dict[str, int], now: datetime
    ) -> PairingSet:
        """Keep ``proposal`` as the cycle's current proposal (earlier ones set aside), with
        each left-out mentee's place on the waiting list."""
        self.supersede_proposals(year)
        row = PairingSetRow(cycle_year=year, status=PairingSetStatus.proposed, proposed_at=now)
        self.session.add(row)
        self.session.flush()
        self.session.add_all(
            PairRow(
                set_id=row.id,
                mentor_id=p.mentor_id,
                mentee_id=p.mentee_id,
                score=p.score,
                explanation=p.breakdown.explain(),
                status=PairStatus.active,
            )
            for p in proposal.pairs
        )
        self.session.add_all(
            UnmatchedRow(
                set_id=row.id,
                member_id=u.member_id,
                role=str(u.role),
                reason=u.reason,
                position=queue.get(u.member_id) if str(u.role) == "mentee" else None,
            )
            for u in proposal.unmatched
        )
        self.session.flush()
        return _set(row)

    def approve(self, set_id: int, actor: str, now: datetime) -> None:
        """Make ``set_id`` the approved set; the one approved before is superseded."""
        row = self.session.get(PairingSetRow, set_id)
        assert row is not None, f"there is no pairing set {set_id}"
        previous = self._latest_row(row.cycle_year, PairingSetStatus.approved)
        if previous is not None:
            previous.status = PairingSetStatus.superseded
        row.status, row.approved_by, row.approved_at = PairingSetStatus.approved, actor, now

    # --- pairs ------------------------------------------------------------------------------

    def pairs_of(self, set_id: int) -> list[Pair]:
        """Every pair of a set, dissolved ones included, in the order they were made."""
        return [
            _pair(r)
            for r in self.session.scalars(
                select(PairRow).where(PairRow.set_id == set_id).order_by(PairRow.id)
            )
        ]

    def approved_pairs(self, year: int) -> list[Pair]:
        """The approved set's active pairs, by mentor then mentee."""
        approved = self._latest_row(year, PairingSetStatus.approved)
        if approved is None:
            return []
        return [
            _pair(r)
            for r in self.session.scalars(
                select(PairRow)
                .where(PairRow.set_id == approved.id, PairRow.status == PairStatus.active)
                .order_by(PairRow.mentor_id, PairRow.mentee_id)
            )
        ]

    def find_pair(self, set_id: int, mentor_id: str, mentee_id: str) -> Pair | None:
        """The latest pair of these two in the set (active or not)."""
        row = self.session.scalars(
            select(PairRow)
            .where(
                PairRow.set_id == set_id,
                PairRow.mentor_id == mentor_id,
                PairRow.mentee_id == mentee_id,
            )
            .order_by(PairRow.id.desc())
        ).first()
        return _pair(row) if row else None

    def end_pairs(
        self, pairs: Iterable[Pair], status: PairStatus, reason: str, now: datetime
    ) -> list[Pair]:
        """Dissolve ``pairs`` (``withdrawn`` or ``ended``); returns them as they now stand."""
        ended = []
        for pair in pairs:
            row = self.session.get(PairRow, pair.id)
            assert row is not None, f"there is no pair {pair.id}"
            row.status, row.ended_at, row.ended_reason = status, now, reason
            ended.append(_pair(row))
        return ended

    def add_pair(
        self, set_id: int, mentor_id: str, mentee_id: str, score: float, explanation: str
    ) -> None:
        self.session.add(
            PairRow(
                set_id=set_id,
                mentor_id=mentor_id,
                mentee_id=mentee_id,
                score=score,
                explanation=explanation,
                status=PairStatus.active,
            )
        )
        self.session.flush()

    def pair_counts(self, year: int) -> tuple[int, int]:
        """(active pairs, all pairs) of the cycle's approved set."""
        approved = self._latest_row(year, PairingSetStatus.approved)
        if approved is None:
            return 0, 0
        counts = dict(
            self.session.execute(
                select(PairRow.status, func.count())
                .where(PairRow.set_id == approved.id)
                .group_by(PairRow.status)
            ).all()
        )
        return int(counts.get(PairStatus.active.value, 0)), int(sum(counts.values()))

    def waiting(self, set_id: int) -> list[LeftOut]:
        """Who the set left out, in the order the solver gave."""
        return [
            LeftOut(u.member_id, u.role, u.reason, u.position)
            for u in self.session.scalars(
                select(UnmatchedRow).where(UnmatchedRow.set_id == set_id).order_by(UnmatchedRow.id)
            )
        ]

    # --- the committee's edits --------------------------------------------------------------

    def rules(self, year: int) -> PairingRules:
        """The solver's constraints: the institution rule and every fixed or blocked pair."""
        edits = self.session.scalars(
            select(PairingRuleRow).where(PairingRuleRow.cycle_year == year)
        ).all()
        return PairingRules(
            allow_same_institution=self.settings.allow_same_institution(year),
            fixed=frozenset((e.mentor_id, e.mentee_id) for e in edits if e.kind == "fix"),
            blocked=frozenset((e.mentor_id, e.mentee_id) for e in edits if e.kind == "block"),
        )

    def edit_kind(self, year: int, mentor_id: str, mentee_id: str) -> str | None:
        """``fix`` or ``block`` if the committee set one on this pair."""
        row = self.session.get(PairingRuleRow, (year, mentor_id, mentee_id))
        return row.kind if row else None

    def set_edit(
        self, year: int, mentor_id: str, mentee_id: str, kind: str, actor: str, now: datetime
    ) -> None:
        self.session.merge(
            PairingRuleRow(
                cycle_year=year,
                mentor_id=mentor_id,
                mentee_id=mentee_id,
                kind=kind,
                actor=actor,
                at=now,
            )
        )

    def lift_edit(self, year: int, mentor_id: str, mentee_id: str) -> None:
        row = self.session.get(PairingRuleRow, (year, mentor_id, mentee_id))
        if row is not None:
            self.session.delete(row)

    def _latest_row(self, year: int, status: PairingSetStatus) -> PairingSetRow | None:
        return self.session.scalars(
            select(PairingSetRow)
            .where(PairingSetRow.cycle_year == year, PairingSetRow.status == status)
            .order_by(PairingSetRow.id.desc())
        ).first()
