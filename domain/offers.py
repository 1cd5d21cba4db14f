"""A re-pairing offer as the program keeps it, until the committee decides on it."""

from dataclasses import dataclass
from datetime import datetime

from domain.applications import Role
from domain.rematch import FreedSlot, OfferStatus


@dataclass(frozen=True)
class StoredOffer:
    """``member_id``/``role`` name the slot; ``mentor_id``/``mentee_id`` the offered pair,
    or None with ``reason`` when nobody fits."""

    id: int
    cycle_year: int
    set_id: int
    member_id: str
    role: str
    cause: str
    ended_mentor_id: str
    ended_mentee_id: str
    mentor_id: str | None
    mentee_id: str | None
    score: float | None
    explanation: str | None
    reason: str | None
    status: OfferStatus
    superseded_by: int | None
    created_at: datetime
    decided_at: datetime | None = None
    decided_by: str | None = None

    @property
    def slot(self) -> FreedSlot:
        return FreedSlot(self.member_id, Role(self.role))

    @property
    def ended_pair(self) -> tuple[str, str]:
        return self.ended_mentor_id, self.ended_mentee_id
