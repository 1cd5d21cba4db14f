"""A real SMTP server for tests and benchmarks: aiosmtpd on 127.0.0.1 with a free port.

It records what it receives and can behave like the relays we meet in production: refuse
chosen recipients (550), answer 4xx a number of times first, close a connection after a
number of messages (421), refuse connections beyond a limit (421), drop the connection
after taking a message but before answering, take a while to answer each command (a round
trip), require a login, speak TLS (STARTTLS or implicit), go down and come back on the
same port, and stall: never send its greeting, or never answer MAIL, RCPT or the message
data (after answering a number of messages normally).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from types import TracebackType
from typing import Any, AnyStr

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from infra.mail import MailSettings

HOST = "127.0.0.1"
STALL = 3600.0  # seconds a stalled answer waits: until the server stops
STALL_POINTS = {"greeting", "MAIL", "RCPT", "DATA"}


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Received:
    """One accepted message: the envelope, the parsed mail, and its connection's number."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    connection: int


class RecordingHandler:
    """aiosmtpd handler hooks: record, refuse, and count connections."""

    def __init__(
        self,
        *,
        reject: Iterable[str] = (),
        temp_failures: int = 0,
        temp_fail_on: str = "DATA",
        messages_per_connection: int | None = None,
        drop_after_data: int = 0,
        max_connections: int | None = None,
        record: bool = True,
        stall_on: str | None = None,
        stall_after: int = 0,
    ) -> None:
        if temp_fail_on not in {"MAIL", "RCPT", "DATA"}:
            raise ValueError("temp_fail_on is MAIL, RCPT or DATA")
        if stall_on is not None and stall_on not in STALL_POINTS:
            raise ValueError(f"stall_on is one of {sorted(STALL_POINTS)}")
        self.reject = {address.lower() for address in reject}
        self.temp_failures = temp_failures
        self.temp_fail_on = temp_fail_on
        self.messages_per_connection = messages_per_connection
        self.drop_after_data = drop_after_data
        self.max_connections = max_connections
        self.record = record
        self.stall_on = stall_on
        self.stall_after = stall_after
        self.stalls = 0
        self.slots_taken = 0
        self.refused_connections = 0
        self.lock = threading.Lock()
        self.received: list[Received] = []
        self.accepted = 0
        self.connections = 0
        self.active = 0
        self.max_active = 0
        self.per_connection: dict[int, int] = {}
        self.temp_failures_sent = 0

    def _temp_fail(self, command: str) -> str | None:
        with self.lock:
            if command == self.temp_fail_on and self.temp_failures_sent < self.temp_failures:
                self.temp_failures_sent += 1
                return "451 4.3.0 Temporary local problem, try again later"
        return None

    async def stall(self, point: str) -> None:
        """Never answer at ``point`` once ``stall_after`` messages were accepted (the wait
        ends only when the server stops)."""
        with self.lock:
            stalling = point == self.stall_on and self.accepted >= self.stall_after
            self.stalls += stalling
        if stalling:
            await asyncio.sleep(STALL)

    def take_slot(self) -> bool:
        """Admit a new connection unless the relay's limit is reached."""
        with self.lock:
            if self.max_connections is not None and self.slots_taken >= self.max_connections:
                self.refused_connections += 1
                return False
            self.slots_taken += 1
            return True

    def free_slot(self) -> None:
        with self.lock:
            self.slots_taken -= 1

    def opened(self) -> int:
        with self.lock:
            self.connections += 1
            self.active += 1
            self.max_active = max(self.max_active, self.active)
            self.per_connection[self.connections] = 0
            return self.connections

    def closed(self) -> None:
        with self.lock:
            self.active -= 1

    async def handle_EHLO(
        self,
        server: DelayedSMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        session.host_name = hostname
        if server.number is None:
            server.number = self.opened()
        return responses

    async def handle_MAIL(
        self,
        server: DelayedSMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        options: list[str],
    ) -> str:
        await self.stall("MAIL")
        limit = self.messages_per_connection
        if limit is not None and server.number and self.per_connection[server.number] >= limit:
            return "421 4.7.0 Too many messages on this connection, closing"
        failure = self._temp_fail("MAIL")
        if failure:
            return failure
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(
        self,
        server: DelayedSMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        options: list[str],
    ) -> str:
        await self.stall("RCPT")
        if address.lower() in self.reject:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        failure = self._temp_fail("RCPT")
        if failure:
            return failure
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: DelayedSMTP, session: Session, envelope: Envelope) -> str:
        await self.stall("DATA")  # the data has arrived; its answer never comes
        failure = self._temp_fail("DATA")
        if failure:
            return failure
        data = envelope.original_content or b""
        with self.lock:
            self.accepted += 1
            if server.number is not None:
                self.per_connection[server.number] += 1
            if self.record:
                parsed = message_from_bytes(data, policy=policy.default)
                number = server.number or 0
                mail_from = envelope.mail_from or ""
                self.received.append(Received(mail_from, tuple(envelope.rcpt_tos), parsed, number))
            drop = self.drop_after_data > 0
            self.drop_after_data -= drop
        if drop and isinstance(server.transport, asyncio.Transport):
            server.transport.abort()  # taken, but the answer never reaches the client
        return "250 2.0.0 OK queued"


