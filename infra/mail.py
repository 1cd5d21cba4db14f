"""Outgoing mail: settings, the MIME message, and the transports that deliver it.

Every transport has the same shape, :class:`Transport`. ``deliver`` reports each message's
fate through ``on_result`` as soon as it is known, on the caller's thread, so the database
outbox can mark it sent (or failed) at once: after a crash only the few messages per
connection not yet marked (one in flight, one waiting) are in doubt, and the next run
delivers the rest.

``deferred`` means "not delivered this time, keep it pending": the server could not be
reached, kept answering 4xx, or the connection broke after the message data was sent and
before the server's answer (RFC 5321 §6.1: assume not delivered; its stable Message-ID
lets a re-sent copy be recognised). ``failed`` is final: the server refused it with 5xx,
or the address is not one we can send to.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import quote

from domain.notifications import OutgoingMessage, message_id_for

if TYPE_CHECKING:
    from infra.mail_smtp import SmtpTransport

DEFAULT_FROM = "Core Mentoring Program <mentoring@core.example.org>"
# 7bit transfer encodings: every server accepts the message, no 8BITMIME/SMTPUTF8 needed.
SMTP_POLICY = policy.SMTP.clone(cte_type="7bit")
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_ADDRESS = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})*")


class DeliveryStatus(StrEnum):
    sent = "sent"
    failed = "failed"
    deferred = "deferred"


@dataclass(frozen=True)
class DeliveryResult:
    """One message's fate; ``detail`` is the server's answer (code and text) or the error."""

    key: str
    status: DeliveryStatus
    detail: str


@dataclass(frozen=True)
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    deferred: int = 0


OnResult = Callable[[DeliveryResult], None]
Progress = Callable[[int], None]


class Transport(Protocol):
    """Delivers messages; ``progress`` gets the number of messages done so far."""

    def deliver(
        self,
        messages: Sequence[OutgoingMessage],
        on_result: OnResult,
        progress: Progress | None = None,
    ) -> DeliveryReport: ...


class BadAddressError(ValueError):
    """An address no server will take (it is marked failed, never retried)."""


def _flag(environ: Mapping[str, str], name: str) -> bool:
    raw = environ.get(name, "false").strip().lower()
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"", "0", "false", "no", "off"}:
        return False
    raise ValueError(f"{name} must be true or false, got {raw!r}")


def _integer(environ: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = environ.get(name, "").strip()
    try:
        value = int(raw) if raw else default
    except ValueError:
        raise ValueError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return value


@dataclass(frozen=True)
class MailSettings:
    """Where mail goes. Without ``host``, messages are written as .eml files to ``mail_dir``."""

    host: str | None = None
    port: int = 25
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = False
    ssl: bool = False
    mail_from: str = DEFAULT_FROM
    connections: int = 4
    mail_dir: Path = Path("var/mail")
    timeout: float = 30.0
    max_attempts: int = 4
    backoff_initial: float = 1.0
    backoff_max: float = 30.0

    def __post_init__(self) -> None:
        if self.starttls and self.ssl:
            raise ValueError("choose STARTTLS or implicit TLS (SSL), not both")
        if self.connections < 1 or self.max_attempts < 1:
            raise ValueError("connections and max_attempts must be at least 1")
        if not _ADDRESS.fullmatch(self.sender_address):
            raise ValueError(f"MENTORING_MAIL_FROM has no usable address: {self.mail_from!r}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> MailSettings:
        """Read the ``MENTORING_SMTP_*`` and ``MENTORING_MAIL_*`` variables."""
        env = os.environ if environ is None else environ
        use_ssl = _flag(env, "MENTORING_SMTP_SSL")
        starttls = _flag(env, "MENTORING_SMTP_STARTTLS")
        default_port = 465 if use_ssl else 587 if starttls else 25
        return cls(
            host=env.get("MENTORING_SMTP_HOST") or None,
            port=_integer(env, "MENTORING_SMTP_PORT", default_port, 1),
            user=env.get("MENTORING_SMTP_USER") or None,
            password=env.get("MENTORING_SMTP_PASSWORD") or None,
            starttls=starttls,
            ssl=use_ssl,
            mail_from=env.get("MENTORING_MAIL_FROM") or DEFAULT_FROM,
            connections=_integer(env, "MENTORING_SMTP_CONNECTIONS", 4, 1),
            mail_dir=Path(env.get("MENTORING_MAIL_DIR") or "var/mail"),
        )

    @property
    def sender_address(self) -> str:
        return parseaddr(self.mail_from)[1]

    @property
    def sender_domain(self) -> str:
        """The domain of Message-IDs: the sender's own."""
        return self.sender_address.rpartition("@")[2]


