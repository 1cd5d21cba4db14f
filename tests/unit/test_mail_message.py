"""The MIME message we send, and the mail settings read from the environment."""

from __future__ import annotations

import datetime as dt
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from domain.notifications import Attachment, MessageKind, OutgoingMessage, message_id_for
from infra.mail import SMTP_POLICY, BadAddressError, MailSettings, build_email

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


def test_settings_default_to_the_eml_folder() -> None:
    settings = MailSettings.from_env({})
    assert settings.host is None
    assert settings.mail_from == SENDER
    assert settings.connections == 4
    assert settings.mail_dir == Path("var/mail")
    assert settings.sender_domain == "core.example.org"
    assert "password" not in repr(MailSettings.from_env({"MENTORING_SMTP_PASSWORD": "s3cret"}))


def test_settings_read_every_variable() -> None:
    settings = MailSettings.from_env(
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
    assert MailSettings.from_env(environ).port == port


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
        MailSettings.from_env(environ)