class DelayedSMTP(SMTP):
    """aiosmtpd's SMTP, waiting ``delay`` seconds before each reply (a relay's round trip).

    Only the last line of a reply waits, so a multi-line EHLO answer costs one round
    trip, as it does on the wire; after a 421 reply the connection is closed, as a relay
    does.
    """

    def __init__(self, handler: RecordingHandler, *, delay: float, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.recorder = handler
        self.delay = delay
        self.number: int | None = None
        self.greeted = False
        self.has_slot = False

    async def push(self, status: AnyStr) -> None:
        text = status.decode("ascii", "replace") if isinstance(status, bytes) else status
        if not self.greeted:  # the first reply is the greeting: admit or refuse
            self.greeted = True
            await self.recorder.stall("greeting")
            self.has_slot = self.recorder.take_slot()
            if not self.has_slot:
                text = "421 4.7.0 Too many connections, try again later"
        if self.delay and text[3:4] != "-":
            await asyncio.sleep(self.delay)
        await super().push(text)
        if text.startswith("421") and self.transport is not None:
            self.transport.close()

    def connection_lost(self, error: Exception | None) -> None:
        if self.has_slot:
            self.recorder.free_slot()
            self.has_slot = False
        if self.number is not None:
            self.recorder.closed()
            self.number = None
        super().connection_lost(error)


class _Controller(Controller):
    def __init__(self, handler: RecordingHandler, port: int, delay: float, **kwargs: Any) -> None:
        # A fixed server name: aiosmtpd would otherwise look up the FQDN per connection.
        super().__init__(handler, hostname=HOST, port=port, server_hostname="mail.test", **kwargs)
        self.recorder = handler
        self.delay = delay

    def factory(self) -> DelayedSMTP:
        return DelayedSMTP(self.recorder, delay=self.delay, **self.SMTP_kwargs)


class SmtpTestServer:
    """Start, stop and restart a recording SMTP server on one fixed local port."""

    def __init__(
        self,
        *,
        reject: Iterable[str] = (),
        temp_failures: int = 0,
        temp_fail_on: str = "DATA",
        messages_per_connection: int | None = None,
        drop_after_data: int = 0,
        max_connections: int | None = None,
        delay: float = 0.0,
        record: bool = True,
        stall_on: str | None = None,
        stall_after: int = 0,
        port: int | None = None,
        login: tuple[str, str] | None = None,
        tls_context: ssl.SSLContext | None = None,
        implicit_tls: bool = False,
    ) -> None:
        self.handler = RecordingHandler(
            reject=reject,
            temp_failures=temp_failures,
            temp_fail_on=temp_fail_on,
            messages_per_connection=messages_per_connection,
            drop_after_data=drop_after_data,
            max_connections=max_connections,
            record=record,
            stall_on=stall_on,
            stall_after=stall_after,
        )
        self.host = HOST
        self.port = port or free_port()
        self.delay = delay
        self.login = login
        self._options: dict[str, Any] = {}
        if login is not None:
            self._options.update(
                authenticator=self._authenticate, auth_required=True, auth_require_tls=False
            )
        if tls_context is not None and implicit_tls:
            self._options["ssl_context"] = tls_context
        elif tls_context is not None:
            self._options.update(tls_context=tls_context, require_starttls=True)
        self._controller: _Controller | None = None

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: object
    ) -> AuthResult:
        given = None
        if isinstance(data, LoginPassword):
            given = (data.login.decode(), data.password.decode())
        # handled=False: aiosmtpd itself answers 235 or 535.
        return AuthResult(success=given is not None and given == self.login, handled=False)

    def start(self) -> None:
        if self._controller is None:
            self._controller = _Controller(self.handler, self.port, self.delay, **self._options)
            self._controller.start()

    def stop(self) -> None:
        """Close the listener and every open connection (the server goes down)."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    @property
    def received(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.received)

    def wait_until_idle(self, timeout: float = 5.0) -> None:
        """Wait until clients have closed their connections (QUIT is asynchronous)."""
        deadline = time.monotonic() + timeout
        while self.handler.active and time.monotonic() < deadline:
            time.sleep(0.01)

    def __enter__(self) -> SmtpTestServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


SENDER = "Core Mentoring Program <mentoring@core.example.org>"


def settings_for(server: SmtpTestServer, **overrides: object) -> MailSettings:
    """Mail settings that point at ``server``, with short back-offs; ``overrides`` win."""
    options: dict[str, object] = {
        "host": server.host,
        "port": server.port,
        "mail_from": SENDER,
        "connections": 4,
        "timeout": 5.0,
        "max_attempts": 4,
        "backoff_initial": 0.01,
        "backoff_max": 0.05,
        **overrides,
    }
    return MailSettings(**options)  # type: ignore[arg-type]
