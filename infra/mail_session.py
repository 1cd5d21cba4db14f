"""One SMTP session: connect (TLS, login), send one message at a time, say what happened.

Every step with the server (connect and greeting, EHLO, STARTTLS, login, each command,
sending the data, the answer to it) is bounded by ``MailSettings.timeout``, and once the
run is halted (deadline passed or stopped) by the run's hard end, one timeout after the
halt: see :class:`StepClock`.

The outcome of each attempt is one of three exceptions or a success, so the pool above
(``infra.mail_smtp``) decides retries without knowing SMTP:

- :class:`Transient`: certainly not accepted (a 4xx answer, or the connection broke before
  the end of the data was sent); another attempt may succeed. ``connecting``: no session
  could be opened, so nothing of the message was sent.
- :class:`Settled`: decided for this run (a 5xx answer: ``failed``; the connection broke
  while waiting for the answer to the data: ``deferred``, because the server may have
  taken it and a retry could send it twice).
- :class:`Unusable`: the server itself cannot be used this run: it refused the session,
  the login or TLS, or a step timed out. No further message should go to it.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
import time
from dataclasses import dataclass, field
from typing import NoReturn

from infra.mail import DeliveryStatus, MailSettings

log = logging.getLogger(__name__)
QUIT_WAIT = 2.0  # seconds to wait for the answer to QUIT: politeness, not delivery


def one_line(code: int, text: bytes | str) -> str:
    """The server's answer on one line, as it is stored with the message."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {' '.join(text.split())}".strip()


def as_data(message: bytes) -> bytes:
    """A CRLF message as DATA: leading dots doubled, ended by CRLF.CRLF."""
    data = message.replace(b"\r\n.", b"\r\n..")
    if data.startswith(b"."):
        data = b"." + data
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


class Transient(Exception):
    """Certainly not accepted, worth another try (``connecting``: no session was made,
    and ``detail`` is then a sentence naming the server)."""

    def __init__(self, detail: str, *, connecting: bool = False) -> None:
        self.detail = detail
        self.connecting = connecting
        super().__init__(detail)


class Settled(Exception):
    """The message's fate for this run is decided: ``status`` with ``detail``."""

    def __init__(self, status: DeliveryStatus, detail: str) -> None:
        self.status = status
        self.detail = detail
        super().__init__(detail)


class Unusable(Exception):
    """The server cannot be used this run: ``sentence`` names it and says why; ``detail``
    is what happened to the message in flight, if one was."""

    def __init__(self, sentence: str, detail: str | None = None) -> None:
        self.sentence = sentence
        self.detail = detail or sentence
        super().__init__(sentence)


class _Refused(Exception):
    def __init__(self, command: str, code: int, text: bytes) -> None:
        self.code = code
        self.detail = f"{one_line(code, text)} (to {command})"
        super().__init__(self.detail)


class _OutOfTime(Exception):
    """The run's hard end has come: no further step may begin."""


def _expect(command: str, answer: tuple[int, bytes], *ok: int) -> None:
    if answer[0] not in ok:
        raise _Refused(command, *answer)


def _timed_out(exc: BaseException) -> bool:
    """Whether a socket timeout caused ``exc`` (smtplib wraps it in its own errors)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, TimeoutError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


@dataclass
class StepClock:
    """How long the next step with the server may take.

    Normally ``timeout``. Once the run is halted (``deadline`` passed, or ``stop`` set),
    nothing may outlast its hard end, one timeout after the halt; so a run ends by then
    whatever the server does. ``full`` says whether a step had the whole timeout (a step
    cut short by the hard end says nothing about the server).
    """

    timeout: float
    deadline: float | None = None
    stop: threading.Event | None = None
    _stopped_at: float | None = None

    def hard_end(self) -> float | None:
        ends = [] if self.deadline is None else [self.deadline + self.timeout]
        if self.stop is not None and self.stop.is_set():
            if self._stopped_at is None:
                self._stopped_at = time.monotonic()
            ends.append(self._stopped_at + self.timeout)
        return min(ends, default=None)

    def budget(self) -> tuple[float, bool]:
        """Seconds for the next step, and whether that is the whole timeout."""
        end = self.hard_end()
        left = self.timeout if end is None else end - time.monotonic()
        if left <= 0:
            raise _OutOfTime
        return min(left, self.timeout), left >= self.timeout


@dataclass
class SessionCount:
    """How many sessions of a pool are open now, and were opened in all."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    open: int = 0
    opened: int = 0

    def change(self, delta: int) -> None:
        with self.lock:
            self.open += delta
            self.opened += max(delta, 0)

    def any_open(self) -> bool:
        with self.lock:
            return self.open > 0


