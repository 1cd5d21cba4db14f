"""The outbox: messages stored with the state change, delivered after it commits.

Each message has a unique idempotency key, so queueing it twice (a retried transition, a
rerun tick) stores it once, and delivery marks each one as soon as its fate is known.
"""

import base64
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, case, func, select, update
from sqlalchemy.orm import Session

from domain.notifications import Attachment, MessageKind, MessageStatus, OutgoingMessage
from domain.outbox import QueuedMessage
from infra.repositories.keyed_rows import BATCH, insert_new
from infra.tables import MessageRow


@dataclass(frozen=True)
class KindCount:
    """How many messages of one kind were queued, sent and failed (by a moment)."""

    kind: str
    queued: int
    sent: int
    failed: int


def ones(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """1 where ``condition`` holds, else 0: a portable conditional count inside ``sum``."""
    return case((condition, 1), else_=0)


def to_message(row: MessageRow) -> OutgoingMessage:
    return OutgoingMessage(
        key=row.key,
        kind=MessageKind(row.kind),
        cycle_year=row.cycle_year,
        to_address=row.to_address,
        to_name=row.to_name,
        subject=row.subject,
        text_body=row.text_body,
        html_body=row.html_body,
        attachments=tuple(
            Attachment(a["filename"], a["content_type"], base64.b64decode(a["data"]))
            for a in row.attachments
        ),
    )


class Outbox:
    """Queue messages in the caller's transaction; hand them to delivery in batches."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def enqueue(self, messages: Iterable[OutgoingMessage], now: datetime) -> int:
        """Store messages not queued before (by key); returns how many are new."""
        rows = [
            {
                "key": m.key,
                "cycle_year": m.cycle_year,
                "kind": str(m.kind),
                "to_address": m.to_address,
                "to_name": m.to_name,
                "subject": m.subject,
                "text_body": m.text_body,
                "html_body": m.html_body,
                "attachments": [
                    {
                        "filename": a.filename,
                        "content_type": a.content_type,
                        "data": base64.b64encode(a.data).decode(),
                    }
                    for a in m.attachments
                ],
                "status": MessageStatus.pending,
                "attempts": 0,
                "queued_at": now,
            }
            for m in messages
        ]
        return insert_new(self.session, MessageRow, rows)

    def pending_batches(self, size: int = BATCH) -> Iterator[Sequence[OutgoingMessage]]:
        """Pending messages in queue order, a batch at a time (keyset pagination)."""
        last_id = 0
        while True:
            rows = self.session.scalars(
                select(MessageRow)
                .where(MessageRow.status == MessageStatus.pending, MessageRow.id > last_id)
                .order_by(MessageRow.id)
                .limit(size)
            ).all()
            if not rows:
                return
            last_id = rows[-1].id
            yield [to_message(r) for r in rows]

    def pending_count(self) -> int:
        return int(
            self.session.scalar(
                select(func.count())
                .select_from(MessageRow)
                .where(MessageRow.status == MessageStatus.pending)
            )
            or 0
        )

    def mark(
        self, key: str, status: str, detail: str, now: datetime, *, tried: bool = True
    ) -> None:
        """Record a message's fate; a deferred or released one stays pending for the next
        run, and only a real try counts as an attempt."""
        values: dict[str, object] = {
            "attempts": MessageRow.attempts + (1 if tried else 0),
            "last_error": None,
        }
        if status == "sent":
            values.update(status="sent", sent_at=now)
        elif status == "failed":
            values.update(status="failed", last_error=detail)
        else:
            values.update(last_error=detail)
        self.session.execute(update(MessageRow).where(MessageRow.key == key).values(**values))

    def listing(self, year: int | None = None, *, failed_only: bool = False) -> list[QueuedMessage]:
        """What the outbox holds, newest first (bodies left out)."""
        query = select(MessageRow).order_by(MessageRow.id.desc())
        if year is not None:
            query = query.where(MessageRow.cycle_year == year)
        if failed_only:
            query = query.where(MessageRow.status == MessageStatus.failed)
        return [
            QueuedMessage(
                r.id,
                r.key,
                r.cycle_year,
                r.kind,
                r.to_address,
                r.subject,
                MessageStatus(r.status),
                r.attempts,
                r.last_error,
                r.queued_at,
                r.sent_at,
            )
            for r in self.session.scalars(query)
        ]

    def counts_by_kind(self, year: int, as_of: datetime | None = None) -> list[KindCount]:
        """Counts by kind; at a past moment, what had been queued and sent by then."""
        sent = (
            MessageRow.status == MessageStatus.sent
            if as_of is None
            else MessageRow.sent_at <= as_of
        )
        query = (
            select(
                MessageRow.kind,
                func.count(),
                func.sum(ones(sent)),
                func.sum(ones(MessageRow.status == MessageStatus.failed)),
            )
            .where(MessageRow.cycle_year == year)
            .group_by(MessageRow.kind)
            .order_by(MessageRow.kind)
        )
        if as_of is not None:
            query = query.where(MessageRow.queued_at <= as_of)
        return [
            KindCount(kind, int(queued), int(n_sent or 0), int(n_failed or 0))
            for kind, queued, n_sent, n_failed in self.session.execute(query).all()
        ]
