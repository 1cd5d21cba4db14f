"""Signing in to the participants' site with a one-time link mailed to the roster address.

The roster is the identity: a link goes only to a current Core member's roster address,
works once, for :data:`LINK_LIFETIME`, and is kept only as the SHA-256 of its token.
"""

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta

from domain.members import Member

LINK_LIFETIME = timedelta(minutes=30)
TOKEN_BYTES = 32

FORGED = "This sign-in link is not valid."
USED = "This sign-in link has already been used."
EXPIRED = "This sign-in link has expired (links last 30 minutes)."
NOT_CURRENT = "Your Core membership is not current, so you cannot sign in to the mentoring program."


def token_hash(token: str) -> str:
    """What is stored of a token: its SHA-256, in hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def same_address(a: str, b: str) -> bool:
    """Addresses compared as people type them: case and surrounding spaces ignored."""
    return a.strip().casefold() == b.strip().casefold()


def signing_in_member(candidates: list[Member], on: date) -> Member | None:
    """Of the roster rows with the typed address, the one a link goes to: a current Core
    member (the latest membership first, then the lowest id), or nobody."""
    current = [m for m in candidates if m.is_core_member(on)]
    if not current:
        return None
    return sorted(current, key=lambda m: (-m.membership_expires.toordinal(), m.member_id))[0]


@dataclass(frozen=True)
class SignedIn:
    """A member signed in (or still a current member when checked again)."""

    member_id: str
    name: str


@dataclass(frozen=True)
class SignInRefused:
    """A link that does not sign anyone in, and why, in one plain sentence."""

    reason: str
