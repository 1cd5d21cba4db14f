"""Re-pairing offers: the slot a dissolved pair left open, and an offer as the program keeps
it until the committee decides on it (kept apart from the solver, which is heavy to load)."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.applications import Role


class OfferStatus(StrEnum):
    """A re-pairing offer is ``open`` for the committee until it is ``approved``, replaced
    by a better one (``superseded``), or no longer needed (``closed``)."""

    open = "open"
    closed = "closed"
    superseded = "superseded"
    approved = "approved"


@dataclass(frozen=True)
class FreedSlot:
    """Someone a dissolved pair left short, in the role that needs a new partner."""

    member_id: str
    role: Role

    def __post_init__(self) -> None:
        if self.role not in (Role.MENTOR, Role.MENTEE):
            raise ValueError(f"a freed slot is a mentor's or a mentee's, not {self.role}")


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
