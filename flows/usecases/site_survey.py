"""The end-of-program survey answered on the participants' site: the same checks and the
same stored answer as a line of the survey import (:mod:`.assessment`), the member as
actor; answering closes their "answer the survey" task as the import does.

A participant who was both mentor and mentee answers once for each role.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from domain.activities import Activity, is_allowed, require
from domain.assessment import (
    ASSESSMENT_FIELDS,
    QUESTIONS,
    InvalidResponse,
    SurveyRole,
    parse_response_row,
)
from domain.errors import DomainError
from domain.values import valid_member_id
from flows.usecases.assessment import (
    participants_by_role,
    participation_problem,
    record_responses,
)
from flows.usecases.clock import utcnow
from infra.uow import UnitOfWork

SITE = "site"
ANSWER_FIELDS: tuple[str, ...] = (*QUESTIONS, "comments")
"""What the survey form posts (the assessment CSV's answer columns)."""
_STAND_INS: Mapping[str, str] = {
    "overall": "3",
    "goals_met": "3",
    "would_recommend": "yes",
    "will_continue": "yes",
    "comments": "",
}


@dataclass(frozen=True)
class SurveyProblem:
    """One refused answer: the form field and the import's sentence."""

    field: str
    message: str


@dataclass(frozen=True)
class SurveyStanding:
    """Whether ``member_id`` can answer cycle ``year``'s survey now, in which roles, and
    which of those they have answered."""

    year: int
    is_open: bool
    roles: tuple[str, ...]
    answered: tuple[str, ...]

    @property
    def roles_left(self) -> tuple[str, ...]:
        return tuple(r for r in self.roles if r not in self.answered)


@dataclass(frozen=True)
class SurveyAnswered:
    year: int
    role: str
    replaced: bool
    roles_left: tuple[str, ...]


@dataclass(frozen=True)
class SurveyNotSaved:
    """Nothing stored: each problem names its field."""

    problems: tuple[SurveyProblem, ...]


def survey_standing(uow: UnitOfWork, year: int, member_id: str) -> SurveyStanding:
    """The member's place in cycle ``year``'s survey (no roles: not a participant)."""
    with uow:
        if not uow.cycles.exists(year):
            return SurveyStanding(year, False, (), ())
        state = uow.cycles.state_of(year)
        roles = _roles_of(uow, year, member_id)
        answered = {r.role.value for r in uow.responses.of_cycle(year) if r.member_id == member_id}
        return SurveyStanding(
            year,
            is_allowed(Activity.survey_answers, state),
            roles,
            tuple(r for r in roles if r in answered),
        )


def _roles_of(uow: UnitOfWork, year: int, member_id: str) -> tuple[str, ...]:
    participants = participants_by_role(uow, year)
    return tuple(role.value for role in SurveyRole if member_id in participants[role.value])


def answer_survey(
    uow: UnitOfWork,
    year: int,
    member_id: str,
    role: str,
    answers: Mapping[str, str],
    *,
    now: datetime | None = None,
) -> SurveyAnswered | SurveyNotSaved:
    """Record the member's answers for ``role`` as the import records a line of the survey
    export (checked by the same rules; a second answer for the role replaces the first)
    and close their survey task; audited with the member as actor and ``site`` as trigger.
    Refused (:class:`DomainError`) outside the survey window or for a role the member did
    not take part in."""
    now = now or utcnow()
    member_id = valid_member_id(member_id)
    with uow:
        cycle = uow.cycles.get(year, for_update=True)
        require(Activity.survey_answers, cycle.state, year)
        row = {
            **{name: answers.get(name, "") for name in ANSWER_FIELDS},
            "submitted_at": now.isoformat(),
            "member_id": member_id,
            "role": role,
        }
        problems = every_problem(row, cycle.calendar.timezone)
        if problems:
            return SurveyNotSaved(problems)
        response = parse_response_row(row, default_tz=cycle.calendar.timezone)
        participants = participants_by_role(uow, year)
        refused = participation_problem(response, year, participants)
        if refused is not None:
            raise DomainError(refused)
        replaced = record_responses(uow, year, [response], actor=member_id, now=now)
        uow.audit.append(
            kind="survey_answered",
            cycle_year=year,
            at=now,
            actor=member_id,
            fields={
                "member_id": member_id,
                "role": response.role.value,
                "replaced": replaced,
                "trigger": SITE,
            },
        )
        uow.commit()
        answered = {r.role.value for r in uow.responses.of_cycle(year) if r.member_id == member_id}
        left = tuple(r for r in _roles_of(uow, year, member_id) if r not in answered)
    return SurveyAnswered(year, response.role.value, replaced > 0, left)


def every_problem(row: Mapping[str, str], zone: str) -> tuple[SurveyProblem, ...]:
    """Each answer field the import's row check refuses, in column order: the check stops
    at the first, so a refused answer is stood in for and the row checked again."""
    trial = dict(row)
    problems: list[SurveyProblem] = []
    for _ in ASSESSMENT_FIELDS:
        try:
            parse_response_row(trial, default_tz=zone)
        except InvalidResponse as refused:
            name = refused.field_name or ""
            problems.append(SurveyProblem(name, refused.reason))
            if name not in _STAND_INS:
                break
            trial[name] = _STAND_INS[name]
            continue
        break
    return tuple(problems)
