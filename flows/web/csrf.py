"""CSRF tokens, the synchronizer pattern: one random token per session (a pre-session
before sign-in), put in a hidden ``csrf_token`` field of every form and compared on every
POST. Signing in and out starts a new session, so a new token."""

import hmac
import secrets
from typing import Any

FIELD = "csrf_token"


def new_session(**values: str | int) -> dict[str, Any]:
    """A fresh session: a new id and a new CSRF token, plus ``values``."""
    return {"sid": secrets.token_urlsafe(16), "csrf": secrets.token_urlsafe(32), **values}


def token_for(session: dict[str, Any]) -> str:
    """The session's token, starting a pre-session if there is none yet."""
    if not isinstance(session.get("csrf"), str):
        session.update(new_session())
    token: str = session["csrf"]
    return token


def is_valid(session: dict[str, Any], given: str | None) -> bool:
    """Whether ``given`` is this session's token (compared in constant time)."""
    expected = session.get("csrf")
    if not isinstance(expected, str) or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace"))
