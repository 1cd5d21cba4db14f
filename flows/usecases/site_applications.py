"""Applying on the participants' site: the same checks, storage, mail and audit record as
an import (:mod:`flows.usecases.applications`), with the member as actor and ``site``
as the trigger."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from domain.application_form import (
    CAREER_STAGE_WORDS,
    ROLE_WORDS,
    FieldProblem,
    form_values,
    read_form,
    zone_choices,
)
from domain.applications import (
    Application,
    ApplicationStatus,
    Area,
    CareerStage,
    LibraryType,
    Role,
)
from domain.cycle import Cycle
from domain.cycle_states import CycleEvent
from domain.members import Member
from domain.standing import call_is_open, next_call_opens, open_call
from domain.time_words import moment_words
from flows.usecases.applications import SITE, call_opened, intake_eligibility, take_in
from flows.usecases.clock import utcnow
from flows.usecases.standing import running_cycles
from infra.uow import UnitOfWork

__all__ = [
    "ApplicationChoices",
    "ApplicationRefused",
    "ApplicationSaved",
    "FieldProblem",
    "OpenCallForm",
    "application_choices",
    "application_form_defaults",
    "apply_on_site",
    "apply_to_open_call",
    "form_for_open_call",
    "open_call_year",
]

NOT_A_MEMBER = "Your Core membership is not current, so you cannot apply to the mentoring program."


@dataclass(frozen=True)
class ApplicationSaved:
    """The application is in: ``replaced`` when it took the place of an earlier one; it
    can be changed until ``closes_at`` (UTC), shown in the application's ``time_zone``."""

    year: int
    member_id: str
    replaced: bool
    messages: int
    warnings: tuple[str, ...] = ()
    closes_at: datetime | None = None
    time_zone: str = "UTC"


@dataclass(frozen=True)
class ApplicationRefused:
    """Nothing was stored: each problem named by its form field ("" for the whole form);
    ``call_closed`` with ``next_call_opens`` when no call is open; ``year``, the cycle
    applied to, once one was."""

    problems: list[FieldProblem]
    call_closed: bool = False
    next_call_opens: datetime | None = None
    year: int | None = None


@dataclass(frozen=True)
class Choice:
    """One option of a form field: the value posted and the words shown."""

    value: str
    label: str


@dataclass(frozen=True)
class ApplicationChoices:
    """The options of the application form's fields."""

    roles: list[Choice] = field(default_factory=list)
    areas: list[Choice] = field(default_factory=list)
    career_stages: list[Choice] = field(default_factory=list)
    library_types: list[Choice] = field(default_factory=list)
    time_zones: list[str] = field(default_factory=list)


def application_choices() -> ApplicationChoices:
    """What the form offers, in the CSV intake's values."""
    return ApplicationChoices(
        roles=[Choice(str(r), ROLE_WORDS[r]) for r in Role],
        areas=[Choice(str(a), str(a)) for a in Area],
        career_stages=[Choice(str(c), CAREER_STAGE_WORDS[c]) for c in CareerStage],
        library_types=[Choice(str(t), str(t)) for t in LibraryType],
        time_zones=zone_choices(),
    )


def open_call_year(uow: UnitOfWork, *, now: datetime | None = None) -> int | None:
    """The cycle whose call for applications is open at ``now``, if any."""
    now = now or utcnow()
    with uow:
        cycle = open_call(running_cycles(uow), now)
    return cycle.year if cycle else None


def application_form_defaults(
    uow: UnitOfWork, year: int, member_id: str
) -> dict[str, str | list[str]]:
    """The member's active application for ``year`` as form values (empty if none)."""
    with uow:
        if not uow.cycles.exists(year):
            return {}
        enrolment = uow.applications.get(year, member_id)
    if enrolment is None or enrolment.status is not ApplicationStatus.active:
        return {}
    return form_values(enrolment.application)


@dataclass(frozen=True)
class OpenCallForm:
    """What the application form starts from: the cycle whose call is open (None: no call
    is) and the member's active application to it as form values (empty if none)."""

    year: int | None
    values: dict[str, str | list[str]] = field(default_factory=dict)


def form_for_open_call(uow: UnitOfWork, member_id: str, *, now: datetime) -> OpenCallForm | None:
    """The form a signed-in member is shown, read in the transaction that checks them:
    None when they are not, or no longer, a current Core member on the roster."""
    with uow:
        member = uow.members.get(member_id)
        if member is None or not member.is_core_member(now.date()):
            return None
        cycle = open_call(running_cycles(uow), now)
        if cycle is None:
            return OpenCallForm(None)
        enrolment = uow.applications.get(cycle.year, member_id)
    if enrolment is None or enrolment.status is not ApplicationStatus.active:
        return OpenCallForm(cycle.year)
    return OpenCallForm(cycle.year, form_values(enrolment.application))


