"""The words of outgoing mail: its settings, the MIME message, and what a transport reports.

Every transport (the ``.eml`` folder in ``infra.mail_eml``, SMTP in ``infra.mail_smtp``;
``infra.mail_transport`` picks one) has the shape :class:`Transport`. ``deliver`` reports
each message's fate through ``on_result`` as soon as it is known, on the caller's thread, so
the database outbox can mark it sent (or failed) at once: after a crash only the messages
not yet marked are in doubt, and the next run delivers the rest.

``deferred`` means "not delivered this time, keep it pending": the server could not be
reached, kept answering 4xx, or the connection broke after the message data was sent and
before the server's answer (RFC 5321 §6.1: assume not delivered; its stable Message-ID
lets a re-sent copy be recognised). ``failed`` is final: the server refused it with 5xx,
or the address is not one we can send to.
"""

from __future__ import annotations

import datetime as dt
import re
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

    @classmethod
    def of(cls, counts: Mapping[DeliveryStatus, int]) -> DeliveryReport:
        """The report of a run that counted its results by status."""
        return cls(
            sent=counts.get(DeliveryStatus.sent, 0),
            failed=counts.get(DeliveryStatus.failed, 0),
            deferred=counts.get(DeliveryStatus.deferred, 0),
        )


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


@dataclass(frozen=True)
class MailSettings:
    """Where mail goes. Without ``host``, messages are written as .eml files to ``mail_dir``.

    ``infra.settings.mail_settings_from_env`` reads them from the environment.
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

    @property
    def sender_address(self) -> str:
        return parseaddr(self.mail_from)[1]

    @property
    def sender_domain(self) -> str:
        """The domain of Message-IDs: the sender's own."""
        return self.sender_address.rpartition("@")[2]


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
