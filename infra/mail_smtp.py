"""SMTP delivery: a bounded pool of reused connections, retries, and honest outcomes.

A relay's round trip, not our CPU, bounds the rate: one connection per message pays for
connect, greeting, EHLO (and TLS, AUTH) and QUIT every time. Here each of N worker threads
keeps one session open for many messages; N is bounded so we stay within what the relay
allows (a worker refused with "421 too many connections" hands its work to the others).

A message is retried, with exponential backoff, only when it certainly was not accepted
(see ``infra.mail_session``), so the transport never sends a message twice by itself.
Results go back to the caller's thread, where ``on_result`` runs, as each is known, and
workers wait while the caller is behind (see ``_Run.report`` for what a crash re-sends).

Time is bounded: each step with the server by ``MailSettings.timeout``; a run by its
``deadline`` or ``stop`` event, after which no message is begun and those in flight finish
within one timeout. When the server cannot be used (unreachable, refused login or TLS,
timed out), the run is *blocked*: no further message is begun, and the report says why.
Messages never begun come back ``released``.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from domain.notifications import OutgoingMessage
from infra.mail import (
    BadAddressError,
    DeliveryReport,
    DeliveryResult,
    DeliveryStatus,
    Flush,
    MailSettings,
    OnResult,
    Progress,
    halted,
)
from infra.mail_mime import MessageWriter
from infra.mail_session import (
    SessionCount,
    Settled,
    SmtpSession,
    StepClock,
    Transient,
    Unusable,
    as_data,
)

log = logging.getLogger(__name__)
_PAUSE_STEP = 0.05  # seconds between looks at the stop event while backing off


@dataclass
class _Run:
    """What the workers of one ``deliver`` call share."""

    work: queue.SimpleQueue[OutgoingMessage]
    results: queue.Queue[DeliveryResult]
    workers: int
    clock: StepClock
    sessions: SessionCount = field(default_factory=SessionCount)
    abandoned: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    blocked: str | None = None

    def halted(self) -> str | None:
        """Why no new message may begin (blocked, stopped, deadline passed), if so."""
        if self.blocked is not None:
            return self.blocked
        if self.abandoned.is_set():
            return "not tried: delivery was interrupted"
        return halted(self.clock.deadline, self.clock.stop)

    def pause(self, seconds: float) -> bool:
        """Back off for ``seconds``; True if the run halted meanwhile (stop looking)."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            if self.halted() is not None:
                return True
            time.sleep(min(left, _PAUSE_STEP))
        return self.halted() is not None

    def report(self, result: DeliveryResult) -> None:
        """Hand a result to the caller's thread, waiting while it is behind.

        The queue holds as many results as there are workers (connections), so workers
        cannot run far ahead of the caller, which records one result at a time. Possibly
        taken by the server but not yet recorded, at any moment: the queued results (at
        most one per connection in all), one message per connection being sent or waiting
        to be queued, and the one being recorded. A crash re-sends at most those:
        2 x connections + 1. A caller that makes results durable only at ``flush`` adds
        those given since the last one (at most connections): 3 x connections.
        """
        while not self.abandoned.is_set():
            try:
                self.results.put(result, timeout=0.1)
                return
            except queue.Full:
                continue

    def release(self, msg: OutgoingMessage, reason: str) -> None:
        self.report(DeliveryResult(msg.key, DeliveryStatus.released, reason, tried=False))

    def block(self, sentence: str) -> str:
        """Nothing more can be sent this run; the first reason is kept."""
        with self.lock:
            self.blocked = self.blocked or sentence
            return self.blocked

    def worker_done(self) -> None:
        """The last worker out releases whatever is left (nobody will begin it now)."""
        with self.lock:
            self.workers -= 1
            last = self.workers == 0
        while last:
            try:
                msg = self.work.get_nowait()
            except queue.Empty:
                return
            self.release(msg, self.halted() or "not tried: no SMTP connection left")


