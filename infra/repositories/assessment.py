"""End-of-program survey answers: one per participant and role, a repeat replaces it."""

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.assessment import SurveyResponse, SurveyRole
from infra.tables import AssessmentResponseRow


class ResponseRepository:
    """The cycle's survey answers, and the years that have any."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _rows(self, year: int) -> list[AssessmentResponseRow]:
        return list(
            self.session.scalars(
                select(AssessmentResponseRow)
                .where(AssessmentResponseRow.cycle_year == year)
                .order_by(AssessmentResponseRow.id)
            )
        )

    def of_cycle(self, year: int) -> list[SurveyResponse]:
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
            for r in self._rows(year)
        ]

    def respondents(self, year: int) -> set[str]:
        return {r.member_id for r in self._rows(year)}

    def store(self, year: int, responses: Iterable[SurveyResponse]) -> int:
        """Insert or replace each answer; returns how many stored answers were replaced."""
        existing = {(r.member_id, r.role): r for r in self._rows(year)}
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
                self.session.add(
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
        self.session.flush()
        return replaced

    def years_with_responses(self, up_to: int) -> list[int]:
        return list(
            self.session.scalars(
                select(AssessmentResponseRow.cycle_year)
                .where(AssessmentResponseRow.cycle_year <= up_to)
                .group_by(AssessmentResponseRow.cycle_year)
                .order_by(AssessmentResponseRow.cycle_year)
            )
        )