class SmtpSession:
    """One worker's SMTP session: opened on first use, reopened after a break."""

    def __init__(self, settings: MailSettings, count: SessionCount, clock: StepClock) -> None:
        self.settings = settings
        self.count = count
        self.clock = clock
        self.where = f"{settings.host or 'localhost'}:{settings.port}"
        self.mail_from = f"FROM:<{settings.sender_address}>"
        self.smtp: smtplib.SMTP | None = None
        self.begun = False  # MAIL written for the current message: it counts as tried

    def open(self) -> None:
        """Have a session ready (connect, TLS, login if need be)."""
        if self.smtp is None:
            self.smtp = self._open()
            self.count.change(+1)

    def send(self, recipient: str, data: bytes) -> str:
        """MAIL, RCPT, DATA on the open session; the server's final answer, or one of the
        module's exceptions."""
        smtp = self.smtp
        assert smtp is not None, "open() first"
        command, full = "MAIL", True
        try:
            # docmd, not smtplib's mail() and rcpt(): both addresses are checked plain
            # mailboxes already, and re-parsing them cost more than the rest of a send.
            full = self._step(smtp)
            self.begun = True
            _expect(command, smtp.docmd("MAIL", self.mail_from), 250)
            command, full = "RCPT", self._step(smtp)
            _expect(command, smtp.docmd("RCPT", f"TO:<{recipient}>"), 250, 251)
            command, full = "DATA", self._step(smtp)
            _expect(command, smtp.docmd("DATA"), 354)
            command, full = "the message data", self._step(smtp)
            smtp.send(data)  # if this breaks, the final "." did not go: safe to retry
        except _Refused as refused:
            self._after_refusal(refused)
        except (OSError, _OutOfTime) as exc:  # smtplib's errors are OSErrors too
            self.drop()
            if isinstance(exc, OSError) and not _timed_out(exc):
                raise Transient(f"connection lost: {exc}") from exc
            if full and isinstance(exc, OSError):
                raise Unusable(
                    f"mail server {self.where} timed out waiting for the answer to {command} "
                    f"({self.settings.timeout:g} s)",
                    f"timed out waiting for the answer to {command}, not sent",
                ) from exc
            raise Transient(f"the run ended before the server answered {command}") from exc
        try:
            full = self._step(smtp)
            answer = smtp.getreply()
        except (OSError, _OutOfTime) as exc:
            self.drop()
            if isinstance(exc, OSError) and not _timed_out(exc):
                detail = f"connection lost after the message was sent, outcome unknown: {exc}"
                raise Settled(DeliveryStatus.deferred, detail) from exc
            if full and isinstance(exc, OSError):
                raise Unusable(
                    f"mail server {self.where} timed out waiting for the answer to the "
                    f"message data ({self.settings.timeout:g} s)",
                    "timed out after the message was sent, outcome unknown",
                ) from exc
            detail = "the run ended before the server answered the message data"
            raise Settled(DeliveryStatus.deferred, f"{detail}, outcome unknown") from exc
        try:
            _expect("end of DATA", answer, 250)
        except _Refused as refused:
            self._after_refusal(refused)
        return one_line(*answer)

    def _step(self, smtp: smtplib.SMTP) -> bool:
        """Bound the next step by the clock; whether it has the whole timeout."""
        seconds, full = self.clock.budget()
        if smtp.sock is not None and smtp.sock.gettimeout() != seconds:
            smtp.sock.settimeout(seconds)
        return full

    def _after_refusal(self, refused: _Refused) -> NoReturn:
        # 421: the server is closing the connection; below 0: smtplib could not read it.
        if refused.code == 421 or refused.code < 0:
            self.drop()
        else:
            self._reset()
        if refused.code < 0 or 400 <= refused.code < 500:
            raise Transient(refused.detail) from refused
        raise Settled(DeliveryStatus.failed, refused.detail) from refused

    def _open(self) -> smtplib.SMTP:
        s = self.settings
        host = s.host or "localhost"
        smtp: smtplib.SMTP | None = None
        step = "connecting"
        full = True
        try:
            seconds, full = self.clock.budget()
            if s.ssl:
                context = ssl.create_default_context()
                smtp = smtplib.SMTP_SSL(host, s.port, timeout=seconds, context=context)
            else:
                smtp = smtplib.SMTP(host, s.port, timeout=seconds)
            step = "EHLO"
            full = self._step(smtp)
            smtp.ehlo_or_helo_if_needed()
            if s.starttls:
                step = "STARTTLS"
                full = self._step(smtp)
                smtp.starttls(context=ssl.create_default_context())
                full = self._step(smtp)
                smtp.ehlo()
            if s.user:
                step = "the login"
                full = self._step(smtp)
                smtp.login(s.user, s.password or "")
            return smtp
        except _OutOfTime as exc:
            _close(smtp)
            raise Transient("the run ended before a session was open", connecting=True) from exc
        except smtplib.SMTPResponseException as exc:
            _close(smtp)
            answer = one_line(exc.smtp_code, exc.smtp_error)
            if 400 <= exc.smtp_code < 500:
                busy = f"mail server {self.where} is busy: {answer}"
                raise Transient(busy, connecting=True) from exc
            refused = "the session" if step in {"connecting", "EHLO"} else step
            raise Unusable(f"mail server {self.where} refused {refused}: {answer}") from exc
        except ssl.SSLError as exc:
            _close(smtp)
            raise Unusable(f"mail server {self.where} failed the TLS handshake: {exc}") from exc
        except smtplib.SMTPServerDisconnected as exc:
            _close(smtp)
            if _timed_out(exc):
                self._timed_out_opening(exc, step, full, greeting=smtp is None)
            raise Transient(
                f"mail server {self.where} closed the connection: {exc}", connecting=True
            ) from exc
        except smtplib.SMTPException as exc:  # e.g. no STARTTLS or AUTH offered
            _close(smtp)
            raise Unusable(f"mail server {self.where} refused {step}: {exc}") from exc
        except OSError as exc:
            _close(smtp)
            if _timed_out(exc):
                self._timed_out_opening(exc, step, full, greeting=False)
            raise Transient(
                f"mail server {self.where} is unreachable: {exc}", connecting=True
            ) from exc

    def _timed_out_opening(
        self, exc: BaseException, step: str, full: bool, *, greeting: bool
    ) -> NoReturn:
        if not full:
            raise Transient("the run ended before a session was open", connecting=True) from exc
        waiting = "its greeting" if greeting else f"the answer to {step}"
        if step == "connecting" and not greeting:
            waiting = "the connection"
        raise Unusable(
            f"mail server {self.where} timed out waiting for {waiting} "
            f"({self.settings.timeout:g} s)"
        ) from exc

    def _reset(self) -> None:
        """RSET after a refused command, so the next message starts clean."""
        if self.smtp is None:
            return
        try:
            self._step(self.smtp)
            code, _ = self.smtp.rset()
        except (OSError, _OutOfTime):
            code = 0
        if code != 250:
            self.drop()

    def drop(self) -> None:
        """Forget a broken session (no QUIT: the other end is gone or going)."""
        if self.smtp is not None:
            _close(self.smtp)
            self.smtp = None
            self.count.change(-1)

    def close(self) -> None:
        """End the session politely (QUIT), waiting a short while for the answer."""
        if self.smtp is not None:
            try:
                seconds, _ = self.clock.budget()
                if self.smtp.sock is not None:
                    self.smtp.sock.settimeout(min(seconds, QUIT_WAIT))
                self.smtp.quit()
            except (OSError, _OutOfTime):
                log.debug("QUIT failed; closing anyway")
            self.drop()


def _close(smtp: smtplib.SMTP | None) -> None:
    if smtp is not None:
        smtp.close()
