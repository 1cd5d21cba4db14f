"""Delivering the outbox: every pending message, once, after the transitions committed."""

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select

from flows.usecases.clock import utcnow
from infra import outbox
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
    total, done, sent, failed = pending_count(uow), 0, 0, 0
    with uow:
        session = uow.session

        def record(result: DeliveryResult) -> None:
            nonlocal sent, failed
            outbox.mark(session, result.key, str(result.status), result.detail, now())
            session.commit()
            sent += result.status == "sent"
            failed += result.status == "failed"

        for batch in outbox.pending_batches(session):
            transport.deliver(batch, record, _offset(progress, done, total))
            done += len(batch)
    return DeliveryCounts(sent, failed, pending_count(uow))


def _offset(
    progress: Callable[[int, int], None] | None, done: int, total: int
) -> Callable[[int], None] | None:
    """Turn a batch's own count into progress over the whole run."""
    if progress is None:
        return None
    return lambda n: progress(done + n, total)


def mail_folder() -> Path:
    return mail_settings().mail_dir
