"""Delivery against a real SMTP server (aiosmtpd on 127.0.0.1) and to an .eml folder."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from domain.notifications import (
    Attachment,
    MessageKind,
    OutgoingMessage,
    idempotency_key,
    message_id_for,
)
from infra.mail import DeliveryResult, DeliveryStatus, MailSettings
from infra.mail_eml import EmlFolderTransport, eml_filename
from infra.mail_smtp import SmtpTransport
from infra.mail_transport import open_transport
from tests.builders import checkin_reminders
from tests.smtp_server import SENDER, SmtpTestServer, settings_for

DOMAIN = "core.example.org"


def messages(count: int, *, prefix: str = "C") -> list[OutgoingMessage]:
    return checkin_reminders(count, prefix=prefix)


def unix(text: str) -> str:
    return text.replace("\r\n", "\n")


class Recorder:
    """The outbox's side: every result, and the thread it arrived on."""

    def __init__(self) -> None:
        self.results: list[DeliveryResult] = []
        self.threads: set[int] = set()
        self.progress: list[int] = []

    def __call__(self, result: DeliveryResult) -> None:
        self.results.append(result)
        self.threads.add(threading.get_ident())

    def by_key(self) -> dict[str, DeliveryResult]:
        return {result.key: result for result in self.results}


@pytest.fixture
def server() -> Iterator[SmtpTestServer]:
    with SmtpTestServer() as running:
        yield running


smtp = pytest.mark.smtp
# The test server takes a login without TLS; aiosmtpd rightly warns about that.
plain_auth = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


@smtp
def test_every_message_arrives_once_with_its_recipient_subject_and_message_id(
    server: SmtpTestServer,
) -> None:
    batch = messages(30)
    recorder = Recorder()
    report = SmtpTransport(settings_for(server)).deliver(
        batch, recorder, progress=recorder.progress.append
    )

    assert (report.sent, report.failed, report.deferred) == (30, 0, 0)
    assert (report.released, report.blocked) == (0, None)
    assert [r.status for r in recorder.results] == [DeliveryStatus.sent] * 30
    assert all(r.tried for r in recorder.results)
    assert all(r.detail.startswith("250") for r in recorder.results)
    assert recorder.progress == list(range(1, 31))
    assert recorder.threads == {threading.get_ident()}  # the outbox's thread, not a worker

    received = {r.message["Message-ID"]: r for r in server.received}
    assert len(server.received) == 30 == len(received)
    for msg in batch:
        got = received[message_id_for(msg.key, DOMAIN)]
        assert got.rcpt_tos == (msg.to_address,)
        assert got.mail_from == "mentoring@core.example.org"
        assert got.message["Subject"] == msg.subject
        assert got.message["To"].addresses[0].display_name == msg.to_name
        assert got.message["To"].addresses[0].addr_spec == msg.to_address
        plain = got.message.get_body(("plain",))
        html = got.message.get_body(("html",))
        assert plain is not None and html is not None
        assert unix(plain.get_content()) == msg.text_body  # SMTP lines end in CRLF
        assert unix(html.get_content()) == msg.html_body


@smtp
def test_the_pool_uses_at_most_n_connections_and_reuses_each() -> None:
    with SmtpTestServer(delay=0.002) as server:  # sessions overlap, as with a real relay
        transport = SmtpTransport(settings_for(server, connections=3))
        report = transport.deliver(messages(45), Recorder())
        server.wait_until_idle()

    handler = server.handler
    assert report.sent == 45
    assert handler.connections == 3 == transport.connections_opened
    assert handler.max_active <= 3
    assert sum(handler.per_connection.values()) == 45
    assert all(count >= 5 for count in handler.per_connection.values())


@smtp
def test_connections_the_relay_refuses_hand_their_work_to_the_others() -> None:
    with SmtpTestServer(max_connections=2, delay=0.002) as server:
        transport = SmtpTransport(settings_for(server, connections=4))
        report = transport.deliver(messages(40), Recorder())
        server.wait_until_idle()

    assert report.sent == 40
    assert server.handler.refused_connections >= 2  # "421 too many connections"
    assert server.handler.max_active == 2
    assert len({r.message["Message-ID"] for r in server.received}) == 40 == len(server.received)


