"""Signing in to the participants' site: a one-time link mailed to the roster address.

Neither asking for a link nor signing in writes an audit record of its own: the audit log
keeps the program's facts (applications, pairings, withdrawals…), and a sign-in changes
none of them; what a signed-in member then does is audited by the use case they call. (The
queued mail is sealed like every message, under the transaction's ``rows_written`` record.)

The table of links keeps only each token's SHA-256. The token itself travels in the mail:
it sits in the outbox message's body until delivered (and in the ``.eml`` file without
SMTP), as any mail does, and is worth nothing once used or 30 minutes old.
"""

import secrets
from datetime import datetime
from zoneinfo import ZoneInfo

from domain.members import Member
from domain.notifications import MessageKind, OutgoingMessage
from domain.program import ProgramDetails
from domain.sign_in import (
    EXPIRED,
    FORGED,
    LINK_LIFETIME,
    NOT_CURRENT,
    TOKEN_BYTES,
    USED,
    SignedIn,
    SignInRefused,
    same_address,
    signing_in_member,
    token_hash,
)
from flows.usecases.clock import utcnow
from infra.rendering import compose_message
from infra.uow import UnitOfWork

__all__ = ["SignInRefused", "SignedIn", "current_member", "redeem_sign_in", "request_sign_in"]

KEPT_AFTER_EXPIRY = LINK_LIFETIME * 48
"""Expired links are deleted a day after they expire (a later request tidies them)."""


def request_sign_in(
    uow: UnitOfWork, email: str, *, portal_url: str, now: datetime | None = None
) -> str | None:
    """If ``email`` is a current Core member's roster address (any case), store a new
    link's token hash and queue the link to that roster address; return the message's key.
    Otherwise return None and write nothing. The token itself is only in the mail."""
    now = now or utcnow()
    with uow:
        candidates = [
            m
            for m in (uow.members.get(i) for i in uow.sign_in_links.members_with_address(email))
            if m is not None and same_address(m.email, email)
        ]
        member = signing_in_member(candidates, now.date())
        if member is None:
            return None
        token = secrets.token_urlsafe(TOKEN_BYTES)
        digest = token_hash(token)
        uow.sign_in_links.forget_expired(now - KEPT_AFTER_EXPIRY)
        uow.sign_in_links.add(digest, member.member_id, now, now + LINK_LIFETIME)
        message = _link_message(
            uow, member, f"{portal_url.rstrip('/')}/sign-in/{token}", digest, now
        )
        uow.outbox.enqueue([message], now)
        uow.commit()
        return message.key


def redeem_sign_in(
    uow: UnitOfWork, token: str, *, now: datetime | None = None
) -> SignedIn | SignInRefused:
    """Sign in with a mailed link: once, within its lifetime, while still a current Core
    member. The link is marked used by a guarded update, so of two redeeming at once
    exactly one signs in."""
    now = now or utcnow()
    digest = token_hash(token)
    with uow:
        link = uow.sign_in_links.get(digest)
        if link is None:
            return SignInRefused(FORGED)
        if link.used_at is not None:
            return SignInRefused(USED)
        if link.expires_at <= now:
            return SignInRefused(EXPIRED)
        member = uow.members.get(link.member_id)
        if member is None or not member.is_core_member(now.date()):
            uow.sign_in_links.use(digest, now)
            uow.commit()
            return SignInRefused(NOT_CURRENT)
        if not uow.sign_in_links.use(digest, now):
            return SignInRefused(USED)
        uow.commit()
        return SignedIn(member.member_id, member.full_name)


def current_member(
    uow: UnitOfWork, member_id: str, *, now: datetime | None = None
) -> SignedIn | None:
    """The member, if still on the roster and a current Core member at ``now``."""
    now = now or utcnow()
    with uow:
        member = uow.members.get(member_id)
    if member is None or not member.is_core_member(now.date()):
        return None
    return SignedIn(member.member_id, member.full_name)


def _link_message(
    uow: UnitOfWork, member: Member, url: str, digest: str, now: datetime
) -> OutgoingMessage:
    """The link to the member's roster address, filed under the latest cycle begun by
    ``now``'s year (or that year when there is none), its expiry in that cycle's zone."""
    years = [y for y in uow.cycles.years() if y <= now.year]
    year = max(years, default=now.year)
    program, zone = ProgramDetails(), ZoneInfo("UTC")
    if years:
        program, zone = uow.settings.program(year), uow.cycles.calendar(year).tz
    return compose_message(
        MessageKind.sign_in_link,
        cycle_year=year,
        recipient=member.member_id,
        to_address=member.email,
        to_name=member.full_name,
        discriminator=digest[:16],
        context={
            "committee_email": program.committee_email,
            "sign_in_url": url,
            "expires_at": (now + LINK_LIFETIME).astimezone(zone),
            "expires_minutes": int(LINK_LIFETIME.total_seconds() // 60),
        },
    )
