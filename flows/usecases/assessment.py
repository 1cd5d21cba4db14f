"""The July assessment: import the survey export, record the response rate, report.

Responses are accepted only from the cycle's participants (its approved pairs), for the
role they took part in, and only while the survey window is open (state ``ended``).
"""

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from domain.activities import Activity, require
from domain.assessment import (
    ASSESSMENT_FIELDS,
    AssessmentSummary,
    InvalidResponse,
    SurveyResponse,
    SurveyRole,
    Trend,
    compare,
    parse_response_row,
    summarize,
)
from domain.cycle_states import CycleState, Trigger
from domain.engagement import EngagementFigures
from domain.followups import survey_task_key
from domain.values import actor_name
from flows.usecases.audit import way_in
from flows.usecases.clock import utcnow
from flows.usecases.followups import close_tasks
from flows.usecases.members import member_named
from flows.usecases.pair_health import engagement_figures
from infra.form_mapping import FormMapping, read_records
from infra.uow import UnitOfWork


@dataclass(frozen=True)
class AssessmentImport:
    """What the committee sees after an import: counts, and each refused line."""

    imported: int = 0
    replaced: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AssessmentReport:
    """A cycle's assessment and the trend over every cycle up to it that has answers."""

    year: int
    state: CycleState
    summary: AssessmentSummary
    trend: Trend
    engagement: EngagementFigures | None = None

    @property
    def responses(self) -> int:
        return self.summary.responses

    @property
    def response_rate(self) -> float | None:
        """Rounded as the report shows it."""
        rate = self.summary.response_rate
        return None if rate is None else round(rate, 4)

    def as_dict(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "state": str(self.state),
            **self.summary.as_dict(),
            "trend": self.trend.as_dict(),
            "engagement": self.engagement.as_dict() if self.engagement else None,
        }


@dataclass(frozen=True)
class CycleOutcome:
    """One cycle's headline results, for ``mentoring cycle list``."""

    year: int
    state: CycleState
    pairs: int
    completion: float | None
    responses: int
    response_rate: float | None
    mean_overall: float | None

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "state": str(self.state)}


def participants_by_role(uow: UnitOfWork, year: int) -> dict[str, set[str]]:
    """Who took part in each role: the mentors and mentees of the approved pairs."""
    roles: dict[str, set[str]] = {role.value: set() for role in SurveyRole}
    for pair in uow.pairings.approved_pairs(year):
        roles[SurveyRole.MENTOR.value].add(pair.mentor_id)
        roles[SurveyRole.MENTEE.value].add(pair.mentee_id)
    return roles


def participation_problem(
    response: SurveyResponse, year: int, participants: dict[str, set[str]]
) -> str | None:
    """Why ``response`` cannot count (its member did not take part in that role), or None."""
    roles = sorted(role for role, members in participants.items() if response.member_id in members)
    if not roles:
        return (
            f"member {response.member_id} is not a participant of cycle {year} "
            "(not in its approved pairs); only participants answer the survey"
        )
    if response.role.value not in roles:
        return (
            f"member {response.member_id} took part in cycle {year} as {' and '.join(roles)}, "
            f"not as {response.role}; use role {' or '.join(roles)}"
        )
    return None


def record_responses(
    uow: UnitOfWork,
    year: int,
    responses: Sequence[SurveyResponse],
    *,
    actor: str,
    now: datetime,
) -> int:
    """Close each respondent's "answer the survey" task, then store the answers (a later
    answer from the same member for the same role replaces the earlier one); returns how
    many were replaced. Inside the caller's unit of work, before its audit record."""
    # The tasks close first, so each audit record seals the rows it wrote.
    answered = {survey_task_key(year, response.member_id) for response in responses}
    because = "survey answered"
    close_tasks(
        uow,
        year,
        answered,
        actor=actor,
        done_by=f"{actor} ({because})",
        because=because,
        now=now,
    )
    return uow.responses.store(year, responses)