@smtp
def test_a_single_connection_carries_every_message(server: SmtpTestServer) -> None:
    SmtpTransport(settings_for(server, connections=1)).deliver(messages(12), Recorder())
    server.wait_until_idle()

    assert server.handler.connections == 1
    assert server.handler.per_connection == {1: 12}


@smtp
def test_a_refused_address_fails_with_the_servers_answer_and_the_rest_go_out() -> None:
    batch = messages(10)
    refused = {batch[2].to_address, batch[7].to_address}
    recorder = Recorder()
    with SmtpTestServer(reject=refused) as server:
        report = SmtpTransport(settings_for(server, connections=2)).deliver(batch, recorder)

    assert (report.sent, report.failed, report.deferred) == (8, 2, 0)
    results = recorder.by_key()
    for msg in batch:
        result = results[msg.key]
        if msg.to_address in refused:
            assert result.status is DeliveryStatus.failed and result.tried
            assert result.detail.startswith("550 5.1.1")
            assert "User unknown" in result.detail
        else:
            assert result.status is DeliveryStatus.sent
    assert sorted(r.rcpt_tos[0] for r in server.received) == sorted(
        m.to_address for m in batch if m.to_address not in refused
    )


@smtp
@pytest.mark.parametrize("command", ["MAIL", "RCPT", "DATA"])
def test_a_temporary_failure_is_retried_and_the_message_arrives_once(command: str) -> None:
    recorder = Recorder()
    with SmtpTestServer(temp_failures=2, temp_fail_on=command) as server:
        report = SmtpTransport(settings_for(server, connections=1)).deliver(messages(3), recorder)

    assert report.sent == 3
    assert server.handler.temp_failures_sent == 2
    assert len(server.received) == 3
    assert len({r.message["Message-ID"] for r in server.received}) == 3


@smtp
def test_a_message_still_refused_after_the_last_attempt_stays_pending() -> None:
    recorder = Recorder()
    with SmtpTestServer(temp_failures=100, temp_fail_on="RCPT") as server:
        transport = SmtpTransport(settings_for(server, connections=1, max_attempts=3))
        report = transport.deliver(messages(2), recorder)

    assert (report.sent, report.failed, report.deferred) == (0, 0, 2)
    assert server.handler.temp_failures_sent == 6
    assert all(r.detail.startswith("451 4.3.0") for r in recorder.results)
    assert all("after 3 attempts" in r.detail for r in recorder.results)
    assert server.received == []


@smtp
def test_a_connection_closed_by_the_server_is_reopened_without_duplicates() -> None:
    with SmtpTestServer(messages_per_connection=3) as server:
        report = SmtpTransport(settings_for(server, connections=1)).deliver(
            messages(10), Recorder()
        )
        server.wait_until_idle()

    assert report.sent == 10
    assert server.handler.connections == 4
    assert len({r.message["Message-ID"] for r in server.received}) == 10 == len(server.received)


@smtp
def test_a_connection_lost_before_the_answer_is_deferred_and_not_sent_again() -> None:
    recorder = Recorder()
    batch = messages(4)
    with SmtpTestServer(drop_after_data=1) as server:
        report = SmtpTransport(settings_for(server, connections=1)).deliver(batch, recorder)

    assert (report.sent, report.deferred) == (3, 1)
    unknown = recorder.by_key()[batch[0].key]
    assert unknown.status is DeliveryStatus.deferred and unknown.tried
    assert "outcome unknown" in unknown.detail
    assert len(server.received) == 4  # the server had taken it: a retry would duplicate it


