"""A queued message as the outbox keeps it: what it is, to whom, and what became of it."""

from dataclasses import dataclass
from datetime import datetime

from domain.notifications import MessageStatus


@dataclass(frozen=True)
class QueuedMessage:
    """The outbox's view of one message, bodies left out."""

    id: int
    key: str
    cycle_year: int
    kind: str
    to_address: str
    subject: str
    status: MessageStatus
    attempts: int
    last_error: str | None
    queued_at: datetime
    sent_at: datetime | None
