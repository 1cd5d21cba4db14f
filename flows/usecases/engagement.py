"""After pairing, what partners write about their pair: goals, meetings, check-ins, and
whether they go on after the formal end (the committee's view: :mod:`.pair_health`).

Each write is an audited fact with the member as actor and the entry point as trigger,
closes the task that asked for it in the same transaction, and is refused to anyone who
is not a partner of the pair ("you are not in that pair"). What one partner writes (a
score, a note) is never shown to the other; the committee's health view has no notes.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from domain.cycle import Cycle
from domain.cycle_states import CycleEvent
from domain.engagement import (
    EngagementStep,
    LoggedMeeting,
    NotInPair,
    attention_task,
    check_in_task_keys,
    checked_check_in,
    checked_goals,
    checked_meeting,
    first_meeting_task_keys,
    goals_task_key,
    month_of,
    pair_reasons,
    require_step,
)
from domain.errors import DomainError
from domain.pairing_status import PairStatus
from domain.pairs import Pair
from domain.values import valid_member_id
from flows.usecases.clock import utcnow
from flows.usecases.followups import close_tasks
from flows.usecases.pair_health import (
    MonthlyShare,
    PairHealth,
    ProgramHealth,
    pair_health,
    program_health,
)
from infra.uow import UnitOfWork

SITE = "site"


@dataclass(frozen=True)
class MemberPair:
    """A pair the member may write to: its id, their side of it and their partner."""

    pair_id: int
    role: str
    partner_id: str
    partner_name: str


@dataclass(frozen=True)
class GoalsSet:
    pair_id: int
    goals: tuple[str, ...]
    replaced: bool
    tasks_closed: int


@dataclass(frozen=True)
class MeetingLogged:
    pair_id: int
    meeting_id: int
    met_on: date
    tasks_closed: int


@dataclass(frozen=True)
class CheckInResult:
    """A check-in kept; ``flagged`` with ``reasons`` when the pair needs the committee (the
    entry point then announces it)."""

    year: int
    pair_id: int
    month: str
    flagged: bool
    reasons: tuple[str, ...] = ()
    replaced: bool = False
    tasks_closed: int = 0


@dataclass(frozen=True)
class ContinuingSaid:
    pair_id: int
    continuing: bool
    replaced: bool


@dataclass(frozen=True)
class OwnCheckIn:
    """One of the member's own check-ins (a partner's are not shown)."""

    month: str
    met: bool
    score: int
    contact_committee: bool


@dataclass(frozen=True)
class MeetingView:
    """A logged meeting as a partner sees it: the note only if they wrote it."""

    met_on: date
    minutes: int
    mode: str
    logged_by: str
    note: str | None


@dataclass(frozen=True)
class PairLog:
    """A pair's records as one partner may see them."""

    pair_id: int
    partner_id: str
    partner_name: str
    goals: tuple[str, ...]
    meetings: tuple[MeetingView, ...]
    own_check_ins: tuple[OwnCheckIn, ...]
    continuing: bool | None


def pairs_of_member(uow: UnitOfWork, year: int, member_id: str) -> list[MemberPair]:
    """The active pairs of the approved set that ``member_id`` is a partner of."""
    with uow:
        if not uow.cycles.exists(year):
            return []
        return _member_pairs(uow, year, member_id)


def _member_pairs(uow: UnitOfWork, year: int, member_id: str) -> list[MemberPair]:
    pairs = [p for p in uow.pairings.approved_pairs(year) if member_id in p.members]
    names = uow.engagement.names(
        p.mentee_id if p.mentor_id == member_id else p.mentor_id for p in pairs
    )
    out = []
    for pair in pairs:
        role, partner = (
            ("mentor", pair.mentee_id)
            if pair.mentor_id == member_id
            else ("mentee", pair.mentor_id)
        )
        out.append(MemberPair(pair.id, role, partner, names.get(partner, partner)))
    return out


def _own_pair(uow: UnitOfWork, year: int, member_id: str, pair_id: int | None) -> Pair:
    """The pair ``member_id`` writes about: the one named (they must be a partner of it),
    or their only pair when none is named."""
    if pair_id is None:
        mine = [p for p in uow.pairings.approved_pairs(year) if member_id in p.members]
        if len(mine) != 1:
            raise DomainError(
                "name the pair: you are in "
                + ("no pair" if not mine else f"{len(mine)} pairs")
                + f" of cycle {year}"
            )
        return mine[0]
    pair = uow.engagement.approved_pair(year, pair_id)
    if pair is None or member_id not in pair.members:
        raise NotInPair()
    if pair.status is not PairStatus.active:
        on = f" on {pair.ended_at:%Y-%m-%d}" if pair.ended_at else ""
        raise DomainError(f"that pair ended{on}; nothing more is recorded for it")
    return pair