def check_address(address: str) -> str:
    """Return the address if a plain ASCII mailbox, else raise :class:`BadAddressError`."""
    if not _ADDRESS.fullmatch(address):
        raise BadAddressError(f"bad address {address!r}")
    return address


def build_email(
    msg: OutgoingMessage, sender: str, domain: str, *, date: dt.datetime | None = None
) -> EmailMessage:
    """The MIME message: text and HTML alternatives, then any attachments."""
    email = EmailMessage(policy=SMTP_POLICY)
    email["Subject"] = msg.subject
    email["From"] = sender
    email["To"] = Address(display_name=msg.to_name, addr_spec=check_address(msg.to_address))
    email["Date"] = format_datetime(date or dt.datetime.now(dt.UTC))
    email["Message-ID"] = message_id_for(msg.key, domain)
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(msg.text_body)
    email.add_alternative(msg.html_body, subtype="html")
    for attachment in msg.attachments:
        main, _, rest = attachment.content_type.partition("/")
        subtype, *raw_params = (part.strip() for part in rest.split(";"))
        params = dict(p.partition("=")[::2] for p in raw_params if "=" in p)
        params.pop("charset", None)
        email.add_attachment(
            attachment.data,
            maintype=main.strip(),
            subtype=subtype,
            filename=attachment.filename,
            params=params,
        )
    return email


def eml_filename(key: str) -> str:
    """A readable, collision-free file name for a key: "2026+pairing_notice+C100079.eml"."""
    return quote(key, safe="/@").replace("/", "+") + ".eml"


class EmlFolderTransport:
    """Writes each message to ``<folder>/<key>.eml``: for development, demos and tests.

    Writes are atomic (a temporary file, then ``os.replace``) and named by the key, so a
    re-delivery overwrites the same file instead of adding a copy.
    """

    def __init__(self, folder: Path | str, sender: str = DEFAULT_FROM) -> None:
        self.folder = Path(folder)
        self.sender = sender
        self.domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"

    def deliver(
        self,
        messages: Sequence[OutgoingMessage],
        on_result: OnResult,
        progress: Progress | None = None,
    ) -> DeliveryReport:
        self.folder.mkdir(parents=True, exist_ok=True)
        counts = dict.fromkeys(DeliveryStatus, 0)
        for done, msg in enumerate(messages, start=1):
            result = self._write(msg)
            counts[result.status] += 1
            on_result(result)
            if progress is not None:
                progress(done)
        return DeliveryReport(
            sent=counts[DeliveryStatus.sent],
            failed=counts[DeliveryStatus.failed],
            deferred=counts[DeliveryStatus.deferred],
        )

    def _write(self, msg: OutgoingMessage) -> DeliveryResult:
        try:
            data = build_email(msg, self.sender, self.domain).as_bytes(policy=policy.default)
        except BadAddressError as exc:
            return DeliveryResult(msg.key, DeliveryStatus.failed, str(exc))
        target = self.folder / eml_filename(msg.key)
        try:
            fd, temp = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(temp, target)
            finally:
                if os.path.exists(temp):
                    os.unlink(temp)
        except OSError as exc:
            return DeliveryResult(msg.key, DeliveryStatus.deferred, f"cannot write {target}: {exc}")
        return DeliveryResult(msg.key, DeliveryStatus.sent, f"written to {target}")


def open_transport(settings: MailSettings) -> EmlFolderTransport | SmtpTransport:
    """SMTP when a host is configured, the .eml folder otherwise (as the spec says)."""
    if not settings.host:
        return EmlFolderTransport(settings.mail_dir, settings.mail_from)
    # Imported here because infra.mail_smtp builds on this module.
    from infra.mail_smtp import SmtpTransport

    return SmtpTransport(settings)