def import_responses(
    uow: UnitOfWork,
    year: int,
    path: Path,
    *,
    actor: str,
    mapping: FormMapping | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
    trigger: Trigger | None = None,
    flow_run_id: str | None = None,
) -> AssessmentImport:
    """Validate every line; the valid ones go in together (a later answer from the same
    member for the same role replaces the earlier one), or none do on ``dry_run``. Each
    participant who answered has their "answer the survey" task closed with the import.
    A refused line names its member where it gives a usable member id, as the roster's do.
    ``trigger`` and ``flow_run_id``, when given, say through what the import came (a run
    started from a form), as a transition's record does; the command line gives neither."""
    now = now or utcnow()
    actor = actor_name(actor)
    replaced = 0
    with uow:
        cycle = uow.cycles.get(year, for_update=True)
        require(Activity.survey_answers, cycle.state, year)
        participants = participants_by_role(uow, year)
        chosen: dict[tuple[str, str], SurveyResponse] = {}
        read = read_records(path, mapping, fields=ASSESSMENT_FIELDS)
        rejected: list[dict[str, Any]] = [problem.as_rejection() for problem in read.problems]
        for line, raw in read.rows:
            try:
                response = parse_response_row(raw, default_tz=cycle.calendar.timezone)
            except InvalidResponse as bad:
                rejected.append({"line": line, **member_named(raw), "reason": bad.reason})
                continue
            problem = participation_problem(response, year, participants)
            if problem is not None:
                rejected.append({"line": line, "member_id": response.member_id, "reason": problem})
                continue
            key = (response.member_id, response.role.value)
            replaced += key in chosen
            chosen[key] = response
        rejected.sort(key=lambda r: r["line"])
        if dry_run:
            return AssessmentImport(len(chosen), replaced, rejected, dry_run)
        replaced += record_responses(uow, year, list(chosen.values()), actor=actor, now=now)
        uow.audit.append(
            kind="assessment_imported",
            cycle_year=year,
            at=now,
            actor=actor,
            fields={
                "file": path.name,
                "imported": len(chosen),
                "replaced": replaced,
                "rejected": rejected,
                **way_in(trigger, flow_run_id),
            },
        )
        uow.commit()
    return AssessmentImport(len(chosen), replaced, rejected, dry_run)


def summary_of(uow: UnitOfWork, year: int) -> AssessmentSummary:
    return summarize(uow.responses.of_cycle(year), participants_by_role(uow, year))


def response_rate(uow: UnitOfWork, year: int) -> dict[str, Any]:
    """The figures ``complete_assessment`` records: answers, places and rates by role
    (``uow`` already entered: it runs inside the transition's transaction)."""
    figures = summary_of(uow, year).as_dict()
    return {key: figures[key] for key in ("responses", "participants", "response_rate", "by_role")}


def report(uow: UnitOfWork, year: int, *, now: datetime | None = None) -> AssessmentReport:
    """The cycle's assessment, with the trend over every cycle up to it that has answers,
    and the pairs' engagement (its months up to ``now``)."""
    with uow:
        state = uow.cycles.state_of(year)
        summaries = {y: summary_of(uow, y) for y in uow.responses.years_with_responses(year)}
        summary = summaries.get(year) or summary_of(uow, year)
        summaries[year] = summary
        figures = engagement_figures(uow, year, now or utcnow())
        return AssessmentReport(year, state, summary, compare(summaries), figures)


def cycle_outcomes(uow: UnitOfWork) -> list[CycleOutcome]:
    """Each cycle's headline results for ``mentoring cycle list``."""
    outcomes = []
    with uow:
        for cycle in uow.cycles.all():
            active, total = uow.pairings.pair_counts(cycle.year)
            figures = summary_of(uow, cycle.year).as_dict()
            outcomes.append(
                CycleOutcome(
                    year=cycle.year,
                    state=cycle.state,
                    pairs=active,
                    completion=round(active / total, 4) if total else None,
                    responses=figures["responses"],
                    response_rate=figures["response_rate"],
                    mean_overall=figures["means"]["overall"],
                )
            )
    return outcomes
