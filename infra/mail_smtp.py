"""SMTP delivery: a bounded pool of reused connections, retries, and honest outcomes.

A relay's round trip, not our CPU, bounds the rate: one connection per message pays for
connect, greeting, EHLO (and TLS, AUTH) and QUIT every time. Here each of N worker threads
keeps one session open for many messages; N is bounded so we stay within what the relay
allows (a worker refused with "421 too many connections" hands its work to the others).

A message is retried, with exponential backoff, only when it certainly was not accepted
(see ``infra.mail_session``), so the transport never sends a message twice by itself.
Results go back to the caller's thread, where ``on_result`` runs, as each is known, and
workers wait while the caller is behind (see ``_Run.report`` for what a crash re-sends).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from tenacity import (
    Retrying,
    before_sleep_log,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from domain.notifications import OutgoingMessage
from infra.mail import (
    BadAddressError,
    DeliveryReport,
    DeliveryResult,
    DeliveryStatus,
    MailSettings,
    OnResult,
    Progress,
)
from infra.mail_session import (
    SessionCount,
    SessionRefused,
    Settled,
    SmtpSession,
    Transient,
    as_data,
)

log = logging.getLogger(__name__)


@dataclass
class _Run:
    """What the workers of one ``deliver`` call share."""

    work: queue.SimpleQueue[OutgoingMessage]
    results: queue.Queue[DeliveryResult]
    workers: int
    sessions: SessionCount = field(default_factory=SessionCount)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    blocked: str | None = None

    def report(self, result: DeliveryResult) -> None:
        """Hand a result to the caller's thread, waiting while it is behind.

        The queue holds as many results as there are workers (connections), so workers
        cannot run far ahead of the caller, which marks one message at a time. Possibly
        taken by the server but not yet marked, at any moment: the queued results (at most
        one per connection in all), one message per connection being sent or waiting to be
        queued, and the one being marked. A crash re-sends at most those: 2 x connections + 1.
        """
        while not self.stop.is_set():
            try:
                self.results.put(result, timeout=0.1)
                return
            except queue.Full:
                continue

    def defer(self, msg: OutgoingMessage, detail: str) -> None:
        self.report(DeliveryResult(msg.key, DeliveryStatus.deferred, detail))

    def block(self, detail: str) -> str:
        """Nothing more can be sent this run; the first reason is kept."""
        with self.lock:
            self.blocked = self.blocked or detail
            return self.blocked

    def worker_done(self) -> None:
        """The last worker out defers whatever is left (nobody can send it now)."""
        with self.lock:
            self.workers -= 1
            last = self.workers == 0
        while last:
            try:
                msg = self.work.get_nowait()
            except queue.Empty:
                return
            self.defer(msg, self.blocked or "no SMTP connection left")


class SmtpTransport:
    """Delivers through an SMTP relay with up to ``settings.connections`` connections."""

    def __init__(self, settings: MailSettings) -> None:
        if not settings.host:
            raise ValueError("SmtpTransport needs settings.host")
        self.settings = settings
        self.connections_opened = 0

    def deliver(
        self,
        messages: Sequence[OutgoingMessage],
        on_result: OnResult,
        progress: Progress | None = None,
    ) -> DeliveryReport:
        """Send each message once; ``on_result`` runs on this thread, for each as it ends.

        A key repeated within the batch is sent once (one result per key). If
        ``on_result`` raises, the workers stop after their current message.
        """
        unique = list({msg.key: msg for msg in reversed(messages)}.values())[::-1]
        workers = min(self.settings.connections, len(unique))
        run = _Run(queue.SimpleQueue(), queue.Queue(maxsize=max(workers, 1)), workers)
        for msg in unique:
            run.work.put(msg)
        threads = [
            threading.Thread(target=self._work, args=(run,), name=f"smtp-{n}", daemon=True)
            for n in range(workers)
        ]
        for thread in threads:
            thread.start()
        counts = dict.fromkeys(DeliveryStatus, 0)
        try:
            for done in range(1, len(unique) + 1):
                result = run.results.get()
                counts[result.status] += 1
                on_result(result)
                if progress is not None:
                    progress(done)
        finally:
            run.stop.set()
            for thread in threads:
                thread.join()
            self.connections_opened = run.sessions.opened
        return DeliveryReport.of(counts)

    def _work(self, run: _Run) -> None:
        session = SmtpSession(self.settings, run.sessions)
        retrying = Retrying(
            stop=stop_after_attempt(self.settings.max_attempts),
            wait=wait_exponential(
                multiplier=self.settings.backoff_initial, max=self.settings.backoff_max
            ),
            retry=retry_if_exception_type(Transient),
            before_sleep=before_sleep_log(log, logging.INFO),
            reraise=True,
        )
        current: OutgoingMessage | None = None
        try:
            while not run.stop.is_set():
                try:
                    current = run.work.get_nowait()
                except queue.Empty:
                    current = None
                    break
                if run.blocked is not None:
                    run.defer(current, run.blocked)
                    current = None
                    continue
                try:
                    result = self._deliver_one(retrying, session, current)
                except Transient as exc:  # no session, even after retries
                    if run.sessions.any_open():
                        run.work.put(current)  # the relay limits us: the others carry on
                        current = None
                        return
                    reason = run.block(f"mail server unreachable: {exc.detail}")
                    result = DeliveryResult(current.key, DeliveryStatus.deferred, reason)
                except SessionRefused as exc:
                    reason = run.block(f"mail server refused the session: {exc}")
                    result = DeliveryResult(current.key, DeliveryStatus.deferred, reason)
                run.report(result)
                current = None
        finally:
            session.close()
            if current is not None:
                run.defer(current, "delivery interrupted")
            run.worker_done()

    def _deliver_one(
        self, retrying: Retrying, session: SmtpSession, msg: OutgoingMessage
    ) -> DeliveryResult:
        """One message, with retries; raises only when no session could be had."""
        try:
            data = as_data(msg, self.settings)
            answer: str = retrying(session.send, msg.to_address, data)
        except BadAddressError as exc:
            return DeliveryResult(msg.key, DeliveryStatus.failed, str(exc))
        except Settled as exc:
            return DeliveryResult(msg.key, exc.status, exc.detail)
        except Transient as exc:
            if exc.connecting:
                raise
            detail = f"{exc.detail} (gave up after {self.settings.max_attempts} attempts)"
            return DeliveryResult(msg.key, DeliveryStatus.deferred, detail)
        return DeliveryResult(msg.key, DeliveryStatus.sent, answer)
