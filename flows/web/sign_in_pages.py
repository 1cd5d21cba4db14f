"""Signing in and out: ask for a link, open it, press "Sign in"; sign out.

Asking for a link answers the same page whoever asks, at once: looking the address up,
queueing the link and sending it happen after the answer (a background task), so neither
the words nor the time taken tell a member from a stranger. Over a limit nothing is sent.
"""

import logging
from dataclasses import dataclass

from fastapi import APIRouter
from sqlalchemy.exc import SQLAlchemyError
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from domain.sign_in import EXPIRED, USED, SignedIn
from flows.usecases.sign_in import redeem_sign_in, request_sign_in
from flows.web.access import (
    destination_after_sign_in,
    end_session,
    session_member_id,
    start_session,
)
from flows.web.forms import Form
from flows.web.pages import plain, render
from flows.web.state import Portal, portal_of

log = logging.getLogger(__name__)
router = APIRouter()

ANSWER = (
    "If this address belongs to a current Core member, a sign-in link is on its way. "
    "It works once, for 30 minutes."
)
EMAIL_MAX = 320
TOKEN_MAX = 128


@router.get("/")
def home(request: Request) -> Response:
    """Where I stand when signed in, else the sign-in page."""
    signed_in = session_member_id(request, portal_of(request).clock()) is not None
    return RedirectResponse("/me" if signed_in else "/sign-in", status_code=303)


@router.get("/sign-in")
def sign_in_form(request: Request) -> Response:
    return render(request, "sign_in", title="Sign in", problems=[], errors={}, email="")


@router.post("/sign-in")
def ask_for_link(request: Request, form: Form) -> Response:
    """The same answer page for every address; the link is queued and sent afterwards."""
    portal = portal_of(request)
    email = form.first("email").strip()
    if not email or "@" not in email or len(email) > EMAIL_MAX:
        message = "Enter your email address, like name@example.org"
        return render(
            request,
            "sign_in",
            title="Sign in",
            status=400,
            problems=[_Problem("email", message)],
            errors={"email": [message]},
            email=email[:EMAIL_MAX],
        )
    client = request.client.host if request.client else "unknown"
    if not portal.limits.per_client.hit(client):
        return render(request, "sign_in_sent", title="Check your email", status=429, answer=ANSWER)
    task = None
    if portal.limits.per_address.hit(email.casefold()):
        task = BackgroundTask(_send_link, portal, email)
    response = render(request, "sign_in_sent", title="Check your email", answer=ANSWER)
    response.background = task
    return response


def _send_link(portal: Portal, email: str) -> None:
    """Queue the link if the address is a current member's, then send it."""
    try:
        key = request_sign_in(
            portal.uow(), email, portal_url=portal.settings.portal_url, now=portal.clock()
        )
    except SQLAlchemyError as error:
        log.error("a sign-in link could not be queued: %s", type(error).__name__)
        return
    if key is not None:
        portal.mail.run()


@router.get("/sign-in/{token}")
def link_page(request: Request, token: str) -> Response:
    """One button, so that mail scanners fetching the link do not use it up."""
    if len(token) > TOKEN_MAX:
        return _refused(request, 400, "This sign-in link is not valid.")
    return render(request, "sign_in_link", title="Sign in", action=request.url.path)


@router.post("/sign-in/{token}")
def redeem(request: Request, token: str, form: Form) -> Response:
    """Sign in with the link: a new session, then the member page a mailed link asked for
    before (see :func:`remember_destination`), or where I stand."""
    if len(token) > TOKEN_MAX:
        return _refused(request, 400, "This sign-in link is not valid.")
    portal = portal_of(request)
    now = portal.clock()
    outcome = redeem_sign_in(portal.uow(), token, now=now)
    if not isinstance(outcome, SignedIn):
        status = 410 if outcome.reason in (USED, EXPIRED) else 400
        return _refused(request, status, outcome.reason)
    destination = destination_after_sign_in(request)
    start_session(request, outcome, now)
    return RedirectResponse(destination, status_code=303)


def _refused(request: Request, status: int, reason: str) -> Response:
    return plain(
        request, status, "This link cannot sign you in", reason, ("/sign-in", "Ask for a new link")
    )


@router.post("/sign-out")
def sign_out(request: Request, form: Form) -> Response:
    end_session(request)
    return render(request, "signed_out", title="You are signed out")


@dataclass(frozen=True)
class _Problem:
    """A problem with one field, as the error summary shows it."""

    field: str
    message: str
