"""The end-of-program survey: reading responses, summarising a cycle, comparing cycles.

A summary never names anyone: it holds counts, rates, means and the comments on their
own, sorted so their order does not follow the roster or the time people answered.
"""

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from domain.errors import DomainError
from domain.values import COMMENTS_MAX, InvalidValue, free_text, moment_in_range, valid_member_id

ASSESSMENT_FIELDS: tuple[str, ...] = (
    "submitted_at",
    "member_id",
    "role",
    "overall",
    "goals_met",
    "would_recommend",
    "will_continue",
    "comments",
)
SCALE = (1, 2, 3, 4, 5)
SCALE_QUESTIONS: tuple[str, ...] = ("overall", "goals_met")
YES_NO_QUESTIONS: tuple[str, ...] = ("would_recommend", "will_continue")
QUESTIONS: tuple[str, ...] = SCALE_QUESTIONS + YES_NO_QUESTIONS
QUESTION_TEXT: dict[str, str] = {
    "overall": "Overall rating of the program (1–5)",
    "goals_met": "The program met my goals (1–5)",
    "would_recommend": "Would recommend it to a colleague",
    "will_continue": "Will continue meeting on their own",
}
_YES = {"yes": True, "no": False}


class SurveyRole(StrEnum):
    """The side a respondent answers for: a ``both`` participant answers once for each."""

    MENTOR = "mentor"
    MENTEE = "mentee"


class InvalidResponse(DomainError):
    """A survey row refused by validation; ``reason`` is one sentence naming the field."""

    def __init__(self, reason: str, field_name: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field_name = field_name


@dataclass(frozen=True)
class SurveyResponse:
    """One participant's answers for one role, already validated."""

    submitted_at: datetime
    member_id: str
    role: SurveyRole
    overall: int
    goals_met: int
    would_recommend: bool
    will_continue: bool
    comments: str = ""

    def __post_init__(self) -> None:
        if self.submitted_at.tzinfo is None:
            raise InvalidResponse("submitted_at must carry a time zone", "submitted_at")
        for name in SCALE_QUESTIONS:
            value = getattr(self, name)
            if value not in SCALE:
                raise InvalidResponse(f"{name} {value!r} is out of range; use 1 to 5", name)


def _required(row: Mapping[str, str], name: str) -> str:
    value = (row.get(name) or "").strip()
    if not value:
        raise InvalidResponse(f"{name} is empty; every response needs one", name)
    return value


def _parse_submitted_at(raw: str, default_tz: str) -> datetime:
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidResponse(
            f"submitted_at {raw!r} is not an ISO 8601 date-time; use one such as 2027-07-08T09:30",
            "submitted_at",
        ) from None
    try:
        moment_in_range(moment, "submitted_at")
    except InvalidValue as refused:
        raise InvalidResponse(refused.reason, refused.field) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(default_tz))


def _parse_role(raw: str) -> SurveyRole:
    wanted = raw.casefold()
    for role in SurveyRole:
        if role.value == wanted:
            return role
    raise InvalidResponse(
        f"role {raw!r} is not allowed; use mentor or mentee "
        "(a participant who was both answers once for each)",
        "role",
    )


def _parse_scale(raw: str, name: str) -> int:
    if not raw.isdigit() or int(raw) not in SCALE:
        raise InvalidResponse(
            f"{name} {raw!r} is not allowed; use a whole number from 1 to 5", name
        )
    return int(raw)


def _parse_yes_no(raw: str, name: str) -> bool:
    answer = _YES.get(raw.casefold())
    if answer is None:
        raise InvalidResponse(f"{name} {raw!r} is not allowed; use yes or no", name)
    return answer


def parse_response_row(row: Mapping[str, str], *, default_tz: str) -> SurveyResponse:
    """Validate one canonical ``assessment.csv`` row; naive timestamps are read in
    ``default_tz``. Fields are checked in column order: the first problem is reported.
    ``comments`` may span lines (kept on one) but, like the id, holds no control character
    and stays within its bound (:mod:`domain.values`)."""
    submitted_at = _parse_submitted_at(_required(row, "submitted_at"), default_tz)
    try:
        member_id = valid_member_id(_required(row, "member_id"))
    except InvalidValue as refused:
        raise InvalidResponse(refused.reason, refused.field) from None
    role = _parse_role(_required(row, "role"))
    overall = _parse_scale(_required(row, "overall"), "overall")
    goals_met = _parse_scale(_required(row, "goals_met"), "goals_met")
    would_recommend = _parse_yes_no(_required(row, "would_recommend"), "would_recommend")
    will_continue = _parse_yes_no(_required(row, "will_continue"), "will_continue")
    try:
        comments = free_text(row.get("comments") or "", "comments", COMMENTS_MAX)
    except InvalidValue as refused:
        raise InvalidResponse(refused.reason, refused.field) from None
    return SurveyResponse(
        submitted_at=submitted_at,
        member_id=member_id,
        role=role,
        overall=overall,
        goals_met=goals_met,
        would_recommend=would_recommend,
        will_continue=will_continue,
        comments=" ".join(comments.split()),
    )


@dataclass(frozen=True)
class RoleRate:
    """How many of one role's participants answered."""

    responses: int
    participants: int

    @property
    def rate(self) -> float | None:
        """None when nobody took part in that role (a rate of nothing is not zero)."""
        return self.responses / self.participants if self.participants else None


