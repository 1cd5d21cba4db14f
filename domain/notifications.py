"""Notifications to send: what a message is, and how it is named so it is sent once.

A message is written to the outbox in the same transaction as the state change that
caused it, then delivered later. Its idempotency key names *what* is being said to *whom*
("2026/pairing_notice/C100079"), so queueing the same notice twice, or delivering it after a
crash, never produces two different messages; the Message-ID is derived from the key so
even a re-send is recognisable as the same message by the recipient's mail system.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from enum import StrEnum


class MessageKind(StrEnum):
    """Every kind of mail the program sends; each has its own templates."""

    call_for_applications = "call_for_applications"
    application_received = "application_received"
    application_not_accepted = "application_not_accepted"
    application_deadline_reminder = "application_deadline_reminder"
    pairing_notice = "pairing_notice"
    not_paired_notice = "not_paired_notice"
    partner_left = "partner_left"
    orientation_invitation = "orientation_invitation"
    mentoring_begins = "mentoring_begins"
    checkin_reminder = "checkin_reminder"
    midpoint_check = "midpoint_check"
    mentoring_ends = "mentoring_ends"
    assessment_invitation = "assessment_invitation"
    assessment_reminder = "assessment_reminder"
    committee_notice = "committee_notice"
    sign_in_link = "sign_in_link"


class MessageStatus(StrEnum):
    """Where a queued message stands: ``pending`` until delivered (a deferred try leaves it
    pending), then ``sent`` or ``failed``."""

    pending = "pending"
    sent = "sent"
    failed = "failed"


# A key part is one readable token: no "/" (the separator), no whitespace or controls.
_KEY_PART = re.compile(r"[^/\s\x00-\x1f\x7f]+")
_DOMAIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)*")
_HEADER_BREAK = re.compile(r"[\r\n]")


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message, e.g. the orientation's calendar invitation."""

    filename: str
    content_type: str
    data: bytes

    def __post_init__(self) -> None:
        if not self.filename or "/" in self.filename or _HEADER_BREAK.search(self.filename):
            raise ValueError(f"attachment filename must be a plain name, got {self.filename!r}")
        if "/" not in self.content_type:
            raise ValueError(f"content_type must be type/subtype, got {self.content_type!r}")


@dataclass(frozen=True)
class OutgoingMessage:
    """One rendered message to one person, ready for any transport."""

    key: str
    kind: MessageKind
    cycle_year: int
    to_address: str
    to_name: str
    subject: str
    text_body: str
    html_body: str
    attachments: tuple[Attachment, ...] = ()

    def __post_init__(self) -> None:
        if not self.key:
            raise ValueError("an outgoing message needs its idempotency key")
        if self.to_address.count("@") != 1 or _HEADER_BREAK.search(self.to_address):
            raise ValueError(f"not an email address: {self.to_address!r}")
        # Header fields must stay single lines: a newline would let text inject headers.
        for name in ("to_name", "subject"):
            if _HEADER_BREAK.search(getattr(self, name)):
                raise ValueError(f"{name} must be a single line")


def idempotency_key(
    cycle_year: int, kind: MessageKind, recipient: str, discriminator: str = ""
) -> str:
    """The outbox key: one message of this kind, this cycle, to this recipient.

    `discriminator` tells apart kinds that are sent repeatedly, e.g. the month of a
    check-in reminder ("2027-01") or the role of a `both` participant ("mentee").
    """
    if not 1900 <= cycle_year <= 9999:
        raise ValueError(f"cycle year out of range: {cycle_year}")
    parts = [str(cycle_year), MessageKind(kind).value, recipient]
    if discriminator:
        parts.append(discriminator)
    for part in parts[2:]:
        if not _KEY_PART.fullmatch(part):
            raise ValueError(f"key part must be non-empty, without '/' or spaces: {part!r}")
    return "/".join(parts)


def message_id_for(key: str, domain: str) -> str:
    """A stable RFC 5322 Message-ID for the key: a re-send carries the same id."""
    if not _DOMAIN.fullmatch(domain):
        raise ValueError(f"not a domain name: {domain!r}")
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]
    readable = [part for part in key.split("/")[:2] if re.fullmatch(r"[A-Za-z0-9_]+", part)]
    return f"<{'.'.join([digest, *readable])}@{domain}>"