def _open(uow: UnitOfWork, year: int, step: EngagementStep) -> Cycle:
    """The cycle, locked until the write commits (two answers sent at once, a double
    click, go one after the other: the second replaces the first), if ``step`` is allowed."""
    cycle = uow.cycles.get(year, for_update=True)
    require_step(step, cycle.state, year)
    return cycle


def _audit(
    uow: UnitOfWork,
    kind: str,
    year: int,
    pair: Pair,
    member_id: str,
    trigger: str,
    now: datetime,
    **fields: Any,
) -> None:
    uow.audit.append(
        kind=kind,
        cycle_year=year,
        at=now,
        actor=member_id,
        fields={
            "pair_id": pair.id,
            "mentor_id": pair.mentor_id,
            "mentee_id": pair.mentee_id,
            **fields,
            "trigger": trigger,
        },
    )


def _close(
    uow: UnitOfWork, year: int, keys: Sequence[str], member_id: str, because: str, now: datetime
) -> int:
    return len(
        close_tasks(
            uow,
            year,
            keys,
            actor=member_id,
            done_by=f"{member_id} ({because})",
            because=because,
            now=now,
        )
    )


def set_goals(
    uow: UnitOfWork,
    year: int,
    member_id: str,
    goals: Sequence[str],
    *,
    pair_id: int | None = None,
    trigger: str = SITE,
    now: datetime | None = None,
) -> GoalsSet:
    """Set the pair's one to three goals (either partner; both see them), replacing the
    earlier ones; closes both partners' "set the goals" tasks."""
    now = now or utcnow()
    member_id = valid_member_id(member_id)
    kept = checked_goals(goals)
    with uow:
        _open(uow, year, EngagementStep.goals)
        pair = _own_pair(uow, year, member_id, pair_id)
        keys = [
            goals_task_key(year, role, pair.mentor_id, pair.mentee_id)
            for role in ("mentor", "mentee")
        ]
        closed = _close(uow, year, keys, member_id, "goals set", now)
        replaced = uow.engagement.replace_goals(year, pair.id, kept, member_id, now)
        _audit(uow, "goals_set", year, pair, member_id, trigger, now, goals=len(kept))
        uow.commit()
    return GoalsSet(pair.id, kept, replaced, closed)


def log_meeting(
    uow: UnitOfWork,
    year: int,
    member_id: str,
    *,
    pair_id: int,
    met_on: date | str,
    minutes: int | str,
    mode: str,
    note: str = "",
    trigger: str = SITE,
    now: datetime | None = None,
) -> MeetingLogged:
    """Log a meeting of the pair (the note is seen by its writer only); closes the pair's
    check-in task of that month and its first-meeting task. A refusal
    (:class:`domain.engagement.InvalidEntries`) names every field found wrong."""
    now = now or utcnow()
    member_id = valid_member_id(member_id)
    with uow:
        cycle = _open(uow, year, EngagementStep.meeting)
        pair = _own_pair(uow, year, member_id, pair_id)
        calendar = cycle.calendar
        meeting = checked_meeting(
            met_on,
            minutes,
            mode,
            note,
            today=now.astimezone(calendar.tz).date(),
            earliest=calendar.milestone(CycleEvent.announce_pairings).date(),
        )
        month = month_of(meeting.met_on)
        keys = [
            *check_in_task_keys(year, month, pair.mentor_id, pair.mentee_id),
            *first_meeting_task_keys(year, pair.mentor_id, pair.mentee_id),
        ]
        closed = _close(uow, year, keys, member_id, "meeting logged", now)
        meeting_id = uow.engagement.add_meeting(year, pair.id, member_id, meeting, now)
        _audit(
            uow,
            "meeting_logged",
            year,
            pair,
            member_id,
            trigger,
            now,
            meeting_id=meeting_id,
            met_on=meeting.met_on.isoformat(),
            minutes=meeting.minutes,
            mode=str(meeting.mode),
        )
        uow.commit()
    return MeetingLogged(pair.id, meeting_id, meeting.met_on, closed)