@smtp
def test_when_the_server_is_down_everything_is_released_then_delivered_when_it_is_up() -> None:
    server = SmtpTestServer()
    batch = messages(12)
    settings = settings_for(server, connections=4, max_attempts=2)

    first = Recorder()
    started = time.monotonic()
    report = SmtpTransport(settings).deliver(batch, first)
    assert time.monotonic() - started < 3
    assert (report.sent, report.failed, report.deferred, report.released) == (0, 0, 0, 12)
    assert report.blocked is not None
    assert report.blocked.startswith(f"mail server {server.host}:{server.port} is unreachable")
    assert all("unreachable" in r.detail for r in first.results)
    assert not any(r.tried for r in first.results)  # no attempt to count
    assert {r.key for r in first.results} == {m.key for m in batch}

    with server:
        pending = [m for m in batch if first.by_key()[m.key].status is DeliveryStatus.released]
        again = SmtpTransport(settings).deliver(pending, Recorder())
        assert again.sent == 12 and again.blocked is None
        assert len(server.received) == 12


@smtp
def test_the_server_going_down_and_up_between_runs_on_the_same_port() -> None:
    with SmtpTestServer() as server:
        settings = settings_for(server, connections=2, max_attempts=2)
        assert SmtpTransport(settings).deliver(messages(3, prefix="A"), Recorder()).sent == 3
        server.stop()
        down = SmtpTransport(settings).deliver(messages(3, prefix="B"), Recorder())
        assert (down.deferred, down.released) == (0, 3)
        assert down.blocked is not None and f"{server.host}:{server.port}" in down.blocked
        server.start()
        assert SmtpTransport(settings).deliver(messages(3, prefix="B"), Recorder()).sent == 3
    assert len(server.received) == 6


@smtp
def test_a_key_given_twice_is_sent_once(server: SmtpTestServer) -> None:
    batch = messages(3)
    recorder = Recorder()
    report = SmtpTransport(settings_for(server)).deliver([*batch, batch[1]], recorder)

    assert report.sent == 3
    assert len(server.received) == 3
    assert sorted(r.key for r in recorder.results) == sorted(m.key for m in batch)


@smtp
def test_an_address_no_server_takes_fails_without_a_round_trip(server: SmtpTestServer) -> None:
    good, bad = messages(2)
    bad = replace(bad, to_address="two..dots@example.org")
    recorder = Recorder()
    report = SmtpTransport(settings_for(server)).deliver([good, bad], recorder)

    assert (report.sent, report.failed) == (1, 1)
    assert recorder.by_key()[bad.key].detail.startswith("bad address")
    assert not recorder.by_key()[bad.key].tried
    assert [r.rcpt_tos for r in server.received] == [(good.to_address,)]


@smtp
@plain_auth
def test_a_wrong_password_blocks_the_run_and_the_right_one_delivers() -> None:
    with SmtpTestServer(login=("committee", "s3cret")) as server:
        wrong = settings_for(server, user="committee", password="nope", max_attempts=1)
        recorder = Recorder()
        report = SmtpTransport(wrong).deliver(messages(3), recorder)
        assert (report.deferred, report.released) == (0, 3)
        assert all("535" in r.detail and not r.tried for r in recorder.results)
        assert report.blocked is not None
        assert report.blocked.startswith(
            f"mail server {server.host}:{server.port} refused the login: 535"
        )

        right = settings_for(server, user="committee", password="s3cret")
        assert SmtpTransport(right).deliver(messages(3), Recorder()).sent == 3
    assert len(server.received) == 3


