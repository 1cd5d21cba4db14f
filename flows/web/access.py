"""Who is asking: the member of the session, checked against the roster on every request.

Every member page takes the member from the session only, never from the address or a
form; a session whose member is no longer a current Core member is ended.
"""

from datetime import datetime

from starlette.requests import Request

from domain.sign_in import NOT_CURRENT, SignedIn
from flows.usecases.sign_in import current_member
from flows.web import csrf
from flows.web.refusals import PlainRefusal, SignInNeeded
from flows.web.state import Portal, portal_of


def session_member_id(request: Request, now: datetime) -> str | None:
    """The member id of a signed-in session still within its life, else None."""
    session = request.session
    member_id, since = session.get("member_id"), session.get("signed_in_at")
    if not isinstance(member_id, str) or not isinstance(since, int):
        return None
    max_age = portal_of(request).settings.session_max_age
    if not now.timestamp() - max_age < since <= now.timestamp() + 60:
        return None
    return member_id


def signed_in(request: Request) -> tuple[Portal, SignedIn]:
    """The session's member, a current Core member now; :class:`SignInNeeded` without a
    session, a plain refusal (and the session ended) once the membership has lapsed."""
    portal, member_id, now = session_member(request)
    member = current_member(portal.uow(), member_id, now=now)
    if member is None:
        raise membership_lapsed(request)
    return portal, member


def session_member(request: Request) -> tuple[Portal, str, datetime]:
    """The site, the session's member id and the moment of the request; :class:`SignInNeeded`
    without a session. The route then checks the membership, in the transaction that reads
    what the page shows (a use case's None), and answers :func:`membership_lapsed`."""
    portal = portal_of(request)
    now = portal.clock()
    member_id = session_member_id(request, now)
    if member_id is None:
        raise SignInNeeded
    return portal, member_id, now


def membership_lapsed(request: Request) -> PlainRefusal:
    """The session ends: its member is no longer a current Core member (or on the roster)."""
    request.session.clear()
    return PlainRefusal(403, "You cannot sign in", NOT_CURRENT, ("/sign-in", "Sign in"))


MEMBER_PAGES = ("/me", "/apply", "/withdraw", "/pair/", "/check-in", "/continuing", "/survey")
"""Where a mailed link may lead a member who must sign in first."""

AFTER_SIGN_IN = "after_sign_in"


def remember_destination(request: Request) -> None:
    """A member page asked for without a session (a reminder's link, say): kept in the
    pre-session so that signing in leads there, not to "where I stand"."""
    path, query = request.url.path, request.url.query
    if request.method != "GET" or not path.startswith(MEMBER_PAGES):
        return
    wanted = f"{path}?{query}" if query else path
    if len(wanted) <= 512:
        request.session[AFTER_SIGN_IN] = wanted


def destination_after_sign_in(request: Request) -> str:
    """The member page remembered before signing in, or "where I stand": only a path of
    this site's member pages, never another site's address."""
    wanted = request.session.get(AFTER_SIGN_IN)
    if isinstance(wanted, str) and wanted.startswith(MEMBER_PAGES) and "\\" not in wanted:
        return wanted
    return "/me"


def start_session(request: Request, member: SignedIn, now: datetime) -> None:
    """A new session for ``member``: new id and CSRF token (nothing of the pre-session
    carries over)."""
    request.session.clear()
    request.session.update(
        csrf.new_session(member_id=member.member_id, signed_in_at=int(now.timestamp()))
    )


def end_session(request: Request) -> None:
    """Sign out: the session id is remembered as ended, the cookie deleted."""
    portal = portal_of(request)
    session_id = request.session.get("sid")
    if isinstance(session_id, str):
        portal.ended.end(session_id, portal.clock().timestamp())
    request.session.clear()