def check_in(
    uow: UnitOfWork,
    year: int,
    member_id: str,
    *,
    pair_id: int,
    met: bool | str,
    score: int | str,
    contact_committee: bool | str,
    trigger: str = SITE,
    now: datetime | None = None,
) -> CheckInResult:
    """Keep the member's check-in for this month (a second one that month replaces it) and
    close the pair's check-in task of the month. When the pair needs attention (see
    :func:`domain.engagement.attention_reasons`) the committee gets a task and the result
    is ``flagged``: the entry point announces it."""
    now = now or utcnow()
    member_id = valid_member_id(member_id)
    answer = checked_check_in(met, score, contact_committee)
    with uow:
        cycle = _open(uow, year, EngagementStep.check_in)
        pair = _own_pair(uow, year, member_id, pair_id)
        tz = cycle.calendar.tz
        month = month_of(now.astimezone(tz).date())
        keys = check_in_task_keys(year, month, pair.mentor_id, pair.mentee_id)
        closed = _close(uow, year, keys, member_id, "check-in answered", now)
        replaced = uow.engagement.store_check_in(year, pair.id, member_id, month, answer, now)
        reasons = pair_reasons(
            uow.engagement.check_ins(pair.id, tz), uow.engagement.meeting_days(pair.id)
        )
        if reasons:
            spec = attention_task(year, month, pair.mentor_id, pair.mentee_id, reasons, now)
            uow.tasks.add([spec], year, now)
        _audit(
            uow,
            "checked_in",
            year,
            pair,
            member_id,
            trigger,
            now,
            month=month,
            met=answer.met,
            score=answer.score,
            contact_committee=answer.contact_committee,
            flagged=bool(reasons),
            reasons=reasons,
        )
        uow.commit()
    return CheckInResult(year, pair.id, month, bool(reasons), tuple(reasons), replaced, closed)


def say_whether_continuing(
    uow: UnitOfWork,
    year: int,
    member_id: str,
    *,
    pair_id: int,
    continuing: bool,
    trigger: str = SITE,
    now: datetime | None = None,
) -> ContinuingSaid:
    """After the formal end: whether the pair goes on meeting on its own (a second answer
    replaces the first); the report counts it."""
    now = now or utcnow()
    member_id = valid_member_id(member_id)
    with uow:
        _open(uow, year, EngagementStep.continuing)
        pair = _own_pair(uow, year, member_id, pair_id)
        replaced = uow.engagement.store_continuing(year, pair.id, member_id, continuing, now)
        _audit(uow, "continuing_said", year, pair, member_id, trigger, now, continuing=continuing)
        uow.commit()
    return ContinuingSaid(pair.id, continuing, replaced)


def pair_log(uow: UnitOfWork, year: int, member_id: str, pair_id: int) -> PairLog:
    """The pair's records as ``member_id`` may see them: the goals, every meeting (a note
    only if they wrote it), their own check-ins and their own continuing answer."""
    with uow:
        cycle = uow.cycles.get(year)
        pair = uow.engagement.approved_pair(year, pair_id)
        if pair is None or member_id not in pair.members:
            raise NotInPair()
        partner = pair.mentee_id if pair.mentor_id == member_id else pair.mentor_id
        meetings = uow.engagement.meetings(pair.id)
        own = [
            c
            for c in uow.engagement.check_ins(pair.id, cycle.calendar.tz)
            if c.member_id == member_id
        ]
        return PairLog(
            pair.id,
            partner,
            uow.engagement.names([partner]).get(partner, partner),
            tuple(uow.engagement.goals(pair.id)),
            tuple(_seen(m, member_id) for m in meetings),
            tuple(
                OwnCheckIn(c.month, c.answer.met, c.answer.score, c.answer.contact_committee)
                for c in own
            ),
            uow.engagement.continuing(pair.id, member_id),
        )


def _seen(meeting: LoggedMeeting, member_id: str) -> MeetingView:
    m = meeting.meeting
    note = m.note if meeting.logged_by == member_id else None
    return MeetingView(m.met_on, m.minutes, str(m.mode), meeting.logged_by, note)


__all__ = [
    "CheckInResult",
    "ContinuingSaid",
    "GoalsSet",
    "MeetingLogged",
    "MemberPair",
    "MonthlyShare",
    "PairHealth",
    "PairLog",
    "ProgramHealth",
    "check_in",
    "log_meeting",
    "pair_health",
    "pair_log",
    "pairs_of_member",
    "program_health",
    "say_whether_continuing",
    "set_goals",
]