@dataclass(frozen=True)
class AssessmentSummary:
    """A cycle's survey in figures; nothing in it identifies a respondent."""

    responses: int
    participants: int
    people: int
    by_role: Mapping[str, RoleRate]
    distributions: Mapping[str, Mapping[str, int]]
    means: Mapping[str, float | None]
    shares: Mapping[str, float | None]
    comments: tuple[str, ...] = field(default=())

    @property
    def response_rate(self) -> float | None:
        """Answers over places (a ``both`` participant has two places, one per role)."""
        return self.responses / self.participants if self.participants else None

    @property
    def will_continue_share(self) -> float | None:
        """Share of respondents who will go on meeting outside the program."""
        return self.shares["will_continue"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "responses": self.responses,
            "participants": self.participants,
            "people": self.people,
            "response_rate": _rounded(self.response_rate),
            "by_role": {
                role: {
                    "responses": r.responses,
                    "participants": r.participants,
                    "response_rate": _rounded(r.rate),
                }
                for role, r in self.by_role.items()
            },
            "distributions": {q: dict(d) for q, d in self.distributions.items()},
            "means": {q: _rounded(m) for q, m in self.means.items()},
            "shares": {q: _rounded(s) for q, s in self.shares.items()},
            "will_continue_share": _rounded(self.will_continue_share),
            "comments": list(self.comments),
        }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def latest_per_member_role(responses: Iterable[SurveyResponse]) -> list[SurveyResponse]:
    """One answer per member and role: the one submitted last replaces the others."""
    kept: dict[tuple[str, SurveyRole], SurveyResponse] = {}
    for response in responses:
        key = (response.member_id, response.role)
        earlier = kept.get(key)
        if earlier is None or response.submitted_at >= earlier.submitted_at:
            kept[key] = response
    return list(kept.values())


def _distribution(values: Iterable[int | bool], keys: Iterable[int | bool]) -> dict[str, int]:
    counts = Counter(values)
    return {_answer_label(k): counts.get(k, 0) for k in keys}


def _answer_label(value: int | bool) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _mean(values: list[int]) -> float | None:
    return sum(values) / len(values) if values else None


def _share(values: list[bool]) -> float | None:
    return sum(values) / len(values) if values else None


def summarize(
    responses: Iterable[SurveyResponse], participants: Mapping[str, set[str]]
) -> AssessmentSummary:
    """Response rates, answer distributions, means, shares and unattributed comments.

    ``participants`` maps each role (``mentor``, ``mentee``) to the member ids who took
    part in it. Only answers from a participant in that role count; a repeat counts once.
    """
    places = {(member, role) for role, members in participants.items() for member in members}
    counted = [
        r for r in latest_per_member_role(responses) if (r.member_id, r.role.value) in places
    ]
    by_role = {
        role.value: RoleRate(
            responses=sum(r.role is role for r in counted),
            participants=len(participants.get(role.value, set())),
        )
        for role in SurveyRole
    }
    scales = {q: [int(getattr(r, q)) for r in counted] for q in SCALE_QUESTIONS}
    answers = {q: [bool(getattr(r, q)) for r in counted] for q in YES_NO_QUESTIONS}
    distributions: dict[str, dict[str, int]] = {
        q: _distribution(scales[q], SCALE) for q in SCALE_QUESTIONS
    }
    distributions.update({q: _distribution(answers[q], (True, False)) for q in YES_NO_QUESTIONS})
    return AssessmentSummary(
        responses=len(counted),
        participants=len(places),
        people=len({member for member, _ in places}),
        by_role=by_role,
        distributions=distributions,
        means={q: _mean(scales[q]) for q in SCALE_QUESTIONS},
        shares={q: _share(answers[q]) for q in YES_NO_QUESTIONS},
        comments=tuple(sorted((r.comments for r in counted if r.comments), key=_comment_order)),
    )


def _comment_order(text: str) -> tuple[str, str]:
    return (text.casefold(), text)


@dataclass(frozen=True)
class Trend:
    """Each question's headline figure per cycle, oldest first (None: no answers that year).

    Scales give their mean (1–5), yes/no questions and the response rate a share (0–1).
    """

    years: tuple[int, ...]
    series: Mapping[str, tuple[float | None, ...]]

    def change(self, name: str) -> float | None:
        """The last cycle's figure minus the one before it, when both exist."""
        values = self.series[name]
        if len(values) < 2 or values[-1] is None or values[-2] is None:
            return None
        return values[-1] - values[-2]

    def as_dict(self) -> dict[str, Any]:
        return {
            "years": list(self.years),
            "series": {name: [_rounded(v) for v in vs] for name, vs in self.series.items()},
            "change": {name: _rounded(self.change(name)) for name in self.series},
        }


TREND_SERIES: tuple[str, ...] = ("response_rate", *QUESTIONS)


def _headline(summary: AssessmentSummary, name: str) -> float | None:
    if name == "response_rate":
        return summary.response_rate
    if name in SCALE_QUESTIONS:
        return summary.means[name]
    return summary.shares[name]


def compare(summaries_by_year: Mapping[int, AssessmentSummary]) -> Trend:
    """How the answers moved from cycle to cycle, in year order."""
    years = tuple(sorted(summaries_by_year))
    return Trend(
        years=years,
        series={
            name: tuple(_headline(summaries_by_year[y], name) for y in years)
            for name in TREND_SERIES
        },
    )
