"""Sessions in a signed cookie: what the member's browser holds, and nothing it can forge.

The cookie carries a small JSON object (a session id, the CSRF token, and once signed in
the member id and when they signed in), signed by itsdangerous (HMAC-SHA256, salted, with
its issue time) under ``MENTORING_SECRET_KEY``. A cookie whose signature does not match,
that cannot be read, or that is older than the session's life is ignored: the request goes
on without a session.
It holds no personal data beyond the member id.

A signed cookie cannot be taken back from the browser, so signing out also records the
session id as ended, in this process's memory, until the session would have expired
anyway (one process: see docs/portal.md).
"""

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any

from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE_NAME = "mentoring_session"
MAX_AGE_SECONDS = 12 * 60 * 60
_SALT = "mentoring-portal-session-v1"


@dataclass(frozen=True)
class CookiePolicy:
    """How the session cookie is sent: ``secure`` behind https."""

    secure: bool
    max_age: int = MAX_AGE_SECONDS
    name: str = COOKIE_NAME


class _ClockedSigner(TimestampSigner):
    """itsdangerous' timestamp signer on the site's clock (tests move the clock)."""

    def __init__(self, *args: Any, clock: Callable[[], float], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clock = clock

    def get_timestamp(self) -> int:
        return int(self._clock())


class CookieSigner:
    """Signs and reads session cookies with itsdangerous (HMAC, a salt of its own, the
    issue time inside the signature); a cookie older than ``max_age`` is not read."""

    def __init__(self, secret_key: str, max_age: int = MAX_AGE_SECONDS) -> None:
        self._secret = secret_key
        self.max_age = max_age

    def _serializer(self, at: float) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(
            self._secret,
            salt=_SALT,
            signer=_ClockedSigner,
            signer_kwargs={"clock": lambda: at, "digest_method": hashlib.sha256},
        )

    def sign(self, data: dict[str, Any], issued: float) -> str:
        return str(self._serializer(issued).dumps(data))

    def read(self, cookie: str, now: float) -> dict[str, Any] | None:
        """The session in ``cookie``, or None when forged, unreadable or too old."""
        try:
            data = self._serializer(now).loads(cookie, max_age=self.max_age)
        except BadSignature:
            return None
        return data if isinstance(data, dict) else None


class EndedSessions:
    """Session ids signed out of, kept until their cookie would have expired anyway."""

    def __init__(self, max_age: int = MAX_AGE_SECONDS) -> None:
        self._ended: dict[str, float] = {}
        self._lock = threading.Lock()
        self.max_age = max_age

    def end(self, session_id: str, now: float) -> None:
        with self._lock:
            self._ended = {s: t for s, t in self._ended.items() if t > now - self.max_age}
            self._ended[session_id] = now

    def has_ended(self, session_id: str) -> bool:
        with self._lock:
            return session_id in self._ended


class SessionMiddleware:
    """Puts the cookie's session in ``scope["session"]`` (``request.session``) and sends it
    back, signed, when a route changed it; an emptied session deletes the cookie.

    A session is re-signed (its life starts again) only when it changes; a member's
    session ends ``max_age`` after sign-in whatever they do, since signing in writes it."""

    def __init__(
        self,
        app: ASGIApp,
        signer: CookieSigner,
        policy: CookiePolicy,
        ended: EndedSessions,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app = app
        self.signer = signer
        self.policy = policy
        self.ended = ended
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookie = HTTPConnection(scope).cookies.get(self.policy.name)
        session = self._session(cookie)
        scope["session"] = session
        initial = dict(session)

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                current: dict[str, Any] = scope["session"]
                if current != initial:
                    headers = MutableHeaders(scope=message)
                    headers.append("Set-Cookie", self._set_cookie(current))
                elif cookie is not None and not current:
                    headers = MutableHeaders(scope=message)
                    headers.append("Set-Cookie", self._set_cookie({}))
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _session(self, cookie: str | None) -> dict[str, Any]:
        if not cookie:
            return {}
        data = self.signer.read(cookie, self.clock())
        if data is None or self.ended.has_ended(str(data.get("sid", ""))):
            return {}
        return data

    def _set_cookie(self, session: dict[str, Any]) -> str:
        morsel = SimpleCookie()
        name = self.policy.name
        if session:
            morsel[name] = self.signer.sign(session, self.clock())
            morsel[name]["max-age"] = self.policy.max_age
        else:
            morsel[name] = ""
            morsel[name]["max-age"] = 0
            morsel[name]["expires"] = "Thu, 01 Jan 1970 00:00:00 GMT"
        morsel[name]["path"] = "/"
        morsel[name]["httponly"] = True
        morsel[name]["samesite"] = "Lax"
        if self.policy.secure:
            morsel[name]["secure"] = True
        return morsel.output(header="").strip()
