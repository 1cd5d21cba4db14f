"""After pairing: a pair's goals, its meeting log, the monthly check-ins, whether the
partners go on after the formal end, and when a pair needs the committee's attention.

Validation names the form field in one plain sentence (as application intake does); a
meeting's checks name every field they refuse at once, for the form to show each. What
one partner writes (a check-in's score, a meeting's note) is theirs: the program shows it
to the committee's figures or to its writer, never to the other partner.
"""

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import TypeVar

from domain.cycle_states import CycleEvent, CycleState
from domain.errors import DomainError
from domain.followups import COMMITTEE, PARTICIPANT, TaskSpec
from domain.values import InvalidValue, free_text, shown, single_line

GOALS_MIN, GOALS_MAX = 1, 3
GOAL_MAX = 500
MINUTES_MIN, MINUTES_MAX = 5, 600
NOTE_MAX = 2000
SCORE_MIN, SCORE_MAX = 1, 5
LOW_SCORE = 2
"""A check-in scoring this or lower flags the pair."""
GOALS_WITHIN = timedelta(weeks=3)
"""The pair's goals are asked for within three weeks of mentoring's start."""
NOT_IN_PAIR = "you are not in that pair"
_WHOLE = re.compile(r"-?[0-9]{1,9}")
_YES_NO = {"yes": True, "no": False, "true": True, "false": False, "on": True}


class MeetingMode(StrEnum):
    """How a pair met."""

    in_person = "in_person"
    call = "call"
    video = "video"


MODE_WORDS: Mapping[MeetingMode, str] = {
    MeetingMode.in_person: "in person",
    MeetingMode.call: "call",
    MeetingMode.video: "video",
}


class EngagementStep(StrEnum):
    """What a partner writes about their pair."""

    goals = "goals"
    meeting = "meeting"
    check_in = "check_in"
    continuing = "continuing"


ALLOWED: Mapping[EngagementStep, frozenset[CycleState]] = {
    EngagementStep.goals: frozenset({CycleState.paired, CycleState.orientation, CycleState.active}),
    EngagementStep.meeting: frozenset(
        {CycleState.paired, CycleState.orientation, CycleState.active, CycleState.ended}
    ),
    EngagementStep.check_in: frozenset({CycleState.active}),
    EngagementStep.continuing: frozenset({CycleState.ended, CycleState.assessed}),
}
_WHEN: Mapping[EngagementStep, str] = {
    EngagementStep.goals: "goals are set from the pairing announcement until mentoring ends",
    EngagementStep.meeting: "meetings are logged from the pairing announcement until the "
    "survey closes",
    EngagementStep.check_in: "check-ins are answered while mentoring runs (December to June)",
    EngagementStep.continuing: "whether you go on meeting is asked once formal mentoring has ended",
}


