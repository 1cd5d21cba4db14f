"""Render outgoing mail from the templates in ``infra/templates``.

Each kind has three templates, ``<kind>.subject.j2``, ``<kind>.txt.j2`` and
``<kind>.html.j2`` (autoescaped). Undefined names raise (``StrictUndefined``), and
:data:`REQUIRED_CONTEXT` is checked first so a missing key is named plainly.

Every kind needs ``recipient_name``, ``cycle_year`` (int) and ``committee_email``, and:

================================  ==========================================================
kind                              further keys (types)
================================  ==========================================================
call_for_applications             apply_url, deadline (date), pairings_announced_on (date)
application_received              role (mentor|mentee|both), pairings_announced_on (date)
application_not_accepted          reason (not_core_member|late|incomplete), deadline (date);
                                  optional reason_detail
application_deadline_reminder     apply_url, deadline (date)
pairing_notice                    role (mentor|mentee: the recipient's role in this pair),
                                  partner_name, partner_email, partner_institution,
                                  mentoring_starts_on (date), mentoring_ends_on (date);
                                  optional standing_url (the member's page on the site)
not_paired_notice                 role (mentor|mentee), waitlist_until (date)
partner_left                      role (mentor|mentee: the recipient's role in the pair that
                                  dissolved), partner_name, cause (withdrawal|ended),
                                  other_pairs (int: the recipient's pairs that go on)
orientation_invitation            orientation_at (aware datetime, committee's zone),
                                  duration_minutes (int), join_url
mentoring_begins                  role (mentor|mentee), partner_name, mentoring_ends_on (date)
checkin_reminder                  partner_name, period (e.g. "January 2027"), checkin_url
midpoint_check                    partner_name, checkin_url, respond_by (date)
mentoring_ends                    partner_name, ended_on (date)
assessment_invitation             role (mentor|mentee|both), survey_url, closes_on (date)
assessment_reminder               survey_url, closes_on (date)
committee_notice                  notice (tasks_due|tasks_overdue|withdrawal|
                                  repairing_offer), items (list of str); optional action_url
sign_in_link                      sign_in_url, expires_at (aware datetime), expires_minutes
                                  (int)
================================  ==========================================================
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, Template, UndefinedError

from domain.notifications import Attachment, MessageKind, OutgoingMessage, idempotency_key
from infra.mail_skeletons import Skeletons, skeletons_for
from infra.templating import template_environment

TEMPLATE_DIR = Path(__file__).with_name("templates")

COMMON_KEYS = frozenset({"recipient_name", "cycle_year", "committee_email"})

_K = MessageKind
REQUIRED_CONTEXT: dict[MessageKind, frozenset[str]] = {
    _K.call_for_applications: frozenset({"apply_url", "deadline", "pairings_announced_on"}),
    _K.application_received: frozenset({"role", "pairings_announced_on"}),
    _K.application_not_accepted: frozenset({"reason", "deadline"}),
    _K.application_deadline_reminder: frozenset({"apply_url", "deadline"}),
    _K.pairing_notice: frozenset(
        {
            "role",
            "partner_name",
            "partner_email",
            "partner_institution",
            "mentoring_starts_on",
            "mentoring_ends_on",
        }
    ),
    _K.not_paired_notice: frozenset({"role", "waitlist_until"}),
    _K.partner_left: frozenset({"role", "partner_name", "cause", "other_pairs"}),
    _K.orientation_invitation: frozenset({"orientation_at", "duration_minutes", "join_url"}),
    _K.mentoring_begins: frozenset({"role", "partner_name", "mentoring_ends_on"}),
    _K.checkin_reminder: frozenset({"partner_name", "period", "checkin_url"}),
    _K.midpoint_check: frozenset({"partner_name", "checkin_url", "respond_by"}),
    _K.mentoring_ends: frozenset({"partner_name", "ended_on"}),
    _K.assessment_invitation: frozenset({"role", "survey_url", "closes_on"}),
    _K.assessment_reminder: frozenset({"survey_url", "closes_on"}),
    _K.committee_notice: frozenset({"notice", "items"}),
    _K.sign_in_link: frozenset({"sign_in_url", "expires_at", "expires_minutes"}),
}

_PAIR_ROLES = frozenset({"mentor", "mentee"})
_ANY_ROLE = frozenset({"mentor", "mentee", "both"})
# Keys whose value picks a wording: anything else would render a wrong message silently.
CHOICES: dict[tuple[MessageKind, str], frozenset[str]] = {
    (_K.application_received, "role"): _ANY_ROLE,
    (_K.application_not_accepted, "reason"): frozenset({"not_core_member", "late", "incomplete"}),
    (_K.pairing_notice, "role"): _PAIR_ROLES,
    (_K.not_paired_notice, "role"): _PAIR_ROLES,
    (_K.partner_left, "role"): _PAIR_ROLES,
    (_K.partner_left, "cause"): frozenset({"withdrawal", "ended"}),
    (_K.mentoring_begins, "role"): _PAIR_ROLES,
    (_K.assessment_invitation, "role"): _ANY_ROLE,
    (_K.committee_notice, "notice"): frozenset(
        {"tasks_due", "tasks_overdue", "withdrawal", "repairing_offer"}
    ),
}


class ContextError(ValueError):
    """The context given for a message does not fit its kind."""


# The filters a transition applies to the same few dates thousands of times are cached
# (``typed``: a date and a time of the same day stay apart).
@functools.lru_cache(maxsize=256, typed=True)
def _program_year(cycle_year: int) -> str:
    return f"{cycle_year}\u2013{(cycle_year + 1) % 100:02d}"


@functools.lru_cache(maxsize=256, typed=True)
def _longdate(value: dt.date) -> str:
    return f"{value:%A, %B} {value.day}, {value.year}"


@functools.lru_cache(maxsize=256, typed=True)
def _shortdate(value: dt.date) -> str:
    return f"{value:%B} {value.day}"


def _aware(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ContextError(f"datetime {value.isoformat()} has no time zone")
    return value


def _clock(value: dt.datetime) -> str:
    value = _aware(value)
    return f"{value.hour % 12 or 12}:{value:%M} {'AM' if value.hour < 12 else 'PM'} {value:%Z}"


def _longdatetime(value: dt.datetime) -> str:
    return f"{_longdate(value)}, {_clock(value)}"


def _tzlabel(value: dt.datetime) -> str:
    zone = _aware(value).tzinfo
    return zone.key if isinstance(zone, ZoneInfo) else str(value.tzname())


def _role_phrase(role: str) -> str:
    return {"mentor": "a mentor", "mentee": "a mentee"}.get(role, "both a mentor and a mentee")


def _partner_role(role: str) -> str:
    return "mentee" if role == "mentor" else "mentor"


@functools.cache
def environment() -> Environment:
    """The mail's Jinja2 environment; with :func:`templates`, each template is compiled
    once per process (about 30 % faster for 10,000 messages than checking each file)."""
    return template_environment(
        TEMPLATE_DIR,
        {
            "program_year": _program_year,
            "longdate": _longdate,
            "shortdate": _shortdate,
            "clock": _clock,
            "longdatetime": _longdatetime,
            "tzlabel": _tzlabel,
            "role_phrase": _role_phrase,
            "partner_role": _partner_role,
        },
    )


def check_context(kind: MessageKind, context: Mapping[str, object]) -> None:
    """Raise :class:`ContextError` naming every missing key or unexpected choice."""
    kind = MessageKind(kind)
    missing = sorted((COMMON_KEYS | REQUIRED_CONTEXT[kind]) - context.keys())
    if missing:
        raise ContextError(f"{kind.value} needs context keys: {', '.join(missing)}")
    for (choice_kind, key), allowed in CHOICES.items():
        if choice_kind is kind and context[key] not in allowed:
            raise ContextError(
                f"{kind.value}: {key}={context[key]!r} is not one of {', '.join(sorted(allowed))}"
            )


@functools.cache
def templates(kind: MessageKind) -> tuple[tuple[str, Template], ...]:
    """The kind's (name, template) for subject, text and HTML, looked up once per process."""
    env = environment()
    return tuple(
        (name, env.get_template(name))
        for name in (f"{kind.value}.{suffix}.j2" for suffix in ("subject", "txt", "html"))
    )


