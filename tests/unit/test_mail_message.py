"""The MIME message we send, and the mail settings read from the environment."""

from __future__ import annotations

import copy
import datetime as dt
import pickle
import re
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.utils import parseaddr
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.notifications import Attachment, MessageKind, OutgoingMessage, message_id_for
from infra.mail import SMTP_POLICY, BadAddressError, MailSettings, build_email
from infra.mail_mime import MessageWriter, encoded_words
from infra.mail_session import as_data
from infra.settings import mail_settings_from_env

SENDER = "Core Mentoring Program <mentoring@core.example.org>"


def outgoing(**changes: object) -> OutgoingMessage:
    fields: dict[str, object] = {
        "key": "2026/pairing_notice/C1",
        "kind": MessageKind.pairing_notice,
        "cycle_year": 2026,
        "to_address": "jose@example.org",
        "to_name": "José Núñez, Jr.",
        "subject": "Your Core Mentoring Program 2026\u201327 mentor: Zoë",
        "text_body": "Dear José,\n.a line starting with a dot\n",
        "html_body": "<p>Dear José,</p>",
        **changes,
    }
    return OutgoingMessage(**fields)  # type: ignore[arg-type]


def test_the_message_has_both_alternatives_and_its_stable_headers() -> None:
    when = dt.datetime(2026, 11, 5, 15, 0, tzinfo=dt.UTC)
    email = build_email(outgoing(), SENDER, "core.example.org", date=when)
    parsed = message_from_bytes(email.as_bytes(policy=SMTP_POLICY), policy=policy.default)

    assert parsed.get_content_type() == "multipart/alternative"
    assert parsed["Message-ID"] == message_id_for("2026/pairing_notice/C1", "core.example.org")
    assert parsed["Date"].datetime == when
    assert parsed["From"].addresses[0].addr_spec == "mentoring@core.example.org"
    assert parsed["To"].addresses[0].display_name == "José Núñez, Jr."
    assert parsed["Subject"] == "Your Core Mentoring Program 2026\u201327 mentor: Zoë"
    assert parsed["Auto-Submitted"] == "auto-generated"
    plain, html = parsed.get_body(("plain",)), parsed.get_body(("html",))
    assert plain is not None and html is not None
    assert plain.get_content().replace("\r\n", "\n") == "Dear José,\n.a line starting with a dot\n"
    assert "<p>Dear José,</p>" in html.get_content()


def test_the_message_is_seven_bit_so_any_relay_takes_it() -> None:
    data = build_email(outgoing(), SENDER, "core.example.org").as_bytes(policy=SMTP_POLICY)
    assert data.isascii()
    assert all(len(line) <= 998 for line in data.split(b"\r\n"))


def test_attachments_follow_the_alternatives() -> None:
    invite = Attachment("orientation.ics", "text/calendar; method=PUBLISH; charset=UTF-8", b"X")
    email = build_email(outgoing(attachments=(invite,)), SENDER, "core.example.org")

    assert email.get_content_type() == "multipart/mixed"
    parts = list(email.iter_parts())
    assert parts[0].get_content_type() == "multipart/alternative"
    assert parts[1].get_content_type() == "text/calendar"
    assert parts[1].get_param("method") == "PUBLISH"
    assert parts[1].get_filename() == "orientation.ics"


@pytest.mark.parametrize("address", ["two..dots@example.org", "josé@example.org", "a@-x.org"])
def test_an_address_no_server_takes_is_refused_before_sending(address: str) -> None:
    with pytest.raises(BadAddressError, match="bad address"):
        build_email(outgoing(to_address=address), SENDER, "core.example.org")


def test_a_stalled_relay_costs_seconds_by_default() -> None:
    assert MailSettings().timeout <= 10
    assert MailSettings().deadline_seconds is not None
    with pytest.raises(ValueError, match="positive"):
        MailSettings(timeout=0)


def test_settings_default_to_the_eml_folder() -> None:
    settings = mail_settings_from_env({})
    assert settings.host is None
    assert settings.mail_from == SENDER
    assert settings.connections == 4
    assert settings.mail_dir == Path("var/mail")
    assert settings.sender_domain == "core.example.org"
    assert "password" not in repr(mail_settings_from_env({"MENTORING_SMTP_PASSWORD": "s3cret"}))


