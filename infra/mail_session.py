"""One SMTP session: connect (TLS, login), send one message at a time, say what happened.

The outcome of each attempt is one of three exceptions or a success, so the pool above
(``infra.mail_smtp``) decides retries without knowing SMTP:

- :class:`Transient`: certainly not accepted (a 4xx answer, or the connection broke before
  the end of the data was sent); another attempt may succeed.
- :class:`Settled`: decided for this run (a 5xx answer: ``failed``; the connection broke
  while waiting for the answer to the data: ``deferred``, because the server may have
  taken it and a retry could send it twice).
- :class:`SessionRefused`: the server refuses the session itself (5xx to the greeting,
  EHLO, STARTTLS or AUTH): no message can go, stop the run.
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
import threading
from dataclasses import dataclass, field
from typing import NoReturn

from domain.notifications import OutgoingMessage
from infra.mail import SMTP_POLICY, DeliveryStatus, MailSettings, build_email

log = logging.getLogger(__name__)


def one_line(code: int, text: bytes | str) -> str:
    """The server's answer on one line, as it is stored with the message."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {' '.join(text.split())}".strip()


class Transient(Exception):
    """Certainly not accepted, worth another try (``connecting``: no session was made)."""

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


class SessionRefused(Exception):
    """The server refuses the session itself: no message can be sent this run."""


class _Refused(Exception):
    def __init__(self, command: str, code: int, text: bytes) -> None:
        self.code = code
        self.detail = f"{one_line(code, text)} (to {command})"
        super().__init__(self.detail)


def _expect(command: str, answer: tuple[int, bytes], *ok: int) -> None:
    if answer[0] not in ok:
        raise _Refused(command, *answer)


def as_data(msg: OutgoingMessage, settings: MailSettings) -> bytes:
    """The message as DATA: CRLF lines, leading dots doubled, ended by CRLF.CRLF."""
    email = build_email(msg, settings.mail_from, settings.sender_domain)
    data = re.sub(rb"(?m)^\.", b"..", email.as_bytes(policy=SMTP_POLICY))
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


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

    def __init__(self, settings: MailSettings, count: SessionCount) -> None:
        self.settings = settings
        self.count = count
        self.smtp: smtplib.SMTP | None = None

    def send(self, recipient: str, data: bytes) -> str:
        """MAIL, RCPT, DATA; the server's final answer, or one of the module's exceptions."""
        smtp = self._ensure()
        try:
            _expect("MAIL", smtp.mail(self.settings.sender_address), 250)
            _expect("RCPT", smtp.rcpt(recipient), 250, 251)
            _expect("DATA", smtp.docmd("DATA"), 354)
            smtp.send(data)  # if this breaks, the final "." did not go: safe to retry
        except _Refused as refused:
            self._after_refusal(refused)
        except OSError as exc:  # smtplib's errors are OSErrors too
            self.drop()
            raise Transient(f"connection lost: {exc}") from exc
        try:
            answer = smtp.getreply()
        except OSError as exc:
            self.drop()
            detail = f"connection lost after the message was sent, outcome unknown: {exc}"
            raise Settled(DeliveryStatus.deferred, detail) from exc
        try:
            _expect("end of DATA", answer, 250)
        except _Refused as refused:
            self._after_refusal(refused)
        return one_line(*answer)

    def _after_refusal(self, refused: _Refused) -> NoReturn:
        # 421: the server is closing the connection; below 0: smtplib could not read it.
        if refused.code == 421 or refused.code < 0:
            self.drop()
        else:
            self._reset()
        if refused.code < 0 or 400 <= refused.code < 500:
            raise Transient(refused.detail) from refused
        raise Settled(DeliveryStatus.failed, refused.detail) from refused

    def _ensure(self) -> smtplib.SMTP:
        if self.smtp is None:
            self.smtp = self._open()
            self.count.change(+1)
        return self.smtp

    def _open(self) -> smtplib.SMTP:
        s = self.settings
        host = s.host or "localhost"
        where = f"{host}:{s.port}"
        smtp: smtplib.SMTP | None = None
        try:
            if s.ssl:
                context = ssl.create_default_context()
                smtp = smtplib.SMTP_SSL(host, s.port, timeout=s.timeout, context=context)
            else:
                smtp = smtplib.SMTP(host, s.port, timeout=s.timeout)
            smtp.ehlo_or_helo_if_needed()
            if s.starttls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if s.user:
                smtp.login(s.user, s.password or "")
            return smtp
        except smtplib.SMTPResponseException as exc:
            _close(smtp)
            detail = f"{where}: {one_line(exc.smtp_code, exc.smtp_error)}"
            if 400 <= exc.smtp_code < 500:
                raise Transient(detail, connecting=True) from exc
            raise SessionRefused(detail) from exc
        except smtplib.SMTPServerDisconnected as exc:
            _close(smtp)
            raise Transient(f"{where}: {exc}", connecting=True) from exc
        except smtplib.SMTPException as exc:  # e.g. no STARTTLS or AUTH offered
            _close(smtp)
            raise SessionRefused(f"{where}: {exc}") from exc
        except OSError as exc:
            _close(smtp)
            raise Transient(f"cannot connect to {where}: {exc}", connecting=True) from exc

    def _reset(self) -> None:
        """RSET after a refused command, so the next message starts clean."""
        if self.smtp is None:
            return
        try:
            code, _ = self.smtp.rset()
        except OSError:
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
        """End the session politely (QUIT)."""
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except OSError:
                log.debug("QUIT failed; closing anyway")
            self.drop()


def _close(smtp: smtplib.SMTP | None) -> None:
    if smtp is not None:
        smtp.close()