class InvalidEntry(DomainError):
    """A form value refused; ``field_name`` names the form field, the message says why."""

    def __init__(self, reason: str, field_name: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field_name = field_name

    @property
    def every(self) -> tuple["InvalidEntry", ...]:
        """Each field refused, in the form's order: this one alone."""
        return (self,)


class InvalidEntries(InvalidEntry):
    """Several fields of one form refused at once; named as the first, its reason every
    reason in turn."""

    def __init__(self, refused: Sequence[InvalidEntry]) -> None:
        super().__init__("; ".join(r.reason for r in refused), refused[0].field_name)
        self._every = tuple(refused)

    @property
    def every(self) -> tuple[InvalidEntry, ...]:
        """Each field refused, in the form's order."""
        return self._every


class NotInPair(DomainError):
    """The member is not a partner of the pair they named."""

    def __init__(self) -> None:
        super().__init__(NOT_IN_PAIR)


def require_step(step: EngagementStep, state: CycleState, year: int) -> None:
    """Refuse ``step`` unless cycle ``year``'s state allows it, saying when it is allowed."""
    if state not in ALLOWED[step]:
        raise DomainError(f"cycle {year} is in state {state}: {_WHEN[step]}")


def _text(value: str, check: Callable[[str], str]) -> str:
    """A boundary check from :mod:`domain.values`, reported as this form's refusal."""
    try:
        return check(value)
    except InvalidValue as refused:
        raise InvalidEntry(refused.reason, refused.field) from None


def checked_goals(goals: Sequence[str]) -> tuple[str, ...]:
    """One to three goals, each one line of at most 500 characters (blank ones dropped)."""
    kept = [" ".join(g.split()) for g in goals]
    kept = [g for g in kept if g]
    if not GOALS_MIN <= len(kept) <= GOALS_MAX:
        raise InvalidEntry(
            f"goals: write {GOALS_MIN} to {GOALS_MAX} goals for the pair, not {len(kept)}",
            "goals",
        )
    return tuple(_text(goal, lambda v: single_line(v, "goals", GOAL_MAX)) for goal in kept)


@dataclass(frozen=True)
class Meeting:
    """A meeting one partner logged; ``note`` is seen by its writer only."""

    met_on: date
    minutes: int
    mode: MeetingMode
    note: str = ""


def _whole(raw: object, field_name: str, low: int, high: int) -> int:
    text = str(raw).strip()
    if isinstance(raw, bool) or not _WHOLE.fullmatch(text):
        raise InvalidEntry(
            f"{field_name} {shown(text)} is not a whole number; use one from {low} to {high}",
            field_name,
        )
    value = int(text)
    if not low <= value <= high:
        raise InvalidEntry(
            f"{field_name} {value} is out of range; use a whole number from {low} to {high}",
            field_name,
        )
    return value


def _day(raw: date | str, field_name: str) -> date:
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidEntry(
            f"{field_name} {shown(raw.strip())} is not a date; use one such as 2027-01-14",
            field_name,
        ) from None


def _yes_no(raw: bool | str, field_name: str) -> bool:
    if isinstance(raw, bool):
        return raw
    answer = {"yes": True, "no": False, "true": True, "false": False}.get(raw.strip().casefold())
    if answer is None:
        raise InvalidEntry(
            f"{field_name} {shown(raw.strip())} is not allowed; use yes or no", field_name
        )
    return answer


def checked_meeting(
    met_on: date | str,
    minutes: int | str,
    mode: MeetingMode | str,
    note: str,
    *,
    today: date,
    earliest: date,
) -> Meeting:
    """A meeting from the log's fields: a day from ``earliest`` (pairs announced) to
    ``today``, 5 to 600 minutes, in person / call / video, a note of at most 2,000
    characters. Each field is checked on its own; the refusal
    (:class:`InvalidEntries`) names every field found wrong, in the form's order."""
    refused: list[InvalidEntry] = []
    day = _kept(lambda: _meeting_day(met_on, today=today, earliest=earliest), refused)
    length = _kept(lambda: _whole(minutes, "minutes", MINUTES_MIN, MINUTES_MAX), refused)
    how = _kept(lambda: _mode(mode), refused)
    text = _kept(lambda: _text(note, lambda v: free_text(v, "note", NOTE_MAX)), refused)
    if day is None or length is None or how is None or text is None:
        raise InvalidEntries(refused)
    return Meeting(day, length, how, text)


Checked = TypeVar("Checked")


def _kept(check: Callable[[], Checked], refused: list[InvalidEntry]) -> Checked | None:
    """What ``check`` gives, or None with its refusal added to ``refused``."""
    try:
        return check()
    except InvalidEntry as refusal:
        refused.append(refusal)
        return None


def _meeting_day(met_on: date | str, *, today: date, earliest: date) -> date:
    day = _day(met_on, "met_on")
    if day > today:
        raise InvalidEntry(
            f"met_on {day.isoformat()} is in the future; log a meeting once it has taken place",
            "met_on",
        )
    if day < earliest:
        raise InvalidEntry(
            f"met_on {day.isoformat()} is before the pairs were announced "
            f"({earliest.isoformat()}); log meetings of this cycle's pair",
            "met_on",
        )
    return day


def _mode(mode: MeetingMode | str) -> MeetingMode:
    wanted = str(mode).strip().casefold()
    if wanted not in {m.value for m in MeetingMode}:
        raise InvalidEntry(
            f"mode {shown(str(mode).strip())} is not allowed; use in_person, call or video", "mode"
        )
    return MeetingMode(wanted)


@dataclass(frozen=True)
class CheckIn:
    """One partner's monthly answer: met this month, how it goes (1–5), and whether the
    committee should get in touch."""

    met: bool
    score: int
    contact_committee: bool


def checked_check_in(met: bool | str, score: int | str, contact_committee: bool | str) -> CheckIn:
    """A check-in from the form's fields ``met``, ``score``, ``contact_committee``."""
    return CheckIn(
        _yes_no(met, "met"),
        _whole(score, "score", SCORE_MIN, SCORE_MAX),
        _yes_no(contact_committee, "contact_committee"),
    )


@dataclass(frozen=True)
class AnsweredCheckIn:
    """A check-in as kept: who answered, in which month (``YYYY-MM``), on which day."""

    member_id: str
    month: str
    answered_on: date
    answer: CheckIn


def month_of(day: date) -> str:
    """The month a day falls in, as check-ins and check-in tasks name it (``2027-01``)."""
    return f"{day.year:04d}-{day.month:02d}"


def month_words(month: str) -> str:
    """``2027-01`` as ``January 2027``."""
    return f"{date.fromisoformat(month + '-01'):%B %Y}"


def attention_reasons(
    latest: AnsweredCheckIn, history: Sequence[AnsweredCheckIn], meetings: Sequence[date]
) -> list[str]:
    """Why a pair needs the committee's attention after ``latest`` (empty: it does not).

    The flag rule: the check-in asks the committee to get in touch, or scores 1 or 2, or it
    and the pair's check-in before it (the latest from an earlier month, by either
    partner) both say no meeting and no meeting was logged from the start of that earlier
    month to ``latest``'s day."""
    reasons: list[str] = []
    if latest.answer.contact_committee:
        reasons.append("a partner asked the committee to get in touch")
    if latest.answer.score <= LOW_SCORE:
        reasons.append(f"a partner scored how it is going {latest.answer.score} of {SCORE_MAX}")
    if not latest.answer.met:
        earlier = [c for c in history if c.month < latest.month]
        before = max(earlier, key=lambda c: (c.month, c.answered_on), default=None)
        if before is not None and not before.answer.met:
            since = date.fromisoformat(before.month + "-01")
            if not any(since <= day <= latest.answered_on for day in meetings):
                reasons.append(
                    f"no meeting in two check-ins in a row ({month_words(before.month)} "
                    f"and {month_words(latest.month)})"
                )
    return reasons


def goals_task_key(year: int, role: str, mentor_id: str, mentee_id: str) -> str:
    """The participant's "set your pair's goals" task, closed when either partner sets them
    (ends with the pair, as every pair task does, so a dissolved pair's task closes)."""
    return f"{year}/goals/{role}/{mentor_id}/{mentee_id}"


def goals_tasks(year: int, begins: datetime, pairs: Sequence[tuple[str, str]]) -> list[TaskSpec]:
    """At ``start_mentoring``: each participant of each pair is asked for the pair's goals
    within three weeks."""
    due = begins + GOALS_WITHIN
    return [
        TaskSpec(
            goals_task_key(year, role, mentor, mentee),
            PARTICIPANT,
            f"Set the goals of {mentor} and {mentee}",
            due,
            member,
        )
        for mentor, mentee in pairs
        for role, member in (("mentor", mentor), ("mentee", mentee))
    ]


def attention_task_key(year: int, month: str, mentor_id: str, mentee_id: str) -> str:
    """The committee's "get in touch" task for a pair flagged in ``month`` (once a month)."""
    return f"{year}/attention/{month}/{mentor_id}/{mentee_id}"


def check_in_task_keys(year: int, month: str, mentor_id: str, mentee_id: str) -> list[str]:
    """The pair's monthly check-in task for ``month`` (as :mod:`domain.followups` keys it)."""
    return [f"{year}/{CycleEvent.start_mentoring}/check-in/{month}/{mentor_id}/{mentee_id}"]


def first_meeting_task_keys(year: int, mentor_id: str, mentee_id: str) -> list[str]:
    """The pair's first-meeting task, from mentoring's start or from a re-pairing."""
    return [
        f"{year}/{CycleEvent.start_mentoring}/first-meeting/{mentor_id}/{mentee_id}",
        f"{year}/repairing/first-meeting/{mentor_id}/{mentee_id}",
    ]


def met_months(meetings: Sequence[date], check_ins: Sequence[AnsweredCheckIn]) -> set[str]:
    """The months a pair met in: a meeting logged in it, or a check-in of it saying so."""
    return {month_of(d) for d in meetings} | {c.month for c in check_ins if c.answer.met}


def mentoring_months(begins: date, ends: date) -> list[str]:
    """Every month from mentoring's start to its end (``YYYY-MM``)."""
    months: list[str] = []
    day = begins.replace(day=1)
    while day <= ends:
        months.append(month_of(day))
        day = (day + timedelta(days=32)).replace(day=1)
    return months


ATTENTION_WITHIN = timedelta(days=3)
"""The committee gets in touch with a flagged pair within three days."""
TASK_TITLE_MAX = 300


@dataclass(frozen=True)
class LoggedMeeting:
    """A meeting as kept: which pair, who logged it, when."""

    id: int
    pair_id: int
    logged_by: str
    meeting: Meeting
    logged_at: datetime


def attention_task(
    year: int, month: str, mentor_id: str, mentee_id: str, reasons: Sequence[str], now: datetime
) -> TaskSpec:
    """The committee's "Get in touch with PAIR: reasons" task for a flagged pair."""
    title = f"Get in touch with {mentor_id} and {mentee_id}: {'; '.join(reasons)}"
    if len(title) > TASK_TITLE_MAX:
        title = title[: TASK_TITLE_MAX - 1] + "…"
    return TaskSpec(
        attention_task_key(year, month, mentor_id, mentee_id),
        COMMITTEE,
        title,
        now + ATTENTION_WITHIN,
    )


def pair_reasons(check_ins: Sequence[AnsweredCheckIn], meetings: Sequence[date]) -> list[str]:
    """Why a pair needs attention now: the flag rule applied to each check-in of the pair's
    latest check-in month (empty: it does not, or it has no check-in yet)."""
    if not check_ins:
        return []
    month = max(c.month for c in check_ins)
    reasons: list[str] = []
    for latest in sorted((c for c in check_ins if c.month == month), key=lambda c: c.answered_on):
        for reason in attention_reasons(latest, check_ins, meetings):
            if reason not in reasons:
                reasons.append(reason)
    return reasons


def asked_for_contact(check_ins: Sequence[AnsweredCheckIn]) -> list[str]:
    """The partners whose check-in of the pair's latest month asks the committee to get in
    touch."""
    if not check_ins:
        return []
    month = max(c.month for c in check_ins)
    return sorted(
        {c.member_id for c in check_ins if c.month == month and c.answer.contact_committee}
    )


@dataclass(frozen=True)
class EngagementFigures:
    """A cycle's engagement in counts only (nothing in it names a pair or a partner):
    meetings per pair, the share of pairs that met in each month and in every month,
    goals set, and after the end how many pairs go on meeting on their own."""

    pairs: int
    meetings: int
    months: tuple[tuple[str, int], ...]
    met_every_month: int
    goals_set: int
    continuing_answered: int
    continuing: int

    def as_dict(self) -> dict[str, object]:
        def share(n: int, of: int) -> float | None:
            return round(n / of, 4) if of else None

        return {
            "pairs": self.pairs,
            "meetings": self.meetings,
            "meetings_per_pair": share(self.meetings, self.pairs),
            "monthly": [
                {"month": m, "pairs_met": n, "share": share(n, self.pairs)} for m, n in self.months
            ],
            "met_every_month": self.met_every_month,
            "met_every_month_share": share(self.met_every_month, self.pairs),
            "goals_set": self.goals_set,
            "goals_set_share": share(self.goals_set, self.pairs),
            "continuing_answered": self.continuing_answered,
            "continuing": self.continuing,
            "continuing_share": share(self.continuing, self.continuing_answered),
        }


@dataclass(frozen=True)
class PairActivity:
    """What a cycle's pairs wrote, for the committee's figures: each pair's meeting days
    and check-ins (no note)."""

    meeting_days: dict[int, list[date]]
    check_ins: dict[int, list[AnsweredCheckIn]]
    with_goals: set[int]


@dataclass(frozen=True)
class NamedPair:
    """An active pair with its partners' names (the id where the roster has none)."""

    pair_id: int
    mentor_id: str
    mentor_name: str
    mentee_id: str
    mentee_name: str