def test_settings_read_every_variable() -> None:
    settings = mail_settings_from_env(
        {
            "MENTORING_SMTP_HOST": "smtp.example.org",
            "MENTORING_SMTP_PORT": "2525",
            "MENTORING_SMTP_USER": "committee",
            "MENTORING_SMTP_PASSWORD": "s3cret",
            "MENTORING_SMTP_STARTTLS": "true",
            "MENTORING_MAIL_FROM": "Mentoring <mentoring@ala.example.org>",
            "MENTORING_SMTP_CONNECTIONS": "8",
            "MENTORING_MAIL_DIR": "/tmp/mail",
        }
    )
    assert (settings.host, settings.port, settings.user, settings.password) == (
        "smtp.example.org",
        2525,
        "committee",
        "s3cret",
    )
    assert settings.starttls and not settings.ssl
    assert settings.connections == 8
    assert settings.mail_dir == Path("/tmp/mail")
    assert settings.sender_domain == "ala.example.org"


@pytest.mark.parametrize(
    ("environ", "port"),
    [
        ({"MENTORING_SMTP_STARTTLS": "true"}, 587),
        ({"MENTORING_SMTP_SSL": "yes"}, 465),
        ({}, 25),
    ],
)
def test_the_default_port_follows_the_kind_of_tls(environ: dict[str, str], port: int) -> None:
    assert mail_settings_from_env(environ).port == port


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"MENTORING_SMTP_STARTTLS": "maybe"}, "MENTORING_SMTP_STARTTLS must be true or false"),
        ({"MENTORING_SMTP_CONNECTIONS": "0"}, "MENTORING_SMTP_CONNECTIONS must be at least 1"),
        ({"MENTORING_SMTP_PORT": "smtp"}, "MENTORING_SMTP_PORT must be a whole number"),
        (
            {"MENTORING_SMTP_STARTTLS": "true", "MENTORING_SMTP_SSL": "true"},
            "STARTTLS or implicit TLS",
        ),
        ({"MENTORING_MAIL_FROM": "nobody"}, "MENTORING_MAIL_FROM"),
    ],
)
def test_bad_settings_are_named(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        mail_settings_from_env(environ)


def lines_of(data: bytes) -> list[bytes]:
    return data.split(b"\r\n")


def decoded_to(data: bytes) -> str:
    """The To header as RFC 5322 unfolds and RFC 2047 decodes it (the parser of
    ``policy.default`` puts a space between adjacent encoded words, which RFC 2047 drops)."""
    raw = message_from_bytes(data, policy=policy.compat32)["To"]
    return str(make_header(decode_header(re.sub(r"\r?\n(?=[ \t])", "", raw))))


def test_long_headers_and_body_lines_fold_within_the_rfc_5322_limit() -> None:
    subject = " ".join(["Zoë's", "x" * 1200, "programme"] * 4)[:5000].ljust(5000, "y")
    name = "N" * 2000
    text = "a" * 20000 + "\n" + "é" * 3000 + "\nend\n"
    html = "<p>" + "b" * 20000 + "</p><p>" + "ü" * 3000 + "</p>"
    email = build_email(
        outgoing(subject=subject, to_name=name, text_body=text, html_body=html),
        SENDER,
        "core.example.org",
    )

    for data in (bytes(email), email.as_bytes(policy=SMTP_POLICY)):
        assert data.isascii()
        assert max(len(line) for line in lines_of(data)) <= 998
        parsed = message_from_bytes(data, policy=policy.default)
        assert parsed["Subject"] == subject
        assert decoded_to(data) == f"{name} <jose@example.org>"
        assert parsed["To"].addresses[0].addr_spec == "jose@example.org"
        plain, rich = parsed.get_body(("plain",)), parsed.get_body(("html",))
        assert plain is not None and rich is not None
        assert plain.get_content().replace("\r\n", "\n") == text
        assert html in rich.get_content()
        assert {plain["Content-Transfer-Encoding"], rich["Content-Transfer-Encoding"]} <= {
            "quoted-printable",
            "base64",
        }


@pytest.mark.parametrize(
    "name",
    [
        "N" * 2000,
        "Ana " + "B" * 120 + " Cruz",
        "Zoë " + "n" * 500,
        "O'Brien, " + "P" * 300,
    ],
)
def test_a_display_name_with_a_word_longer_than_a_line_is_folded_as_encoded_words(
    name: str,
) -> None:
    data = build_email(outgoing(to_name=name), SENDER, "core.example.org").as_bytes(
        policy=SMTP_POLICY
    )
    header = data.split(b"\r\n\r\n")[0]
    assert max(len(line) for line in lines_of(header)) <= 78
    assert decoded_to(data) == f"{name} <jose@example.org>"


def test_a_long_sender_name_folds_too() -> None:
    sender = "C" * 1500 + " <mentoring@core.example.org>"
    data = build_email(outgoing(), sender, "core.example.org").as_bytes(policy=SMTP_POLICY)
    assert max(len(line) for line in lines_of(data)) <= 78
    parsed = message_from_bytes(data, policy=policy.default)
    assert parsed["From"].addresses[0].addr_spec == "mentoring@core.example.org"


def test_a_copied_message_still_folds_its_names() -> None:
    email = build_email(outgoing(to_name="N" * 2000), SENDER, "core.example.org")
    for copied in (copy.deepcopy(email), pickle.loads(pickle.dumps(email))):
        data = copied.as_bytes(policy=SMTP_POLICY)
        assert max(len(line) for line in lines_of(data)) <= 78
        assert decoded_to(data) == f"{'N' * 2000} <jose@example.org>"


@pytest.mark.parametrize(
    "address",
    ["a" * 65 + "@example.org", "a@" + ".".join(["b" * 60] * 5) + ".org"],
)
def test_an_address_longer_than_rfc_5321_allows_is_refused(address: str) -> None:
    with pytest.raises(BadAddressError, match="bad address"):
        build_email(outgoing(to_address=address), SENDER, "core.example.org")


def test_an_address_at_rfc_5321_limits_is_taken() -> None:
    address = "a" * 64 + "@" + ".".join(["b" * 61] * 3) + ".org"
    assert len(address) == 254
    email = build_email(outgoing(to_address=address), SENDER, "core.example.org")
    assert email["To"].addresses[0].addr_spec == address


@settings(max_examples=60, deadline=None)
@given(
    subject=st.text(st.sampled_from("aZ é,\"'\\=?_-"), min_size=1, max_size=3000).filter(
        lambda s: s == s.strip() != ""
    ),
    name=st.text(st.sampled_from("aZ é,\"'\\.()<>@"), max_size=3000),
    body=st.text(st.sampled_from("a é\n.="), max_size=5000),
)
def test_no_line_of_any_message_passes_998_octets(subject: str, name: str, body: str) -> None:
    email = build_email(
        outgoing(subject=subject, to_name=name, text_body=body, html_body=f"<p>{body}</p>"),
        SENDER,
        "core.example.org",
    )
    data = email.as_bytes(policy=SMTP_POLICY)
    assert data.isascii()
    assert max(len(line) for line in lines_of(data)) <= 998
    parsed = message_from_bytes(data, policy=policy.default)
    assert parsed["Subject"] == subject
    assert parsed["To"].addresses[0].addr_spec == "jose@example.org"


# The message as the transports write it (infra.mail_mime): the same message, fast.


def written(msg: OutgoingMessage, sender: str = SENDER, *, linesep: str = "\r\n") -> bytes:
    return MessageWriter(sender, "core.example.org", linesep=linesep).write(msg, date=WHEN)


WHEN = dt.datetime(2026, 11, 5, 15, 0, tzinfo=dt.UTC)


def recipient(data: bytes) -> tuple[str, str]:
    """The To header's display name and address as RFC 5322 and RFC 2047 read them:
    unfolded, a quoted string unquoted, encoded words decoded."""
    raw = message_from_bytes(data, policy=policy.compat32)["To"]
    name, address = parseaddr(re.sub(r"\r?\n(?=[ \t])", "", raw))
    return str(make_header(decode_header(name))), address


INVITE = Attachment("orientation.ics", "text/calendar; method=PUBLISH; charset=UTF-8", b"X\r\n")


def parts_of(data: bytes) -> list[tuple[str, dict[str, str], str | None, bytes]]:
    """Every leaf part: content type, its parameters, file name, decoded payload."""
    parsed = message_from_bytes(data, policy=policy.default)
    leaves = []
    for part in parsed.walk():
        if part.is_multipart():
            continue
        params = {k: v for k, v in part["Content-Type"].params.items() if k != "boundary"}
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        leaves.append((part.get_content_type(), params, part.get_filename(), payload))
    return leaves


@pytest.mark.parametrize("attachments", [(), (INVITE,)], ids=["plain", "with-invitation"])
def test_the_writer_writes_the_message_build_email_builds(
    attachments: tuple[Attachment, ...],
) -> None:
    msg = outgoing(attachments=attachments)
    ours = written(msg)
    reference = build_email(msg, SENDER, "core.example.org", date=WHEN).as_bytes(policy=SMTP_POLICY)

    mine = message_from_bytes(ours, policy=policy.default)
    theirs = message_from_bytes(reference, policy=policy.default)
    for header in ("Subject", "From", "To", "Date", "Message-ID", "Auto-Submitted"):
        assert str(mine[header]) == str(theirs[header]), header
    assert mine.get_content_type() == theirs.get_content_type()
    assert parts_of(ours) == parts_of(reference)
    assert ours.isascii()
    assert max(len(line) for line in lines_of(ours)) <= 78


def test_the_writer_keeps_attachment_names_that_need_rfc_2231() -> None:
    invite = Attachment("orientación 2026.ics", "text/calendar; method=PUBLISH", b"BEGIN")
    data = written(outgoing(attachments=(invite,)))
    (attachment,) = [p for p in parts_of(data) if p[2] is not None]
    assert attachment == ("text/calendar", {"method": "PUBLISH"}, "orientación 2026.ics", b"BEGIN")


def test_the_writer_for_files_ends_lines_with_newlines() -> None:
    data = written(outgoing(), linesep="\n")
    assert b"\r" not in data
    parsed = message_from_bytes(data, policy=policy.default)
    assert parsed["Subject"] == outgoing().subject
    plain = parsed.get_body(("plain",))
    assert plain is not None and plain.get_content() == outgoing().text_body


def test_the_writer_refuses_an_address_no_server_takes() -> None:
    with pytest.raises(BadAddressError, match="bad address"):
        written(outgoing(to_address="two..dots@example.org"))


def test_smtp_data_doubles_leading_dots_and_ends_with_a_lone_dot() -> None:
    data = as_data(written(outgoing(text_body=".one\n..two\nthree.\n")))
    assert data.endswith(b"\r\n.\r\n")
    body = data[: -len(b".\r\n")]
    assert all(not line.startswith(b".") or line.startswith(b"..") for line in lines_of(body))
    unstuffed = body.replace(b"\r\n..", b"\r\n.")
    plain = message_from_bytes(unstuffed, policy=policy.default).get_body(("plain",))
    assert plain is not None
    assert plain.get_content().replace("\r\n", "\n") == ".one\n..two\nthree.\n"


@pytest.mark.parametrize(
    "name", ["N" * 2000, "Ana " + "B" * 120 + " Cruz", "Zoë " + "n" * 500, "O'Brien, " + "P" * 300]
)
def test_the_writer_folds_long_display_names_as_encoded_words(name: str) -> None:
    data = written(outgoing(to_name=name))
    header = data.split(b"\r\n\r\n")[0]
    assert max(len(line) for line in lines_of(header)) <= 78
    assert decoded_to(data) == f"{name} <jose@example.org>"


def test_the_writer_folds_long_headers_and_body_lines() -> None:
    subject = " ".join(["Zoë's", "x" * 1200, "programme"] * 4)[:5000].ljust(5000, "y")
    text = "a" * 20000 + "\n" + "é" * 3000 + "\nend\n"
    html = "<p>" + "b" * 20000 + "</p><p>" + "ü" * 3000 + "</p>"
    data = written(outgoing(subject=subject, to_name="N" * 2000, text_body=text, html_body=html))

    assert data.isascii()
    assert max(len(line) for line in lines_of(data)) <= 78
    parsed = message_from_bytes(data, policy=policy.default)
    assert parsed["Subject"] == subject
    plain, rich = parsed.get_body(("plain",)), parsed.get_body(("html",))
    assert plain is not None and rich is not None
    assert plain.get_content().replace("\r\n", "\n") == text
    assert html in rich.get_content()


@settings(max_examples=60, deadline=None)
@given(
    subject=st.text(st.sampled_from("aZ é,\"'\\=?_-"), min_size=1, max_size=3000).filter(
        lambda s: s == s.strip() != ""
    ),
    name=st.text(st.sampled_from("aZ é,\"'\\.()<>@=?_"), max_size=3000),
    body=st.text(st.sampled_from("a é\n.=\t"), max_size=5000),
)
def test_the_writer_keeps_every_header_and_body(subject: str, name: str, body: str) -> None:
    data = written(outgoing(subject=subject, to_name=name, text_body=body, html_body=body))
    assert data.isascii()
    assert max(len(line) for line in lines_of(data)) <= 998
    parsed = message_from_bytes(data, policy=policy.default)
    assert parsed["Subject"] == subject
    assert recipient(data) == (name, "jose@example.org")
    plain = parsed.get_body(("plain",))
    assert plain is not None
    expected = "\n".join(body.splitlines()) + "\n" if body else "\n"
    assert plain.get_content().replace("\r\n", "\n") == expected


@given(text=st.text(st.characters(codec="utf-8"), max_size=400))
def test_encoded_words_never_split_a_character_and_fit_a_line(text: str) -> None:
    words = encoded_words(text, 78 - len("Subject: "))
    assert all(len(word) <= 75 for word in words)
    assert "".join(str(make_header(decode_header(word))) for word in words) == text
