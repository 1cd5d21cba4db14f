"""Each cycle's engagement in a few counts, for ``mentoring cycle list``, once mentoring has
begun: the report's figures (:func:`.pair_health.engagement_figures`) with, from the
committee's per-pair view (:func:`.pair_health.health_in`), the pairs that logged a meeting
and the flagged pairs, and the survey's mean "goals met". Counts only: nothing names a pair.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.cycle_states import CycleState
from domain.engagement import EngagementFigures
from flows.usecases.assessment import summary_of
from flows.usecases.clock import utcnow
from flows.usecases.pair_health import engagement_figures, health_in
from infra.uow import UnitOfWork

MENTORING_BEGUN = frozenset({CycleState.active, CycleState.ended, CycleState.assessed})


@dataclass(frozen=True)
class CycleEngagement:
    """How a cycle's pairs took part: pairs that logged a meeting, meetings logged, pairs
    that met in every mentoring month so far, flagged pairs, pairs that set goals, and the
    survey's mean answer to "the program met my goals" (1–5; None before any answer)."""

    year: int
    figures: EngagementFigures
    pairs_met: int
    flagged: int
    goals_met: float | None

    @property
    def pairs(self) -> int:
        return self.figures.pairs

    @property
    def met_every_month_share(self) -> float | None:
        return self.figures.met_every_month / self.pairs if self.pairs else None

    def as_dict(self) -> dict[str, Any]:
        """The report's engagement fields, and ``pairs_met``, ``flagged``, ``goals_met``."""
        return {
            **self.figures.as_dict(),
            "pairs_met": self.pairs_met,
            "flagged": self.flagged,
            "goals_met": None if self.goals_met is None else round(self.goals_met, 4),
        }


def cycle_engagement(uow: UnitOfWork, *, now: datetime | None = None) -> dict[int, CycleEngagement]:
    """The engagement of each cycle whose mentoring has begun (``active``, ``ended`` or
    ``assessed``), by year; its months up to ``now``."""
    now = now or utcnow()
    found = {}
    with uow:
        for cycle in uow.cycles.all():
            if cycle.state in MENTORING_BEGUN:
                found[cycle.year] = _engagement(uow, cycle.year, now)
    return found


def _engagement(uow: UnitOfWork, year: int, now: datetime) -> CycleEngagement:
    pairs = health_in(uow, year, now).pairs
    return CycleEngagement(
        year,
        engagement_figures(uow, year, now),
        pairs_met=sum(1 for p in pairs if p.meetings),
        flagged=sum(1 for p in pairs if p.flagged),
        goals_met=summary_of(uow, year).means["goals_met"],
    )
