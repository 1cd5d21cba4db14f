"""What every route shares: settings, a fresh unit of work per request, the clock, the
sign-in limits, the sessions signed out of, and the mail kick."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from starlette.requests import Request

from flows.web.mail_kick import MailKick
from flows.web.rate_limits import SignInLimits
from flows.web.sessions import EndedSessions
from flows.web.settings import PortalSettings
from infra.uow import UnitOfWork


@dataclass
class Portal:
    """The site's collaborators; ``uow()`` gives each request its own unit of work (a unit
    of work holds one session and must not be shared between threads)."""

    settings: PortalSettings
    uow: Callable[[], UnitOfWork]
    clock: Callable[[], datetime]
    limits: SignInLimits
    ended: EndedSessions
    mail: MailKick


def portal_of(request: Request) -> Portal:
    portal: Portal = request.app.state.portal
    return portal