_SPACES = re.compile(r"\s+")


def _render_in_full(kind: MessageKind, context: Mapping[str, object]) -> list[str]:
    parts: list[str] = []
    for name, template in templates(kind):
        try:
            parts.append(template.render(context))
        except UndefinedError as exc:
            raise ContextError(f"{name}: {exc.message}") from exc
    return parts


@functools.cache
def skeletons(kind: MessageKind) -> Skeletons:
    """The kind's skeletons (``infra.mail_skeletons``): a message whose shape was rendered
    before is its skeleton filled in, not three templates rendered anew."""
    return skeletons_for(
        environment(),
        [name for name, _ in templates(kind)],
        functools.partial(_render_in_full, kind),
    )


def render_message(kind: MessageKind, context: Mapping[str, object]) -> tuple[str, str, str]:
    """Render (subject, text, html) for one message of this kind."""
    kind = MessageKind(kind)
    check_context(kind, context)
    subject, text, html = skeletons(kind).render_message(context)
    return _SPACES.sub(" ", subject).strip(), text, html


def compose_message(
    kind: MessageKind,
    *,
    cycle_year: int,
    recipient: str,
    to_address: str,
    to_name: str,
    context: Mapping[str, object],
    discriminator: str = "",
    attachments: Sequence[Attachment] = (),
) -> OutgoingMessage:
    """Render and key one message; what the outbox stores for later delivery."""
    full = {"cycle_year": cycle_year, "recipient_name": to_name, **context}
    subject, text, html = render_message(kind, full)
    return OutgoingMessage(
        key=idempotency_key(cycle_year, kind, recipient, discriminator),
        kind=MessageKind(kind),
        cycle_year=cycle_year,
        to_address=to_address,
        to_name=to_name,
        subject=subject,
        text_body=text,
        html_body=html,
        attachments=tuple(attachments),
    )
