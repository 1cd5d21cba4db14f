"""Re-pairing offers: made when a pair dissolves, recomputed, decided by the committee.

A recomputed offer supersedes the old row rather than changing it, so an id the committee
read is never approved with a different pair.
"""

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.offers import OfferStatus, StoredOffer
from infra.tables import ID_RANGE, RepairingOfferRow

if TYPE_CHECKING:  # the solver is heavy to import; the repository only reads its result
    from domain.rematch import RematchOffer


def _offer(row: RepairingOfferRow) -> StoredOffer:
    return StoredOffer(
        id=row.id,
        cycle_year=row.cycle_year,
        set_id=row.set_id,
        member_id=row.member_id,
        role=row.role,
        cause=row.cause,
        ended_mentor_id=row.ended_mentor_id,
        ended_mentee_id=row.ended_mentee_id,
        mentor_id=row.mentor_id,
        mentee_id=row.mentee_id,
        score=row.score,
        explanation=row.explanation,
        reason=row.reason,
        status=OfferStatus(row.status),
        superseded_by=row.superseded_by,
        created_at=row.created_at,
        decided_at=row.decided_at,
        decided_by=row.decided_by,
    )


class OfferRepository:
    """Open offers oldest first; adding, closing, superseding and approving them."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def open(self, year: int) -> list[StoredOffer]:
        return [
            _offer(r)
            for r in self.session.scalars(
                select(RepairingOfferRow)
                .where(
                    RepairingOfferRow.cycle_year == year,
                    RepairingOfferRow.status == OfferStatus.open,
                )
                .order_by(RepairingOfferRow.id)
            )
        ]

    def get(self, year: int, offer_id: int) -> StoredOffer | None:
        row = self.session.get(RepairingOfferRow, offer_id) if offer_id in ID_RANGE else None
        return _offer(row) if row is not None and row.cycle_year == year else None

    def latest_for_pair(self, year: int, mentor_id: str, mentee_id: str) -> StoredOffer | None:
        """The newest open or approved offer of this pair."""
        row = self.session.scalars(
            select(RepairingOfferRow)
            .where(
                RepairingOfferRow.cycle_year == year,
                RepairingOfferRow.mentor_id == mentor_id,
                RepairingOfferRow.mentee_id == mentee_id,
                RepairingOfferRow.status.in_((OfferStatus.open, OfferStatus.approved)),
            )
            .order_by(RepairingOfferRow.id.desc())
        ).first()
        return _offer(row) if row else None

    def add(
        self,
        year: int,
        set_id: int,
        cause: str,
        ended: tuple[str, str],
        offer: "RematchOffer",
        now: datetime,
    ) -> StoredOffer:
        """Store the domain's offer (closed at once when nobody needs it any more)."""
        row = RepairingOfferRow(
            cycle_year=year,
            set_id=set_id,
            member_id=offer.slot.member_id,
            role=str(offer.slot.role),
            cause=cause,
            ended_mentor_id=ended[0],
            ended_mentee_id=ended[1],
            mentor_id=offer.mentor_id,
            mentee_id=offer.mentee_id,
            score=offer.score,
            explanation=offer.explanation,
            reason=offer.reason,
            status=OfferStatus.open if offer.needed else OfferStatus.closed,
            created_at=now,
            decided_at=None if offer.needed else now,
        )
        self.session.add(row)
        self.session.flush()
        return _offer(row)

    def close(self, offer_id: int, reason: str | None, now: datetime) -> StoredOffer:
        return self._change(offer_id, status=OfferStatus.closed, reason=reason, decided_at=now)

    def explain(self, offer_id: int, reason: str | None) -> StoredOffer:
        """An offer nobody fits keeps its id and gets the current reason."""
        return self._change(offer_id, reason=reason)

    def supersede(self, offer_id: int, by: int, now: datetime) -> StoredOffer:
        return self._change(
            offer_id, status=OfferStatus.superseded, superseded_by=by, decided_at=now
        )

    def approve(self, offer_id: int, actor: str, now: datetime) -> StoredOffer:
        return self._change(offer_id, status=OfferStatus.approved, decided_at=now, decided_by=actor)

    def _change(self, offer_id: int, **values: object) -> StoredOffer:
        row = self.session.get(RepairingOfferRow, offer_id)
        assert row is not None, f"there is no re-pairing offer {offer_id}"
        for name, value in values.items():
            setattr(row, name, value)
        return _offer(row)
