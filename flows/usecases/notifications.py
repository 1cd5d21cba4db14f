"""Delivering the outbox: every pending message, once, after the transitions committed."""

import os
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from flows.usecases.clock import utcnow
from infra import audit_log, outbox
from infra.mail import DeliveryResult, MailSettings, Transport, open_transport
from infra.settings import Settings
from infra.tables import MessageRow
from infra.uow import UnitOfWork


@dataclass(frozen=True)
class DeliveryCounts:
    """SPEC's ``notifications deliver --json``: sent now, failed for good, still pending."""

    sent: int
    failed: int
    pending: int


def mail_settings(settings: Settings | None = None) -> MailSettings:
    """Mail settings from the environment; the .eml folder defaults to MENTORING_HOME/mail."""
    settings = settings or Settings.from_env()
    env = dict(os.environ)
    env.setdefault("MENTORING_MAIL_DIR", str(settings.home / "mail"))
    return MailSettings.from_env(env)


def pending_count(uow: UnitOfWork) -> int:
    with uow:
        return int(
            uow.session.scalar(
                select(func.count()).select_from(MessageRow).where(MessageRow.status == "pending")
            )
            or 0
        )


def deliver(
    uow: UnitOfWork,
    transport: Transport | None = None,
    *,
    progress: Callable[[int, int], None] | None = None,
    now: Callable[[], datetime] = utcnow,
) -> DeliveryCounts:
    """Send every pending message; each is marked the moment its fate is known, so a
    crash re-sends at most the one message that was in flight."""
    transport = transport or open_transport(mail_settings())
    total, done = pending_count(uow), 0
    outcomes: dict[int, Counter[str]] = defaultdict(Counter)
    with uow:
        session = uow.session

        def record(result: DeliveryResult) -> None:
            outbox.mark(session, result.key, str(result.status), result.detail, now())
            session.commit()
            outcomes[int(result.key.split("/", 1)[0])][str(result.status)] += 1

        for batch in outbox.pending_batches(session):
            transport.deliver(batch, record, _offset(progress, done, total))
            done += len(batch)
        for year, counts in sorted(outcomes.items()):
            audit_log.append(
                session,
                kind="mail_delivered",
                cycle_year=year,
                at=now(),
                actor="mail delivery",
                fields=dict(counts),
                touched=("messages",),
            )
        session.commit()
    return DeliveryCounts(
        sum(c["sent"] for c in outcomes.values()),
        sum(c["failed"] for c in outcomes.values()),
        pending_count(uow),
    )


def _offset(
    progress: Callable[[int, int], None] | None, done: int, total: int
) -> Callable[[int], None] | None:
    """Turn a batch's own count into progress over the whole run."""
    if progress is None:
        return None
    return lambda n: progress(done + n, total)


def mail_folder() -> Path:
    return mail_settings().mail_dir


def list_messages(
    uow: UnitOfWork, *, year: int | None = None, failed_only: bool = False
) -> list[dict[str, Any]]:
    """What the outbox holds, newest first (bodies left out)."""
    query = select(MessageRow).order_by(MessageRow.id.desc())
    if year is not None:
        query = query.where(MessageRow.cycle_year == year)
    if failed_only:
        query = query.where(MessageRow.status == "failed")
    with uow:
        return [
            {
                "id": r.id,
                "key": r.key,
                "kind": r.kind,
                "to_address": r.to_address,
                "subject": r.subject,
                "status": r.status,
                "attempts": r.attempts,
                "last_error": r.last_error,
                "queued_at": r.queued_at.isoformat(),
                "sent_at": r.sent_at.isoformat() if r.sent_at else None,
            }
            for r in uow.session.scalars(query)
        ]