def apply_on_site(
    uow: UnitOfWork,
    year: int,
    member_id: str,
    form: Mapping[str, str | Sequence[str]],
    *,
    now: datetime | None = None,
) -> ApplicationSaved | ApplicationRefused:
    """Check the form as the CSV intake checks a line, then store the application (an
    earlier one of the member's in the cycle is replaced), queue "application received"
    and record it, actor the member, trigger ``site``; or store nothing and say why."""
    now = now or utcnow()
    with uow:  # the checks, side by side with other members' (nothing locked)
        cycle = uow.cycles.get(year) if uow.cycles.exists(year) else None
        if cycle is None or not call_is_open(cycle, now):
            return _closed(running_cycles(uow), now)
        member = uow.members.get(member_id)
        if member is None or not member.is_core_member(now.date()):
            return ApplicationRefused([FieldProblem("", NOT_A_MEMBER)])
        checked = _checked(uow, cycle, member, form, now)
    if isinstance(checked, ApplicationRefused):
        return checked
    return _stored(uow, cycle.year, member, checked, now)


def apply_to_open_call(
    uow: UnitOfWork, member_id: str, form: Mapping[str, str | Sequence[str]], *, now: datetime
) -> ApplicationSaved | ApplicationRefused | None:
    """:func:`apply_on_site` to the cycle whose call is open, for a signed-in member: None
    (nothing stored) when they are not, or no longer, a current Core member on the roster,
    checked in the transaction that reads the call; ``call_closed`` without a problem
    when no call is open."""
    with uow:
        member = uow.members.get(member_id)
        if member is None or not member.is_core_member(now.date()):
            return None
        cycles = running_cycles(uow)
        cycle = open_call(cycles, now)
        if cycle is None:
            return ApplicationRefused(
                [], call_closed=True, next_call_opens=next_call_opens(cycles, now)
            )
        checked = _checked(uow, cycle, member, form, now)
    if isinstance(checked, ApplicationRefused):
        return checked
    return _stored(uow, cycle.year, member, checked, now)


@dataclass(frozen=True)
class _Checked:
    """A form that passed every check: the application and the warnings to show."""

    application: Application
    warnings: tuple[str, ...]


def _checked(
    uow: UnitOfWork,
    cycle: Cycle,
    member: Member,
    form: Mapping[str, str | Sequence[str]],
    now: datetime,
) -> _Checked | ApplicationRefused:
    """The form read and checked against the roster and the call window (inside the
    caller's unit of work)."""
    reading = read_form(form, member, now, cycle.calendar.timezone)
    if reading.application is None:
        return ApplicationRefused(reading.problems, year=cycle.year)
    opened = call_opened(uow, cycle.year, cycle.calendar)
    verdict = intake_eligibility(reading.application, member, cycle.calendar, opened)
    if not verdict.ok:
        return ApplicationRefused(
            [FieldProblem("", _sentence(verdict.reason or ""))], year=cycle.year
        )
    return _Checked(reading.application, tuple(verdict.warnings))


def _stored(
    uow: UnitOfWork, year: int, member: Member, checked: _Checked, now: datetime
) -> ApplicationSaved | ApplicationRefused:
    """The writing, with the cycle locked and its call asked about again."""
    with uow:
        cycle = uow.cycles.get(year, for_update=True)
        if not call_is_open(cycle, now):
            return _closed(running_cycles(uow), now)
        taken = take_in(
            uow,
            cycle,
            [checked.application],
            [],
            actor=member.member_id,
            now=now,
            source=SITE,
            file=None,
            people={member.member_id: member},
        )
        uow.commit()
    closes = cycle.calendar.due_at(CycleEvent.close_applications)
    return ApplicationSaved(
        year,
        member.member_id,
        bool(taken.replaced),
        taken.messages,
        checked.warnings,
        closes_at=closes.astimezone(UTC) if closes else None,
        time_zone=checked.application.time_zone,
    )


def _closed(cycles: Sequence[Cycle], now: datetime) -> ApplicationRefused:
    opens = next_call_opens(cycles, now)
    if opens is None:
        sentence = (
            "The call for applications is closed, and the next call has not been announced yet."
        )
    else:
        zone = opens.tzinfo.key if isinstance(opens.tzinfo, ZoneInfo) else "UTC"
        when = moment_words(opens, zone, with_year=True)
        sentence = f"The call for applications is closed; the next call opens {when}."
    return ApplicationRefused([FieldProblem("", sentence)], call_closed=True, next_call_opens=opens)


def _sentence(reason: str) -> str:
    return reason[:1].upper() + reason[1:] + ("" if reason.endswith(".") else ".")
