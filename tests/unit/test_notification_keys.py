"""Idempotency keys and Message-IDs: stable, readable, and one per message."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.notifications import (
    Attachment,
    MessageKind,
    OutgoingMessage,
    idempotency_key,
    message_id_for,
)

# RFC 5322 msg-id with a dot-atom left side and a domain on the right.
ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
MSG_ID = re.compile(rf"<{ATEXT}(\.{ATEXT})*@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*>")
token = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zs"), blacklist_characters="/"),
    min_size=1,
    max_size=20,
).filter(lambda s: not any(c.isspace() for c in s))


def test_a_key_reads_as_year_kind_recipient() -> None:
    assert idempotency_key(2026, MessageKind.pairing_notice, "C100079") == (
        "2026/pairing_notice/C100079"
    )


def test_a_repeated_kind_is_told_apart_by_its_discriminator() -> None:
    january = idempotency_key(2026, MessageKind.checkin_reminder, "C100079", "2027-01")
    february = idempotency_key(2026, MessageKind.checkin_reminder, "C100079", "2027-02")
    assert january == "2026/checkin_reminder/C100079/2027-01"
    assert january != february


@pytest.mark.parametrize("recipient", ["", "C1/C2", "C 1", "C1\n"])
def test_a_recipient_that_would_blur_the_key_is_refused(recipient: str) -> None:
    with pytest.raises(ValueError, match="key part"):
        idempotency_key(2026, MessageKind.pairing_notice, recipient)


def test_the_message_id_is_derived_from_the_key() -> None:
    key = "2026/pairing_notice/C100079"
    message_id = message_id_for(key, "core.example.org")
    assert message_id == message_id_for(key, "core.example.org")
    assert re.fullmatch(r"<[0-9a-f]{24}\.2026\.pairing_notice@core\.example\.org>", message_id)
    assert message_id != message_id_for("2026/pairing_notice/C100080", "core.example.org")


@given(year=st.integers(1900, 9999), recipient=token, discriminator=token | st.just(""))
def test_every_key_gives_a_valid_and_distinct_message_id(
    year: int, recipient: str, discriminator: str
) -> None:
    kind = MessageKind.checkin_reminder
    key = idempotency_key(year, kind, recipient, discriminator)
    other = idempotency_key(year, kind, recipient + "x", discriminator)
    message_id = message_id_for(key, "core.example.org")
    assert MSG_ID.fullmatch(message_id), message_id
    assert message_id != message_id_for(other, "core.example.org")


def test_a_bad_domain_is_refused() -> None:
    with pytest.raises(ValueError, match="domain"):
        message_id_for("2026/pairing_notice/C1", "core example.org")


def outgoing(**changes: object) -> OutgoingMessage:
    fields: dict[str, object] = {
        "key": "2026/pairing_notice/C1",
        "kind": MessageKind.pairing_notice,
        "cycle_year": 2026,
        "to_address": "ana@example.org",
        "to_name": "Ana Ruiz",
        "subject": "Your mentor",
        "text_body": "Hello\n",
        "html_body": "<p>Hello</p>",
        **changes,
    }
    return OutgoingMessage(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "changes",
    [
        {"subject": "Your mentor\r\nBcc: everyone@example.org"},
        {"to_name": "Ana\nRuiz"},
        {"to_address": "not-an-address"},
        {"key": ""},
    ],
)
def test_a_message_that_could_inject_headers_or_has_no_key_is_refused(
    changes: dict[str, object],
) -> None:
    with pytest.raises(ValueError):
        outgoing(**changes)


def test_an_attachment_needs_a_plain_name_and_a_type() -> None:
    assert outgoing(attachments=(Attachment("a.ics", "text/calendar", b"x"),)).attachments
    with pytest.raises(ValueError):
        Attachment("../a.ics", "text/calendar", b"x")
    with pytest.raises(ValueError):
        Attachment("a.ics", "calendar", b"x")
