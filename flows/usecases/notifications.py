"""Delivering the outbox: every pending message, once, after the transitions committed."""

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any

from domain.outbox import QueuedMessage
from flows.usecases.clock import utcnow
from infra.mail import DeliveryResult, DeliveryStatus, MailSettings, Transport
from infra.mail_transport import open_transport
from infra.settings import mail_settings_from_env
from infra.uow import UnitOfWork


@dataclass(frozen=True)
class DeliveryCounts:
    """SPEC's ``notifications deliver --json``: sent now, failed for good, still pending."""

    sent: int
    failed: int
    pending: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def mail_settings() -> MailSettings:
    """Mail settings from the environment; the .eml folder defaults to MENTORING_HOME/mail."""
    return mail_settings_from_env()


def pending_count(uow: UnitOfWork) -> int:
    with uow:
        return uow.outbox.pending_count()


def deliver(
    uow: UnitOfWork,
    transport: Transport | None = None,
    *,
    progress: Callable[[int, int], None] | None = None,
    now: Callable[[], datetime] = utcnow,
) -> DeliveryCounts:
    """Send every pending message; each is marked, and committed, the moment its fate is known.

    A run stops beginning messages at its deadline (``MENTORING_MAIL_DEADLINE``) or once
    the server itself cannot be used; what it did not try stays pending, no attempt counted.
    Delivery is at least once: a crash re-sends on the next run only the messages the
    server may have taken that were not yet marked. Over SMTP that is at most
    2 x connections + 1 (per connection one being sent and one waiting to be marked, plus
    the one being marked); to the .eml folder, at most the one being written, whose file
    is then overwritten, not copied.
    """
    settings = mail_settings()
    transport = transport or open_transport(settings)
    deadline = settings.run_deadline()
    total, done = pending_count(uow), 0
    outcomes: dict[int, Counter[str]] = defaultdict(Counter)
    with uow:

        def record(result: DeliveryResult) -> None:
            uow.outbox.mark(
                result.key, str(result.status), result.detail, now(), tried=result.tried
            )
            uow.commit()
            outcomes[int(result.key.split("/", 1)[0])][str(result.status)] += 1

        for batch in uow.outbox.pending_batches():
            report = transport.deliver(
                batch, record, _offset(progress, done, total), deadline=deadline
            )
            done += len(batch)
            if report.blocked or report.released:
                break
        for year, counts in sorted(outcomes.items()):
            uow.audit.append(
                kind="mail_delivered",
                cycle_year=year,
                at=now(),
                actor="mail delivery",
                fields=dict(counts),
                touched=("messages",),
            )
        uow.commit()
    return DeliveryCounts(
        sum(c[DeliveryStatus.sent] for c in outcomes.values()),
        sum(c[DeliveryStatus.failed] for c in outcomes.values()),
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


@dataclass(frozen=True)
class ListedMessage(QueuedMessage):
    """A queued message as ``notifications list --json`` shows it."""

    @classmethod
    def of(cls, message: QueuedMessage) -> "ListedMessage":
        return cls(**{f.name: getattr(message, f.name) for f in fields(message)})

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "key": self.key,
            "kind": self.kind,
            "to_address": self.to_address,
            "subject": self.subject,
            "status": str(self.status),
            "attempts": self.attempts,
            "last_error": self.last_error,
            "queued_at": self.queued_at.isoformat(),
            "sent_at": self.sent_at.isoformat() if self.sent_at else None,
        }


def list_messages(
    uow: UnitOfWork, *, year: int | None = None, failed_only: bool = False
) -> list[ListedMessage]:
    """What the outbox holds, newest first (bodies left out)."""
    with uow:
        return [ListedMessage.of(m) for m in uow.outbox.listing(year, failed_only=failed_only)]
