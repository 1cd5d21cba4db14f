"""The participants' site: ``create_app`` assembles routes, sessions, headers and the
plain pages every refusal gets (never a traceback)."""

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from domain.errors import DomainError
from flows.usecases.clock import utcnow
from flows.usecases.standing import NotOnRoster
from flows.web import apply_pages, engagement_pages, member_pages, sign_in_pages, survey_pages
from flows.web.access import remember_destination
from flows.web.headers import ALWAYS, SecurityHeaders
from flows.web.mail_kick import MailKick, delivery
from flows.web.pages import plain
from flows.web.rate_limits import SignInLimits
from flows.web.refusals import PlainRefusal, SignInNeeded
from flows.web.sessions import CookiePolicy, CookieSigner, EndedSessions, SessionMiddleware
from flows.web.settings import PortalSettings
from flows.web.state import Portal
from infra import db
from infra.uow import UnitOfWork

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"


def create_app(
    settings: PortalSettings,
    *,
    uow_factory: Callable[[], UnitOfWork] | None = None,
    clock: Callable[[], datetime] = utcnow,
    limits: SignInLimits | None = None,
    deliver_mail: Callable[[], None] | None = None,
) -> FastAPI:
    """The site on ``settings``' database; tests may pass the clock, the limits and what
    sends the mail (by default a delivery as ``mentoring notifications deliver`` runs it)."""
    if uow_factory is None:
        factory = db.session_factory(settings.database_url)

        def uow_factory() -> UnitOfWork:
            return UnitOfWork(factory)

    ended = EndedSessions(settings.session_max_age)
    portal = Portal(
        settings=settings,
        uow=uow_factory,
        clock=clock,
        limits=limits or SignInLimits.default(),
        ended=ended,
        mail=MailKick(deliver_mail or delivery(uow_factory)),
    )
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.state.portal = portal
    app.include_router(sign_in_pages.router)
    app.include_router(member_pages.router)
    app.include_router(apply_pages.router)
    app.include_router(engagement_pages.router)
    app.include_router(survey_pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_api_route("/healthz", healthz, methods=["GET"])
    app.add_middleware(
        SessionMiddleware,
        signer=CookieSigner(settings.secret_key, settings.session_max_age),
        policy=CookiePolicy(secure=settings.secure_cookies, max_age=settings.session_max_age),
        ended=ended,
        clock=lambda: portal.clock().timestamp(),
    )
    app.add_middleware(SecurityHeaders)
    app.add_exception_handler(PlainRefusal, _plain_refusal)
    app.add_exception_handler(SignInNeeded, _sign_in_needed)
    app.add_exception_handler(NotOnRoster, _not_on_roster)
    app.add_exception_handler(DomainError, _domain_refusal)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _bad_request)
    app.add_exception_handler(500, _server_error)
    return app


def healthz() -> PlainTextResponse:
    """ "ok": the site answers (for ``mentoring serve`` and the benchmark)."""
    return PlainTextResponse("ok")


async def _plain_refusal(request: Request, error: Exception) -> Response:
    assert isinstance(error, PlainRefusal)
    return plain(request, error.status, error.title, error.sentence, error.link)


async def _sign_in_needed(request: Request, error: Exception) -> Response:
    remember_destination(request)
    return RedirectResponse("/sign-in", status_code=303)


async def _not_on_roster(request: Request, error: Exception) -> Response:
    """The member left the roster while signed in: the session ends."""
    request.session.clear()
    return RedirectResponse("/sign-in", status_code=303)


async def _domain_refusal(request: Request, error: Exception) -> Response:
    return plain(request, 409, "This cannot be done", str(error), ("/me", "Where I stand"))


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    if error.status_code == 404:
        return plain(request, 404, "Page not found", "There is no page at this address.")
    if error.status_code == 405:
        return plain(request, 405, "Not here", "This page cannot be used that way.")
    return plain(request, error.status_code, "This cannot be done", "The request was refused.")


async def _bad_request(request: Request, error: Exception) -> Response:
    return plain(request, 400, "This cannot be done", "The request could not be read.")


async def _server_error(request: Request, error: Exception) -> Response:
    """Outside the other middleware (Starlette answers a crash last): no cookie is set and
    the security headers are added here."""
    log.error("a page failed: %s", type(error).__name__)
    request.scope["session"] = {}
    response = plain(
        request,
        500,
        "Sorry, something went wrong",
        "The site could not answer this time. Try again in a minute.",
    )
    response.headers.update({**ALWAYS, "Cache-Control": "no-store"})
    return response
