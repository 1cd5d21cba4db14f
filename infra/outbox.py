"""The outbox: messages stored with the state change, delivered after it commits.

Each message has a unique idempotency key, so queueing it twice (a retried transition, a
rerun tick) stores it once, and delivery marks each one as soon as its fate is known.
"""

import base64
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from domain.notifications import Attachment, MessageKind, OutgoingMessage
from infra.tables import Base, MessageRow

BATCH = 1000


def insert_new(session: Session, table: type[Base], rows: list[dict[str, Any]]) -> int:
    """Insert rows whose ``key`` is not stored yet; returns how many were new.

    Keys already present are skipped (looked up first, so the count is exact and a rerun
    sends no bodies to the database), and ``ON CONFLICT DO NOTHING`` covers a concurrent
    writer racing us to the same key. The insert goes to the table, not the mapped class:
    a plain executemany of the dicts, without the ORM bulk path's per-row bookkeeping, which
    cost more than the driver's own work (benchmarks/RESULTS-queueing.md).
    """
    core = table.__table__
    assert isinstance(core, Table)
    column = core.c.key
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(core).on_conflict_do_nothing(index_elements=["key"])
    added = 0
    for start in range(0, len(rows), BATCH):
        chunk = rows[start : start + BATCH]
        known = set(session.scalars(select(column).where(column.in_([r["key"] for r in chunk]))))
        fresh = [r for r in chunk if r["key"] not in known] if known else chunk
        if fresh:
            session.execute(statement, fresh)
        added += len(fresh)
    return added


def enqueue(session: Session, messages: Iterable[OutgoingMessage], now: datetime) -> int:
    """Store messages not queued before (by key) in the caller's transaction."""
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
            "status": "pending",
            "attempts": 0,
            "queued_at": now,
        }
        for m in messages
    ]
    return insert_new(session, MessageRow, rows)


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


def pending_batches(session: Session, size: int = BATCH) -> Iterator[Sequence[OutgoingMessage]]:
    """Pending messages in queue order, a batch at a time (keyset pagination)."""
    last_id = 0
    while True:
        rows = session.scalars(
            select(MessageRow)
            .where(MessageRow.status == "pending", MessageRow.id > last_id)
            .order_by(MessageRow.id)
            .limit(size)
        ).all()
        if not rows:
            return
        last_id = rows[-1].id
        yield [to_message(r) for r in rows]


def mark(session: Session, key: str, status: str, detail: str, now: datetime) -> None:
    """Record a message's fate; a deferred one stays pending for the next run."""
    values: dict[str, object] = {"attempts": MessageRow.attempts + 1, "last_error": None}
    if status == "sent":
        values.update(status="sent", sent_at=now)
    elif status == "failed":
        values.update(status="failed", last_error=detail)
    else:
        values.update(last_error=detail)
    session.execute(update(MessageRow).where(MessageRow.key == key).values(**values))