class SmtpTransport:
    """Delivers through an SMTP relay with up to ``settings.connections`` connections."""

    resend_replaces = False  # a second copy is a second mail in someone's inbox

    def __init__(self, settings: MailSettings) -> None:
        if not settings.host:
            raise ValueError("SmtpTransport needs settings.host")
        self.settings = settings
        self.writer = MessageWriter(settings.mail_from, settings.sender_domain)
        self.connections_opened = 0

    def deliver(
        self,
        messages: Sequence[OutgoingMessage],
        on_result: OnResult,
        progress: Progress | None = None,
        *,
        deadline: float | None = None,
        stop: threading.Event | None = None,
        flush: Flush | None = None,
    ) -> DeliveryReport:
        """Send each message once; ``on_result`` runs on this thread, for each as it ends.

        A key repeated within the batch is sent once (one result per key). If
        ``on_result`` or ``flush`` raises, the workers stop after their current message.
        See :class:`infra.mail.Transport` for ``deadline``, ``stop`` and ``flush``.
        """
        unique = list({msg.key: msg for msg in reversed(messages)}.values())[::-1]
        workers = min(self.settings.connections, len(unique))
        clock = StepClock(self.settings.timeout, deadline, stop)
        run = _Run(queue.SimpleQueue(), queue.Queue(maxsize=max(workers, 1)), workers, clock)
        for msg in unique:
            run.work.put(msg)
        threads = [
            threading.Thread(target=self._work, args=(run,), name=f"smtp-{n}", daemon=True)
            for n in range(workers)
        ]
        for thread in threads:
            thread.start()
        try:
            counts = self._hand_over(run, len(unique), on_result, progress, flush)
        finally:
            run.abandoned.set()
            for thread in threads:
                thread.join()
            self.connections_opened = run.sessions.opened
        return DeliveryReport.of(counts, run.blocked)

    @staticmethod
    def _hand_over(
        run: _Run, total: int, on_result: OnResult, progress: Progress | None, flush: Flush | None
    ) -> dict[DeliveryStatus, int]:
        """Give each result to ``on_result`` on this thread; ``flush`` whenever none is
        ready, or after as many results as there are connections, and at the end."""
        counts = dict.fromkeys(DeliveryStatus, 0)
        unflushed = 0
        for done in range(1, total + 1):
            try:
                result = run.results.get_nowait()
            except queue.Empty:
                if unflushed and flush is not None:
                    flush()
                    unflushed = 0
                result = run.results.get()
            counts[result.status] += 1
            on_result(result)
            unflushed += 1
            if progress is not None:
                progress(done)
            if flush is not None and (unflushed >= run.results.maxsize or done == total):
                flush()
                unflushed = 0
        return counts

    def _work(self, run: _Run) -> None:
        session = SmtpSession(self.settings, run.sessions, run.clock)
        current: OutgoingMessage | None = None
        try:
            while run.halted() is None:
                try:
                    current = run.work.get_nowait()
                except queue.Empty:
                    current = None
                    break
                result = self._deliver_one(run, session, current)
                if result is None:  # the relay limits us: the others carry on
                    run.work.put(current)
                    current = None
                    return
                run.report(result)
                current = None
        finally:
            session.close()
            if current is not None:
                run.release(current, "not tried: delivery was interrupted")
            run.worker_done()

    def _deliver_one(
        self, run: _Run, session: SmtpSession, msg: OutgoingMessage
    ) -> DeliveryResult | None:
        """One message, with retries; None when no session could be had here while other
        workers have one (give the message back to them)."""
        try:
            data = as_data(self.writer.write(msg))
        except BadAddressError as exc:
            return DeliveryResult(msg.key, DeliveryStatus.failed, str(exc), tried=False)
        s = self.settings
        session.begun = False
        for attempt in range(1, s.max_attempts + 1):
            try:
                session.open()
                answer = session.send(msg.to_address, data)
                return DeliveryResult(msg.key, DeliveryStatus.sent, answer)
            except Settled as exc:
                return DeliveryResult(msg.key, exc.status, exc.detail)
            except Unusable as exc:
                reason = run.block(exc.sentence)
                if session.begun:
                    return DeliveryResult(msg.key, DeliveryStatus.deferred, exc.detail)
                return DeliveryResult(msg.key, DeliveryStatus.released, reason, tried=False)
            except Transient as exc:
                failure = exc
            if attempt == s.max_attempts:
                break
            wait = min(s.backoff_max, s.backoff_initial * 2 ** (attempt - 1))
            log.info("%s; trying again in %.2f s", failure.detail, wait)
            if run.pause(wait):
                break
        return self._given_up(run, msg, failure, tried=session.begun)

    def _given_up(
        self, run: _Run, msg: OutgoingMessage, failure: Transient, *, tried: bool
    ) -> DeliveryResult | None:
        """The fate of a message whose last attempt failed for now."""
        halt = run.halted()
        if halt is not None:
            if failure.connecting and run.sessions.opened == 0:
                # The run ended while waiting to reconnect to a server it never reached:
                # that, not the deadline, is why nothing went out.
                halt = run.block(failure.detail)
            if not tried:
                return DeliveryResult(msg.key, DeliveryStatus.released, halt, tried=False)
            detail = f"{failure.detail} (not tried again: {halt.removeprefix('not tried: ')})"
            return DeliveryResult(msg.key, DeliveryStatus.deferred, detail)
        if failure.connecting:
            if not tried and run.sessions.any_open():
                return None
            reason = run.block(failure.detail)
            if not tried:
                return DeliveryResult(msg.key, DeliveryStatus.released, reason, tried=False)
        detail = f"{failure.detail} (gave up after {self.settings.max_attempts} attempts)"
        return DeliveryResult(msg.key, DeliveryStatus.deferred, detail)
