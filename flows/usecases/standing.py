"""Where a member stands: their application and its state, their partners once announced,
the orientation, their open tasks and the program's dates (for the participants' site).

Only what concerns the member is read: partners' names, addresses and institutions are
shown to them only once pairings are announced, as the pairing notice gives them.
"""

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from domain.activities import Activity, is_allowed
from domain.applications import ApplicationStatus, Role
from domain.calendar import DEFAULT_TIMEZONE
from domain.cycle import Cycle
from domain.cycle_states import CycleEvent, CycleState
from domain.enrolment import Enrolment
from domain.errors import CalendarError
from domain.members import Member
from domain.pairing_status import PairingSetStatus
from domain.pairs import LeftOut, Pair
from domain.standing import (
    MILESTONE_WORDS,
    STATE_WORDS,
    next_call_opens,
    open_call,
    outcome,
    partners_shown,
)
from flows.usecases.clock import utcnow
from infra.ics import orientation_invitation
from infra.uow import UnitOfWork

__all__ = [
    "ApplicationView",
    "CycleView",
    "MilestoneView",
    "OrientationView",
    "PartnerView",
    "Standing",
    "TaskView",
    "current_member_standing",
    "orientation_ics",
    "where_i_stand",
]


@dataclass(frozen=True)
class CycleView:
    """The cycle the page is about: its year, state (value and words) and time zone."""

    year: int
    state: str
    state_words: str
    time_zone: str


@dataclass(frozen=True)
class ApplicationView:
    """The member's application in that cycle and what became of it."""

    role: str
    areas: tuple[str, ...]
    submitted_at: datetime
    source: str
    state: str
    state_words: str
    career_stage: str = ""
    library_type: str = ""
    time_zone: str = ""
    goals: str = ""
    max_mentees: int | None = None


@dataclass(frozen=True)
class PartnerView:
    """A partner: their role towards the member, how to reach them, and why paired."""

    role: str
    name: str
    email: str
    institution: str
    explanation: str


@dataclass(frozen=True)
class OrientationView:
    """The orientation session: when it starts, how long, where to join."""

    starts_at: datetime
    minutes: int
    place: str


@dataclass(frozen=True)
class TaskView:
    """An open task of the member's and when it falls due."""

    title: str
    due_at: datetime


@dataclass(frozen=True)
class MilestoneView:
    """One of the program's dates, and whether it has passed."""

    words: str
    at: datetime
    passed: bool


@dataclass(frozen=True)
class Standing:
    """Everything the member's own page shows; every datetime is aware UTC."""

    member_id: str
    name: str
    email: str
    time_zone: str
    cycle: CycleView | None
    application: ApplicationView | None
    partners: tuple[PartnerView, ...] = ()
    orientation: OrientationView | None = None
    open_tasks: tuple[TaskView, ...] = ()
    milestones: tuple[MilestoneView, ...] = ()
    can_apply: bool = False
    apply_year: int | None = None
    call_closes_at: datetime | None = None
    next_call_opens: datetime | None = None
    can_withdraw: bool = False


class NotOnRoster(LookupError):
    """The member id names nobody on the roster (the web layer signs such a session out)."""


def where_i_stand(uow: UnitOfWork, member_id: str, *, now: datetime | None = None) -> Standing:
    """The member's page: the latest cycle they applied to that is still running (or the
    one whose call is open, or the latest), and what it holds for them."""
    now = now or utcnow()
    with uow:
        member = uow.members.get(member_id)
        if member is None:
            raise NotOnRoster(member_id)
        return _standing(uow, member, now)


def current_member_standing(uow: UnitOfWork, member_id: str, *, now: datetime) -> Standing | None:
    """:func:`where_i_stand` for a signed-in member, read in the same transaction as the
    check every request makes: None when they are not (any longer) on the roster or a
    current Core member at ``now``."""
    with uow:
        member = uow.members.get(member_id)
        if member is None or not member.is_core_member(now.date()):
            return None
        return _standing(uow, member, now)


def _standing(uow: UnitOfWork, member: Member, now: datetime) -> Standing:
    member_id = member.member_id
    applied = {e.cycle_year: e for e in uow.applications.of_member(member_id)}
    cycles = running_cycles(uow, applied)
    open_cycle = open_call(cycles, now)
    cycle = _cycle_shown(cycles, set(applied), open_cycle)
    enrolment = applied.get(cycle.year) if cycle else None
    closes = open_cycle.calendar.due_at(CycleEvent.close_applications) if open_cycle else None
    standing = Standing(
        member_id=member.member_id,
        name=member.full_name,
        email=member.email,
        time_zone=_zone(enrolment, cycle),
        cycle=None,
        application=None,
        can_apply=open_cycle is not None and member.is_core_member(now.date()),
        apply_year=open_cycle.year if open_cycle else None,
        call_closes_at=_utc(closes),
        next_call_opens=_utc(next_call_opens(cycles, now)),
    )
    if cycle is None:
        return standing
    standing = replace(
        standing,
        cycle=CycleView(
            cycle.year, str(cycle.state), STATE_WORDS[cycle.state], cycle.calendar.timezone
        ),
        milestones=_milestones(cycle, now),
    )
    if enrolment is None:
        return standing
    mine = _my_pairs(uow, cycle.year, member_id) if partners_shown(cycle.state) else []
    names = {m.member_id: m.full_name for m in _people(uow, member, mine)}
    return replace(
        standing,
        open_tasks=tuple(
            TaskView(named(t.title, names), t.due_at.astimezone(UTC))
            for t in sorted(uow.tasks.open_of_cycle(cycle.year), key=lambda t: t.due_at)
            if t.member_id == member_id
        ),
        application=_application(uow, enrolment, mine, partners_shown(cycle.state)),
        partners=tuple(_partner(uow, p, member_id) for p in mine),
        orientation=_orientation(uow, cycle) if mine else None,
        can_withdraw=enrolment.status is ApplicationStatus.active
        and is_allowed(Activity.withdrawal, cycle.state),
    )


