"""The July assessment: import the survey export, record the response rate, report.

Responses are accepted only from the cycle's participants (its approved pairs), for the
role they took part in, and only while the survey window is open (state ``ended``).
"""

from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.assessment import (
    ASSESSMENT_FIELDS,
    AssessmentSummary,
    InvalidResponse,
    SurveyResponse,
    SurveyRole,
    compare,
    parse_response_row,
    summarize,
)
from domain.cycle_states import CycleState
from domain.errors import DomainError
from flows.usecases.clock import utcnow
from flows.usecases.pairings import approved_pairs, latest_set
from infra import audit_log, cycles
from infra.form_mapping import FormMapping, read_rows
from infra.tables import AssessmentResponseRow, CycleRow, PairRow
from infra.uow import UnitOfWork


@dataclass
class AssessmentImport:
    """What the committee sees after an import: counts, and each refused line."""

    imported: int = 0
    replaced: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def participants_by_role(session: Session, year: int) -> dict[str, set[str]]:
    """Who took part in each role: the mentors and mentees of the approved pairs."""
    roles: dict[str, set[str]] = {role.value: set() for role in SurveyRole}
    for pair in approved_pairs(session, year):
        roles[SurveyRole.MENTOR.value].add(pair.mentor_id)
        roles[SurveyRole.MENTEE.value].add(pair.mentee_id)
    return roles


def _check_survey_window(year: int, state: CycleState) -> None:
    if state is not CycleState.ended:
        raise DomainError(
            f"cycle {year} is in state {state}: survey responses are imported only while it "
            "is ended (the July survey window, before complete_assessment)"
        )


def _participation_problem(
    response: SurveyResponse, year: int, participants: dict[str, set[str]]
) -> str | None:
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


def import_responses(
    uow: UnitOfWork,
    year: int,
    path: Path,
    *,
    actor: str,
    mapping: FormMapping | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
) -> AssessmentImport:
    """Validate every line; the valid ones go in together (a later answer from the same
    member for the same role replaces the earlier one), or none do on ``dry_run``."""
    now = now or utcnow()
    result = AssessmentImport(dry_run=dry_run)
    with uow:
        session = uow.session
        row = cycles.load_row(session, year, for_update=True)
        _check_survey_window(year, CycleState(row.state))
        participants = participants_by_role(session, year)
        chosen: dict[tuple[str, str], SurveyResponse] = {}
        for line, raw in read_rows(path, mapping, fields=ASSESSMENT_FIELDS):
            try:
                response = parse_response_row(raw, default_tz=row.timezone)
            except InvalidResponse as bad:
                result.rejected.append({"line": line, "reason": bad.reason})
                continue
            problem = _participation_problem(response, year, participants)
            if problem is not None:
                result.rejected.append({"line": line, "reason": problem})
                continue
            key = (response.member_id, response.role.value)
            result.replaced += key in chosen
            chosen[key] = response
        result.imported = len(chosen)
        if dry_run:
            return result
        result.replaced += _store(session, year, list(chosen.values()))
        audit_log.append(
            session,
            kind="assessment_imported",
            cycle_year=year,
            at=now,
            actor=actor,
            fields={
                "file": path.name,
                "imported": result.imported,
                "replaced": result.replaced,
                "rejected": result.rejected,
            },
            touched=("assessment_responses",),
        )
        uow.commit()
    return result


def _store(session: Session, year: int, responses: list[SurveyResponse]) -> int:
    """Insert or replace each answer; returns how many stored answers were replaced."""
    existing = {
        (r.member_id, r.role): r
        for r in session.scalars(
            select(AssessmentResponseRow).where(AssessmentResponseRow.cycle_year == year)
        )
    }
    replaced = 0
    for response in responses:
        values = {
            "submitted_at": response.submitted_at,
            "overall": response.overall,
            "goals_met": response.goals_met,
            "would_recommend": response.would_recommend,
            "will_continue": response.will_continue,
            "comments": response.comments,
        }
        stored = existing.get((response.member_id, response.role.value))
        if stored is None:
            session.add(
                AssessmentResponseRow(
                    cycle_year=year,
                    member_id=response.member_id,
                    role=response.role.value,
                    **values,
                )
            )
            continue
        replaced += 1
        for name, value in values.items():
            setattr(stored, name, value)
    session.flush()
    return replaced


def stored_responses(session: Session, year: int) -> list[SurveyResponse]:
    return [
        SurveyResponse(
            submitted_at=r.submitted_at,
            member_id=r.member_id,
            role=SurveyRole(r.role),
            overall=r.overall,
            goals_met=r.goals_met,
            would_recommend=r.would_recommend,
            will_continue=r.will_continue,
            comments=r.comments,
        )
        for r in session.scalars(
            select(AssessmentResponseRow).where(AssessmentResponseRow.cycle_year == year)
        )
    ]


def summary_of(session: Session, year: int) -> AssessmentSummary:
    return summarize(stored_responses(session, year), participants_by_role(session, year))


def response_rate(session: Session, year: int) -> dict[str, Any]:
    """The figures ``complete_assessment`` records: answers, places and rates by role."""
    figures = summary_of(session, year).as_dict()
    return {key: figures[key] for key in ("responses", "participants", "response_rate", "by_role")}


def _years_with_responses(session: Session, up_to: int) -> list[int]:
    return list(
        session.scalars(
            select(AssessmentResponseRow.cycle_year)
            .where(AssessmentResponseRow.cycle_year <= up_to)
            .group_by(AssessmentResponseRow.cycle_year)
            .order_by(AssessmentResponseRow.cycle_year)
        )
    )


def report(uow: UnitOfWork, year: int) -> dict[str, Any]:
    """The cycle's assessment, with the trend over every cycle up to it that has answers."""
    with uow:
        session = uow.session
        row = cycles.load_row(session, year)
        summaries = {y: summary_of(session, y) for y in _years_with_responses(session, year)}
        summary = summaries.get(year) or summary_of(session, year)
        summaries[year] = summary
        return {
            "year": year,
            "state": row.state,
            **summary.as_dict(),
            "trend": compare(summaries).as_dict(),
        }


def _pair_counts(session: Session, year: int) -> tuple[int, int]:
    """(active pairs, all pairs) of the cycle's approved set."""
    approved = latest_set(session, year, "approved")
    if approved is None:
        return 0, 0
    counts = dict(
        session.execute(
            select(PairRow.status, func.count())
            .where(PairRow.set_id == approved.id)
            .group_by(PairRow.status)
        ).all()
    )
    return int(counts.get("active", 0)), int(sum(counts.values()))


def cycle_outcomes(uow: UnitOfWork) -> list[dict[str, Any]]:
    """Each cycle's headline results for ``mentoring cycle list``."""
    outcomes = []
    with uow:
        session = uow.session
        for row in session.scalars(select(CycleRow).order_by(CycleRow.year)):
            active, total = _pair_counts(session, row.year)
            figures = summary_of(session, row.year).as_dict()
            outcomes.append(
                {
                    "year": row.year,
                    "state": row.state,
                    "pairs": active,
                    "completion": round(active / total, 4) if total else None,
                    "responses": figures["responses"],
                    "response_rate": figures["response_rate"],
                    "mean_overall": figures["means"]["overall"],
                }
            )
    return outcomes