@smtp
def test_an_error_in_on_result_stops_the_workers() -> None:
    def explode(result: DeliveryResult) -> None:
        raise RuntimeError("database is gone")

    with SmtpTestServer(delay=0.005) as server:
        transport = SmtpTransport(settings_for(server, connections=2))
        with pytest.raises(RuntimeError, match="database is gone"):
            transport.deliver(messages(40), explode)
        assert len(server.received) <= 4  # each worker finished at most its current message


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, trusted through SSL_CERT_FILE."""
    crypto = pytest.importorskip("cryptography")
    assert crypto is not None
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@smtp
@plain_auth
@pytest.mark.parametrize("implicit", [False, True], ids=["starttls", "implicit-tls"])
def test_tls_and_login(
    certificate: tuple[Path, Path], implicit: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert_file, key_file = certificate
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    with SmtpTestServer(
        tls_context=context, implicit_tls=implicit, login=("committee", "s3cret")
    ) as server:
        settings = settings_for(
            server,
            starttls=not implicit,
            ssl=implicit,
            user="committee",
            password="s3cret",
            connections=2,
        )
        report = SmtpTransport(settings).deliver(messages(4), Recorder())
    assert report.sent == 4
    assert len(server.received) == 4


@smtp
@pytest.mark.parametrize("implicit", [False, True], ids=["starttls", "implicit-tls"])
def test_a_certificate_we_do_not_trust_blocks_the_run(
    certificate: tuple[Path, Path], implicit: bool
) -> None:
    cert_file, key_file = certificate  # not in SSL_CERT_FILE this time
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    recorder = Recorder()
    with SmtpTestServer(tls_context=context, implicit_tls=implicit) as server:
        settings = settings_for(server, starttls=not implicit, ssl=implicit)
        report = SmtpTransport(settings).deliver(messages(3), recorder)

    assert (report.sent, report.released) == (0, 3)
    assert report.blocked is not None
    assert report.blocked.startswith(
        f"mail server {server.host}:{server.port} failed the TLS handshake"
    )
    assert not any(r.tried for r in recorder.results)
    assert server.received == []


# The .eml folder (no SMTP host configured)


def parse(path: Path) -> EmailMessage:
    return message_from_bytes(path.read_bytes(), policy=policy.default)


def test_the_eml_folder_holds_one_parseable_file_per_message(tmp_path: Path) -> None:
    invite = Attachment("orientation.ics", "text/calendar; method=PUBLISH", b"BEGIN:VCALENDAR\r\n")
    batch = [*messages(2), replace(messages(1, prefix="Z")[0], attachments=(invite,))]
    recorder = Recorder()

    report = EmlFolderTransport(tmp_path / "mail", SENDER).deliver(batch, recorder)

    assert (report.sent, report.failed, report.deferred) == (3, 0, 0)
    files = sorted((tmp_path / "mail").iterdir())
    assert [f.name for f in files] == sorted(eml_filename(m.key) for m in batch)
    for msg in batch:
        parsed = parse(tmp_path / "mail" / eml_filename(msg.key))
        assert parsed["Message-ID"] == message_id_for(msg.key, DOMAIN)
        assert parsed["Subject"] == msg.subject
        assert parsed["To"].addresses[0].addr_spec == msg.to_address
        plain = parsed.get_body(("plain",))
        assert plain is not None and plain.get_content() == msg.text_body
    attachments = list(parse(tmp_path / "mail" / eml_filename(batch[2].key)).iter_attachments())
    assert [(a.get_filename(), a.get_content_type()) for a in attachments] == [
        ("orientation.ics", "text/calendar")
    ]
    assert attachments[0].get_content().startswith("BEGIN:VCALENDAR")


def test_delivering_the_same_key_again_overwrites_its_file(tmp_path: Path) -> None:
    transport = EmlFolderTransport(tmp_path, SENDER)
    first = messages(2)
    transport.deliver(first, Recorder())
    changed = replace(first[0], subject="Updated subject")

    transport.deliver([changed], Recorder())

    assert len(list(tmp_path.iterdir())) == 2  # no temporary files left, no copies
    assert parse(tmp_path / eml_filename(changed.key))["Subject"] == "Updated subject"


def test_eml_file_names_do_not_collide() -> None:
    keys = [
        idempotency_key(2026, MessageKind.checkin_reminder, "C1", "2027-01"),
        idempotency_key(2026, MessageKind.checkin_reminder, "C1+2027-01"),
    ]
    assert len({eml_filename(k) for k in keys}) == 2
    assert eml_filename(keys[0]) == "2026+checkin_reminder+C1+2027-01.eml"


def test_without_an_smtp_host_mail_goes_to_the_folder(tmp_path: Path) -> None:
    folder = MailSettings(mail_dir=tmp_path / "out")
    assert isinstance(open_transport(folder), EmlFolderTransport)
    assert isinstance(open_transport(MailSettings(host="relay.example.org")), SmtpTransport)
