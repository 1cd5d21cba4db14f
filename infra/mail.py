"""The words of outgoing mail: its settings, the MIME message, and what a transport reports.

Every transport (the ``.eml`` folder in ``infra.mail_eml``, SMTP in ``infra.mail_smtp``;
``infra.mail_transport`` picks one) has the shape :class:`Transport`. ``deliver`` reports
each message's fate through ``on_result`` as soon as it is known, on the caller's thread, so
the database outbox can record it at once: after a crash only the messages not yet recorded
are in doubt, and the next run delivers the rest.

- ``sent``: the server took it (250), or its file was written.
- ``failed`` is final: the server refused it with 5xx, or the address is not one we can
  send to.
- ``deferred``: tried and not delivered this time, keep it pending: the server kept
  answering 4xx, or the connection broke or timed out after the message data was sent and
  before the server's answer (RFC 5321 §6.1: assume not delivered; its stable Message-ID
  lets a re-sent copy be recognised).
- ``released``: not tried at all this run (the run's deadline passed, it was stopped, or
  the server could not be used): give it back as it was, no attempt to count.

``DeliveryResult.tried`` says whether the message itself was handed to the server (or a
write of its file begun); ``DeliveryReport.blocked`` says, in one sentence naming the
server, why the server itself could not be used, if it could not.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email import policy
from email.header import Header
from email.headerregistry import Address, BaseHeader, UniqueAddressHeader
from email.message import EmailMessage
from email.policy import Policy
from email.utils import format_datetime, parseaddr
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from domain.notifications import OutgoingMessage, message_id_for

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
    released = "released"


@dataclass(frozen=True)
class DeliveryResult:
    """One message's fate; ``detail`` is the server's answer (code and text) or the error.

    ``tried``: the message was handed to the server (MAIL FROM sent for it on an open
    session) or its file write begun; false for ``released`` and for an address refused
    before any round trip, so only real tries count as attempts.
    """

    key: str
    status: DeliveryStatus
    detail: str
    tried: bool = True


@dataclass(frozen=True)
class DeliveryReport:
    """A run's counts by status; ``blocked`` is one sentence naming the server and why it
    could not be used (down, login refused, TLS failure, timed out), else None."""

    sent: int = 0
    failed: int = 0
    deferred: int = 0
    released: int = 0
    blocked: str | None = None

    @classmethod
    def of(cls, counts: Mapping[DeliveryStatus, int], blocked: str | None = None) -> DeliveryReport:
        """The report of a run that counted its results by status."""
        return cls(
            sent=counts.get(DeliveryStatus.sent, 0),
            failed=counts.get(DeliveryStatus.failed, 0),
            deferred=counts.get(DeliveryStatus.deferred, 0),
            released=counts.get(DeliveryStatus.released, 0),
            blocked=blocked,
        )


OnResult = Callable[[DeliveryResult], None]
Progress = Callable[[int], None]
Flush = Callable[[], None]


class Transport(Protocol):
    """Delivers messages, reporting each one's fate through ``on_result``.

    - ``progress`` gets the number of results handed to ``on_result`` so far.
    - ``deadline`` (``time.monotonic()`` terms): no message is begun after it; messages
      in flight finish, each command bounded by the timeout, so the call returns within
      deadline + one timeout; the rest come back ``released``.
    - ``stop``: once set (e.g. by a SIGTERM handler), the same as a deadline passed.
    - ``flush``, if given, is called on the caller's thread after ``on_result`` whenever
      no further result is ready yet, after a few results at most (SMTP: as many as there
      are connections), and once at the end: the moment to make durable what
      ``on_result`` was given (a batch of results in one transaction). The .eml folder,
      where a second write replaces the first, calls it every ``chunk`` results.
    - ``resend_replaces``: a message delivered twice replaces its first copy (a file
      written again), so results may be made durable in larger groups.
    """

    resend_replaces: bool

    def deliver(
        self,
        messages: Sequence[OutgoingMessage],
        on_result: OnResult,
        progress: Progress | None = None,
        *,
        deadline: float | None = None,
        stop: threading.Event | None = None,
        flush: Flush | None = None,
    ) -> DeliveryReport: ...


def halted(deadline: float | None, stop: threading.Event | None) -> str | None:
    """Why no new message may begin (the run's deadline passed, or it was stopped), if so."""
    if stop is not None and stop.is_set():
        return "not tried: delivery was stopped"
    if deadline is not None and time.monotonic() >= deadline:
        return "not tried: the delivery run reached its deadline"
    return None


class BadAddressError(ValueError):
    """An address no server will take (it is marked failed, never retried)."""


@dataclass(frozen=True)
class MailSettings:
    """Where mail goes. Without ``host``, messages are written as .eml files to ``mail_dir``.

    ``infra.settings.mail_settings_from_env`` reads them from the environment.
    ``timeout`` bounds each step with the server (connect, greeting, each command, the
    answer to the message data) in seconds, so a stalled relay costs seconds;
    ``deadline_seconds`` is how long one delivery run may keep beginning messages (None:
    no limit; see :meth:`run_deadline`).
    """

    host: str | None = None
    port: int = 25
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = False
    ssl: bool = False
    mail_from: str = DEFAULT_FROM
    connections: int = 4
    mail_dir: Path = Path("var/mail")
    timeout: float = 10.0
    deadline_seconds: float | None = 600.0
    max_attempts: int = 4
    backoff_initial: float = 1.0
    backoff_max: float = 30.0

    def __post_init__(self) -> None:
        if self.starttls and self.ssl:
            raise ValueError("choose STARTTLS or implicit TLS (SSL), not both")
        if self.connections < 1 or self.max_attempts < 1:
            raise ValueError("connections and max_attempts must be at least 1")
        if self.timeout <= 0 or (self.deadline_seconds is not None and self.deadline_seconds <= 0):
            raise ValueError("the mail timeout and deadline must be positive")
        if not _ADDRESS.fullmatch(self.sender_address):
            raise ValueError(f"MENTORING_MAIL_FROM has no usable address: {self.mail_from!r}")

    @property
    def sender_address(self) -> str:
        return parseaddr(self.mail_from)[1]

    @property
    def sender_domain(self) -> str:
        """The domain of Message-IDs: the sender's own."""
        return self.sender_address.rpartition("@")[2]

    def run_deadline(self) -> float | None:
        """The ``deadline`` for a run starting now, in ``time.monotonic()`` terms."""
        if self.deadline_seconds is None:
            return None
        return time.monotonic() + self.deadline_seconds


def check_address(address: str) -> str:
    """Return the address if a plain ASCII mailbox within RFC 5321's lengths (64 octets
    before the ``@``, 254 in all), else raise :class:`BadAddressError`."""
    local, _, _ = address.rpartition("@")
    if not _ADDRESS.fullmatch(address) or len(local) > 64 or len(address) > 254:
        raise BadAddressError(f"bad address {address!r}")
    return address


_RFC5322_LINE = 998


# The same pairing the header registry builds for To and From; the stubs type the two
# bases' ``init`` and ``max_count`` apart, the classes themselves agree.
class _AddressHeader(UniqueAddressHeader, BaseHeader):  # type: ignore[misc]
    """An address header whose display names fold, however long their words.

    The standard folder leaves an ASCII word it cannot break on one line (a 2,000-letter
    name would pass RFC 5322's 998 octets). When its fold overflows the line length, each
    display name is written instead as RFC 2047 encoded words, which fold anywhere and
    decode to the same name.
    """

    def fold(self, *, policy: Policy) -> str:
        folded = super().fold(policy=policy)
        limit = policy.max_line_length or _RFC5322_LINE
        if all(len(line) <= limit for line in folded.split(policy.linesep)):
            return folded
        mailboxes = [
            _encoded_mailbox(address, self.name, limit, policy.linesep)
            for address in self.addresses
        ]
        return f"{self.name}: " + f",{policy.linesep} ".join(mailboxes) + policy.linesep

    def __reduce__(self) -> tuple[type[_AddressHeader], tuple[str, str]]:
        """Copies keep this class (the base's reduce rebuilds a class without ``fold``)."""
        return type(self), (self.name, str(self))


def folded_address(name: str, value: str, policy: Policy) -> str:
    """An address header (e.g. "From") as :func:`build_email` writes it, folded."""
    return str(_AddressHeader(name, value).fold(policy=policy))


def attachment_type(content_type: str) -> tuple[str, str, dict[str, str]]:
    """Main type, subtype and parameters of an attachment (its charset left out)."""
    main, _, rest = content_type.partition("/")
    subtype, *raw_params = (part.strip() for part in rest.split(";"))
    params = dict(p.partition("=")[::2] for p in raw_params if "=" in p)
    params.pop("charset", None)
    return main.strip(), subtype, params


def _encoded_mailbox(address: Address, header: str, limit: int, linesep: str) -> str:
    if not address.display_name:
        return address.addr_spec
    name = Header(address.display_name, "utf-8", maxlinelen=limit, header_name=header)
    return f"{name.encode(linesep=linesep)}{linesep} <{address.addr_spec}>"


def build_email(
    msg: OutgoingMessage, sender: str, domain: str, *, date: dt.datetime | None = None
) -> EmailMessage:
    """The MIME message: text and HTML alternatives, then any attachments.

    No line of it passes 78 characters where folding allows, and none passes RFC 5322's
    998 octets: headers fold (names as encoded words when they must), and bodies go
    quoted-printable or base64 when a line is long or not ASCII.
    """
    email = EmailMessage(policy=SMTP_POLICY)
    email["Subject"] = msg.subject
    email["From"] = _AddressHeader("From", sender)
    email["To"] = _AddressHeader(
        "To", Address(display_name=msg.to_name, addr_spec=check_address(msg.to_address))
    )
    email["Date"] = format_datetime(date or dt.datetime.now(dt.UTC))
    email["Message-ID"] = message_id_for(msg.key, domain)
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(msg.text_body)
    email.add_alternative(msg.html_body, subtype="html")
    for attachment in msg.attachments:
        main, subtype, params = attachment_type(attachment.content_type)
        email.add_attachment(
            attachment.data,
            maintype=main,
            subtype=subtype,
            filename=attachment.filename,
            params=params,
        )
    return email
