"""Rendering the site's pages: Jinja2 templates (``templates/*.html.j2``, autoescaped),
each with its title, the CSRF token for its forms and whether a member is signed in."""

from datetime import datetime
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse

from domain.time_words import marked_moment, moment_words, zone_words
from flows.web import csrf
from infra.templating import template_environment

SITE_NAME = "Core Mentoring Program"
TEMPLATES = Path(__file__).parent / "templates"


def _moment(at: datetime, zone: str) -> str:
    return moment_words(at, zone, with_year=True)


def _marked(at: datetime, zone: str, now: datetime) -> str:
    return marked_moment(at, zone, now, with_year=True)


_environment = template_environment(
    TEMPLATES, {"moment": _moment, "marked": _marked, "zone_words": zone_words}
)


def page_title(title: str) -> str:
    """ "Apply – Core Mentoring Program"."""
    return f"{title} – {SITE_NAME}"


def render(
    request: Request, template: str, *, title: str, status: int = 200, **context: Any
) -> HTMLResponse:
    """``templates/{template}.html.j2`` as a page."""
    html = _environment.get_template(f"{template}.html.j2").render(
        title=title,
        page_title=page_title(title),
        site_name=SITE_NAME,
        csrf_token=csrf.token_for(request.session),
        signed_in=isinstance(request.session.get("member_id"), str),
        current_path=request.url.path,
        **context,
    )
    return HTMLResponse(html, status_code=status)


def plain(
    request: Request,
    status: int,
    title: str,
    sentence: str,
    link: tuple[str, str] | None = None,
) -> HTMLResponse:
    """A plain page: a heading, one sentence, and where to go next."""
    return render(request, "plain", title=title, status=status, sentence=sentence, link=link)
