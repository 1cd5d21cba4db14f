"""Pairing sets and pairs as the program keeps them, once proposed or approved."""

from dataclasses import dataclass
from datetime import datetime

from domain.pairing_status import PairingSetStatus, PairStatus


@dataclass(frozen=True)
class PairingSet:
    """A proposal for a cycle, or the set the committee approved (announcing needs one)."""

    id: int
    cycle_year: int
    status: PairingSetStatus
    proposed_at: datetime
    approved_by: str | None = None
    approved_at: datetime | None = None


@dataclass(frozen=True)
class Pair:
    """One mentor–mentee pair of a set; a dissolved pair keeps its row with a new status."""

    id: int
    set_id: int
    mentor_id: str
    mentee_id: str
    score: float
    explanation: str
    status: PairStatus = PairStatus.active
    ended_at: datetime | None = None
    ended_reason: str | None = None

    @property
    def members(self) -> tuple[str, str]:
        return self.mentor_id, self.mentee_id


@dataclass(frozen=True)
class LeftOut:
    """An applicant a set left out, why, and (for mentees) their place on the waiting list."""

    member_id: str
    role: str
    reason: str
    position: int | None
