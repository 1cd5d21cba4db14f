"""Delivering the outbox: every pending message, once, after the transitions committed."""

import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

from domain.outbox import QueuedMessage
from flows.usecases.clock import utcnow
from infra.mail import DeliveryResult, DeliveryStatus, MailSettings, Transport, halted
from infra.mail_transport import open_transport
from infra.settings import mail_settings_from_env
from infra.uow import UnitOfWork


@dataclass(frozen=True)
class DeliveryCounts:
    """SPEC's ``notifications deliver --json``: sent now, failed for good, still pending;
    ``blocked`` is the sentence naming the server and why it could not be used, if so."""

    sent: int
    failed: int
    pending: int
    blocked: str | None = None
    halted: str | None = None  # why the run stopped early (deadline, stop), if it did

    def as_dict(self) -> dict[str, Any]:
        counts: dict[str, Any] = {"sent": self.sent, "failed": self.failed, "pending": self.pending}
        if self.blocked is not None:
            counts["blocked"] = self.blocked
        if self.halted is not None:
            counts["halted"] = self.halted
        return counts


CLAIM_SIZE = 500  # messages leased at a time: enough to keep a pool busy, few to hold back
LEASE_GRACE = 60.0  # seconds a lease outlives the run's hard end (clock skew, slow commits)
UNBOUNDED_LEASE = 3600.0  # without a run deadline: an hour, renewed at every recording


def mail_settings() -> MailSettings:
    """Mail settings from the environment; the .eml folder defaults to MENTORING_HOME/mail."""
    return mail_settings_from_env()


def pending_count(uow: UnitOfWork) -> int:
    with uow:
        return uow.outbox.pending_count()


@dataclass
class _Recorder:
    """Records a claim's results in short transactions: each at once (``eager``), or in
    groups at the transport's :meth:`flush` where a second delivery replaces the first.
    """

    uow: UnitOfWork
    token: str
    now: Callable[[], datetime]
    lease: Callable[[], datetime]
    renew: bool
    eager: bool
    waiting: list[DeliveryResult] = field(default_factory=list)
    outcomes: dict[int, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))

    def add(self, result: DeliveryResult) -> None:
        self.waiting.append(result)
        if self.eager:
            self.flush()

    def flush(self) -> None:
        if not self.waiting:
            return
        with self.uow as uow:
            uow.outbox.record(self.token, self.waiting, self.now())
            if self.renew:
                uow.outbox.renew(self.token, self.lease())
            counts = Counter(str(r.status) for r in self.waiting)
            uow.audit.append(
                kind="mail_recorded",
                cycle_year=None,
                at=self.now(),
                actor="mail delivery",
                fields={"sent": counts["sent"], "failed": counts["failed"]},
            )
            uow.commit()
        for result in self.waiting:
            self.outcomes[int(result.key.split("/", 1)[0])][str(result.status)] += 1
        self.waiting.clear()


def deliver(
    uow: UnitOfWork,
    transport: Transport | None = None,
    *,
    progress: Callable[[int, int], None] | None = None,
    now: Callable[[], datetime] = utcnow,
    stop: threading.Event | None = None,
) -> DeliveryCounts:
    """Send every pending message once, however many deliveries run at the same time.

    Each round leases a batch of messages in a short transaction of its own (see
    ``Outbox.claim``), sends them with no database transaction open, and records the
    results in short transactions as they come. Nothing holds a database lock while the
    server is talked to, so transitions and withdrawals go on meanwhile.

    The run stops beginning messages at its deadline (``MENTORING_MAIL_DEADLINE``), when
    ``stop`` is set, or once the server itself cannot be used (``blocked``); what it did
    not try is given back, no attempt counted. A lease lasts until the run's hard end
    (deadline + one step timeout) and a grace; a crashed run's messages go out after that.
    An exception (the database gone while recording) leaves the leases to run out rather
    than free messages the server may have taken.

    What a crash may send twice: over SMTP each result is recorded the moment it comes,
    so at most the messages the server may have taken and not yet recorded: one in flight
    per connection, one per connection waiting to be recorded, and the one being recorded
    (2 x connections + 1). To the .eml folder results are recorded a chunk at a time; a
    crash rewrites those files, it does not copy them.
    """
    settings = mail_settings()
    transport = transport or open_transport(settings)
    deadline = settings.run_deadline()
    start = time.monotonic()
    if settings.deadline_seconds is None:
        lease_seconds = UNBOUNDED_LEASE
    else:
        lease_seconds = settings.deadline_seconds + settings.timeout + LEASE_GRACE

    def lease() -> datetime:
        left = lease_seconds - (time.monotonic() - start) if deadline else lease_seconds
        return now() + timedelta(seconds=max(left, LEASE_GRACE))

    recorder = _Recorder(
        uow,
        uuid4().hex,
        now,
        lease,
        renew=deadline is None,
        eager=not transport.resend_replaces,
    )
    total, done, blocked = pending_count(uow), 0, None
    while halted(deadline, stop) is None:
        with uow:
            batch = uow.outbox.claim(recorder.token, now(), lease(), CLAIM_SIZE)
            held = uow.outbox.held
            if held:
                uow.audit.append(
                    kind="mail_held",
                    cycle_year=None,
                    at=now(),
                    actor="mail delivery",
                    fields={"messages": held},
                )
            uow.commit()
        for key in held:
            recorder.outcomes[int(key.split("/", 1)[0])][DeliveryStatus.failed] += 1
        if not batch:
            if held:
                continue
            break
        report = transport.deliver(
            batch,
            recorder.add,
            _offset(progress, done, total),
            deadline=deadline,
            stop=stop,
            flush=recorder.flush,
        )
        recorder.flush()
        done += len(batch)
        blocked = report.blocked
        if blocked or report.released:
            break
    halt = None if blocked else halted(deadline, stop)
    with uow:
        uow.outbox.release(recorder.token)
        uow.commit()
    outcomes = recorder.outcomes
    with uow:
        for year, counts in sorted(outcomes.items()):
            uow.audit.append(
                kind="mail_delivered",
                cycle_year=year,
                at=now(),
                actor="mail delivery",
                fields=dict(counts),
            )
        uow.commit()
    pending = pending_count(uow)
    return DeliveryCounts(
        sum(c[DeliveryStatus.sent] for c in outcomes.values()),
        sum(c[DeliveryStatus.failed] for c in outcomes.values()),
        pending,
        blocked,
        halt.removeprefix("not tried: ") if halt and pending else None,
    )


def _offset(
    progress: Callable[[int, int], None] | None, done: int, total: int
) -> Callable[[int], None] | None:
    """Turn a batch's own count into progress over the whole run."""
    if progress is None:
        return None
    return lambda n: progress(done + n, max(total, done + n))


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
