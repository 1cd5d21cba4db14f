"""The outbox: messages stored with the state change, delivered after it commits.

Each message has a unique idempotency key, so queueing it twice (a retried transition, a
rerun tick) stores it once, and delivery marks each one as soon as its fate is known.
"""

import base64
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Row, Table, bindparam, case, func, select
from sqlalchemy.orm import Session

from domain.notifications import Attachment, MessageKind, MessageStatus, OutgoingMessage
from domain.outbox import QueuedMessage
from infra.seal_book import BY_NAME, SealBook, key_text, row_hash
from infra.tables import MessageRow

# Core statements on the table: recording a batch must not walk the session's objects.
_MESSAGES: Table = MessageRow.__table__  # type: ignore[assignment]
_FREE = {"claim_token": None, "claimed_until": None}


CONTENT = BY_NAME["messages"]
STATE = BY_NAME["message_state"]


class Outcome(Protocol):
    """What :meth:`Outbox.record` needs of a delivery result."""

    @property
    def key(self) -> str: ...

    @property
    def status(self) -> str: ...

    @property
    def detail(self) -> str: ...

    @property
    def tried(self) -> bool: ...


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


def to_message(row: MessageRow | Row[Any]) -> OutgoingMessage:
    """The message a stored row holds (an ORM object or a row of the table)."""
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
        self.held: list[str] = []

    def enqueue(self, messages: Iterable[OutgoingMessage], now: datetime) -> int:
        """Store messages not queued before (by key); returns how many are new."""
        # Here, not at the top: it loads the PostgreSQL dialect, which a delivery never needs.
        from infra.repositories.keyed_rows import insert_new

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

    def claim(self, token: str, now: datetime, until: datetime, size: int) -> list[OutgoingMessage]:
        """Lease up to ``size`` pending messages nobody holds (or whose lease ran out) to
        ``token`` until ``until``; returns them in queue order.

        The caller commits at once, so the claim is a short transaction of its own. On
        PostgreSQL the candidates are locked ``FOR UPDATE SKIP LOCKED``, so concurrent
        claims take different messages without waiting; SQLite's ``BEGIN IMMEDIATE``
        makes claims run one after the other. The guarded ``UPDATE`` re-checks that each
        message is still free, so a message is never leased to two deliveries at once.
        """
        free = (MessageRow.status == MessageStatus.pending) & (
            MessageRow.claimed_until.is_(None) | (MessageRow.claimed_until < now)
        )
        candidates = (
            select(MessageRow.id)
            .where(free)
            .order_by(MessageRow.id)
            .limit(size)
            .with_for_update(skip_locked=True)
        )
        ids = list(self.session.scalars(candidates))
        if not ids:
            return []
        self.session.execute(
            _MESSAGES.update()
            .where(_MESSAGES.c.id.in_(ids), free)
            .values(claim_token=token, claimed_until=until)
        )
        # Table rows, not ORM objects: nothing to track, and a claim only reads them.
        rows = self.session.execute(
            select(_MESSAGES)
            .where(_MESSAGES.c.claim_token == token, _MESSAGES.c.id.in_(ids))
            .order_by(_MESSAGES.c.id)
        ).all()
        held = self._altered(rows)
        messages = [to_message(r) for r in rows if r.key not in held]
        self.session.expunge_all()
        self._hold(token, held, now)
        self.held = sorted(held)
        return messages

    def _altered(self, rows: Sequence[Row[Any]]) -> dict[str, tuple[str, bool]]:
        """Claimed messages that differ from what the program wrote (their content or
        their delivery state): why, and whether the state itself still matches."""
        book = SealBook.of(self.session)
        keys = [(r.key,) for r in rows]
        texts = [key_text(k) for k in keys]
        matches: dict[str, dict[str, bool]] = {}
        for facet in (CONTENT, STATE):
            expected = book.expected(self.session, facet, texts)
            # The rows were just read whole: hash what was read, the very values to be sent.
            now = {
                t: row_hash([getattr(r, c) for c in facet.columns])
                for t, r in zip(texts, rows, strict=True)
            }
            matches[facet.name] = {
                t: t in expected and expected[t][1] is not None and now[t] == expected[t][1]
                for t in texts
            }
        altered: dict[str, tuple[str, bool]] = {}
        for (key,), text in zip(keys, texts, strict=True):
            content_ok, state_ok = matches[CONTENT.name][text], matches[STATE.name][text]
            if not (content_ok and state_ok):
                what = "its delivery state" if content_ok else "its recipient, subject or body"
                altered[key] = (
                    f"held: {what} was changed outside the program, so it is not sent; "
                    "see `mentoring audit verify`",
                    state_ok,
                )
        return altered

    def _hold(self, token: str, held: Mapping[str, tuple[str, bool]], now: datetime) -> None:
        """Mark held messages failed with why; the new state is sealed only where the old
        one was the program's own, so a tampered state stays named by ``audit verify``."""
        if not held:
            return
        self.session.execute(
            _MESSAGES.update()
            .where(_MESSAGES.c.key == bindparam("k"), _MESSAGES.c.claim_token == token)
            .values(status=MessageStatus.failed, last_error=bindparam("detail"), **_FREE),
            [{"k": key, "detail": why} for key, (why, _) in held.items()],
        )
        book = SealBook.of(self.session)
        for key, (_, state_ok) in held.items():
            if state_ok:
                book.wrote(STATE, (key,), (MessageStatus.failed, None))

    def renew(self, token: str, until: datetime) -> None:
        """Extend the lease of every message ``token`` still holds."""
        self.session.execute(
            _MESSAGES.update().where(_MESSAGES.c.claim_token == token).values(claimed_until=until)
        )

    def record(self, token: str, outcomes: Sequence[Outcome], now: datetime) -> None:
        """Record the fate of messages ``token`` holds, and free them (a message whose
        lease was lost to another delivery is left alone).

        At most four statements, whatever the number of outcomes: the sent ones in one
        ``UPDATE``, the others one executemany each (failed for good; tried and kept
        pending; given back untried, no attempt counted).
        """
        sent = [o.key for o in outcomes if o.status == "sent"]
        book = SealBook.of(self.session)
        for key in sent:
            book.wrote(STATE, (key,), (MessageStatus.sent, now))
        for o in outcomes:
            if o.status == "failed":
                book.wrote(STATE, (o.key,), (MessageStatus.failed, None))
        if sent:
            self.session.execute(
                _MESSAGES.update()
                .where(_MESSAGES.c.key.in_(sent), _MESSAGES.c.claim_token == token)
                .values(
                    status=MessageStatus.sent,
                    sent_at=now,
                    attempts=_MESSAGES.c.attempts + 1,
                    last_error=None,
                    **_FREE,
                )
            )
        for status in ("failed", "deferred", "released"):
            params = [
                {"k": o.key, "t": token, "detail": o.detail, "tried": 1 if o.tried else 0}
                for o in outcomes
                if o.status == status
            ]
            if params:
                final = MessageStatus.failed if status == "failed" else MessageStatus.pending
                self.session.execute(
                    _MESSAGES.update()
                    .where(
                        _MESSAGES.c.key == bindparam("k"), _MESSAGES.c.claim_token == bindparam("t")
                    )
                    .values(
                        status=final,
                        attempts=_MESSAGES.c.attempts + bindparam("tried"),
                        last_error=bindparam("detail"),
                        **_FREE,
                    ),
                    params,
                )

    def release(self, token: str) -> None:
        """Give back, untouched, whatever ``token`` still holds (a run that stops early)."""
        self.session.execute(
            _MESSAGES.update().where(_MESSAGES.c.claim_token == token).values(**_FREE)
        )

    def pending_count(self) -> int:
        return int(
            self.session.scalar(
                select(func.count())
                .select_from(MessageRow)
                .where(MessageRow.status == MessageStatus.pending)
            )
            or 0
        )

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