def orientation_ics(uow: UnitOfWork, year: int, member_id: str) -> bytes | None:
    """The orientation's calendar file, for a member paired in ``year`` once pairings are
    announced (the same file the invitation carries); None otherwise."""
    with uow:
        if not uow.cycles.exists(year):
            return None
        cycle = uow.cycles.get(year)
        if not partners_shown(cycle.state) or not _my_pairs(uow, year, member_id):
            return None
        program = uow.settings.program(year)
        try:
            starts = program.orientation_start(cycle.calendar)
        except CalendarError:
            return None
        invite = orientation_invitation(
            year,
            starts,
            program.orientation_length,
            program.orientation_join_url,
            program.committee_email,
        )
    return invite.data


def running_cycles(uow: UnitOfWork, also: Collection[int] = ()) -> list[Cycle]:
    """The cycles not finished yet, and those of ``also`` (the member's): what a page
    needs, without reading every past cycle on every request; the latest cycle when
    there is none of either."""
    years = set(uow.cycles.open_years()) | set(also)
    if not years:
        years = set(uow.cycles.years()[-1:])
    return [uow.cycles.get(y) for y in sorted(years)]


def _cycle_shown(
    cycles: list[Cycle], applied: Collection[int], open_cycle: Cycle | None
) -> Cycle | None:
    running = [c for c in cycles if c.year in applied and not c.state.is_final]
    if running:
        return max(running, key=lambda c: c.year)
    if open_cycle is not None:
        return open_cycle
    mine = [c for c in cycles if c.year in applied]
    if mine:
        return max(mine, key=lambda c: c.year)
    current = [c for c in cycles if not c.state.is_final]
    return max(current or cycles, key=lambda c: c.year, default=None)


def _zone(enrolment: Enrolment | None, cycle: Cycle | None) -> str:
    """The member's zone: their application's, else the cycle's, else the default."""
    if enrolment is not None:
        return enrolment.application.time_zone
    return cycle.calendar.timezone if cycle else DEFAULT_TIMEZONE


def _milestones(cycle: Cycle, now: datetime) -> tuple[MilestoneView, ...]:
    return tuple(
        MilestoneView(words, at.astimezone(UTC), at <= now)
        for event, words in MILESTONE_WORDS.items()
        if (at := cycle.calendar.due_at(event)) is not None
    )


def _application(
    uow: UnitOfWork, enrolment: Enrolment, mine: list[Pair], announced: bool
) -> ApplicationView:
    year, member_id = enrolment.cycle_year, enrolment.member_id
    left_out = _left_out(uow, year) if announced else {}
    result = outcome(enrolment, [m for p in mine for m in p.members], left_out)
    app = enrolment.application
    return ApplicationView(
        role=str(app.role),
        areas=tuple(sorted(str(a) for a in app.areas)),
        submitted_at=app.submitted_at.astimezone(UTC),
        source=uow.applications.source_of(year, member_id) or "import",
        state=str(result.state),
        state_words=result.words,
        career_stage=str(app.career_stage),
        library_type=str(app.library_type),
        time_zone=app.time_zone,
        goals=app.goals,
        max_mentees=app.max_mentees,
    )


def named(title: str, names: Mapping[str, str]) -> str:
    """A task's title with the member ids it names (the member's, their partners') given
    as names: "First meeting of Uma Usman and Dmitri Xu"."""
    for member_id, name in names.items():
        title = re.sub(rf"\b{re.escape(member_id)}\b", name, title)
    return title


def _people(uow: UnitOfWork, member: Member, pairs: list[Pair]) -> list[Member]:
    """The member and their partners in ``pairs``, as the roster has them."""
    ids = {m for p in pairs for m in p.members} - {member.member_id}
    return [member, *(p for p in (uow.members.get(i) for i in sorted(ids)) if p is not None)]


def _my_pairs(uow: UnitOfWork, year: int, member_id: str) -> list[Pair]:
    return [p for p in uow.pairings.approved_pairs(year) if member_id in p.members]


def _left_out(uow: UnitOfWork, year: int) -> dict[str, LeftOut]:
    approved = uow.pairings.latest_set(year, PairingSetStatus.approved)
    if approved is None:
        return {}
    return {u.member_id: u for u in uow.pairings.waiting(approved.id)}


def _partner(uow: UnitOfWork, pair: Pair, member_id: str) -> PartnerView:
    partner_id, role = (
        (pair.mentee_id, Role.MENTEE)
        if pair.mentor_id == member_id
        else (pair.mentor_id, Role.MENTOR)
    )
    partner: Member | None = uow.members.get(partner_id)
    return PartnerView(
        role=str(role),
        name=partner.full_name if partner else partner_id,
        email=partner.email if partner else "",
        institution=partner.institution if partner else "",
        explanation=pair.explanation,
    )


def _orientation(uow: UnitOfWork, cycle: Cycle) -> OrientationView | None:
    if cycle.state not in (CycleState.paired, CycleState.orientation, CycleState.active):
        return None
    program = uow.settings.program(cycle.year)
    try:
        starts = program.orientation_start(cycle.calendar)
    except CalendarError:
        return None
    return OrientationView(
        starts.astimezone(UTC), program.orientation_minutes, program.orientation_join_url
    )


def _utc(at: datetime | None) -> datetime | None:
    return at.astimezone(UTC) if at is not None else None
