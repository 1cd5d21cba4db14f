"""The committee's view of how the pairs are doing: per pair, meetings logged, the last
meeting, the last check-in's score and whether it needs attention (flagged first), the
share of pairs that met each month, and the cycle's engagement in counts for the report.

Read in a few plain-column queries whatever the number of pairs (benchmarks/bench_health.py),
with Python's cyclic garbage collector held off while the view is built; nothing a partner
wrote (a note) is read or shown.
"""

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from domain.cycle import Cycle
from domain.cycle_states import CycleEvent
from domain.engagement import (
    AnsweredCheckIn,
    EngagementFigures,
    NamedPair,
    PairActivity,
    mentoring_months,
    met_months,
    month_words,
    pair_reasons,
)
from flows.usecases.clock import utcnow
from infra.uow import UnitOfWork


@dataclass(frozen=True)
class MonthlyShare:
    """How many of the pairs met in one month of mentoring."""

    month: str
    pairs_met: int
    pairs: int

    @property
    def share(self) -> float | None:
        return self.pairs_met / self.pairs if self.pairs else None

    def as_dict(self) -> dict[str, Any]:
        share = self.share
        return {
            "month": self.month,
            "pairs_met": self.pairs_met,
            "pairs": self.pairs,
            "share": None if share is None else round(share, 4),
        }


@dataclass(frozen=True)
class PairHealth:
    """One pair as the committee sees it: figures and the flag, never a note."""

    pair_id: int
    mentor_id: str
    mentor_name: str
    mentee_id: str
    mentee_name: str
    meetings: int
    last_meeting: date | None
    last_score: int | None
    goals_set: bool
    flagged: bool
    reasons: tuple[str, ...] = ()
    months_met: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "pair_id": self.pair_id,
            "mentor_id": self.mentor_id,
            "mentor_name": self.mentor_name,
            "mentee_id": self.mentee_id,
            "mentee_name": self.mentee_name,
            "meetings": self.meetings,
            "last_meeting": self.last_meeting.isoformat() if self.last_meeting else None,
            "last_score": self.last_score,
            "goals_set": self.goals_set,
            "flagged": self.flagged,
            "reasons": list(self.reasons),
            "months_met": list(self.months_met),
        }


@dataclass(frozen=True)
class ProgramHealth:
    """Every pair (flagged first) and the share of pairs that met each month."""

    year: int
    pairs: tuple[PairHealth, ...]
    months: tuple[MonthlyShare, ...] = field(default=())


def program_health(uow: UnitOfWork, year: int, *, now: datetime | None = None) -> ProgramHealth:
    """Every active pair of the approved set with its meetings, last meeting, last check-in
    score and flag (flagged first, then by mentor and mentee), and the share of pairs that
    met in each mentoring month up to ``now``. No note, ever."""
    with uow:
        return health_in(uow, year, now or utcnow())


def health_in(uow: UnitOfWork, year: int, now: datetime) -> ProgramHealth:
    """:func:`program_health` inside an entered unit of work."""
    with _collector_paused():
        cycle = uow.cycles.get(year)
        activity = uow.engagement.activity(year, cycle.calendar.tz)
        rows = [
            _health(
                p,
                activity.meeting_days.get(p.pair_id, []),
                activity.check_ins.get(p.pair_id, []),
                p.pair_id in activity.with_goals,
            )
            for p in uow.engagement.named_pairs(year)
        ]
        rows.sort(key=lambda h: not h.flagged)
        return ProgramHealth(year, tuple(rows), tuple(_monthly(cycle, rows, now, activity)))


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector held off while the view is built. The view makes
    some 100,000 small objects (rows, days, check-ins) that form no cycle, and the
    collections their allocation would set off walk every object the process holds: a
    third of the view's time over 5,000 pairs. Left as it was found (another thread may
    have paused it too)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def engagement_figures(uow: UnitOfWork, year: int, now: datetime) -> EngagementFigures:
    """The cycle's engagement in counts, for the assessment report (``uow`` entered)."""
    health = health_in(uow, year, now)
    months = {m.month for m in health.months}
    answered, continuing = uow.engagement.continuing_counts(year)
    return EngagementFigures(
        pairs=len(health.pairs),
        meetings=sum(p.meetings for p in health.pairs),
        months=tuple((m.month, m.pairs_met) for m in health.months),
        met_every_month=sum(1 for p in health.pairs if months and months <= set(p.months_met)),
        goals_set=sum(1 for p in health.pairs if p.goals_set),
        continuing_answered=answered,
        continuing=continuing,
    )


def pair_health(uow: UnitOfWork, year: int, *, now: datetime | None = None) -> list[PairHealth]:
    """Every active pair, flagged first (see :func:`program_health`)."""
    return list(program_health(uow, year, now=now).pairs)


def _health(
    pair: NamedPair, days: list[date], check_ins: list[AnsweredCheckIn], goals_set: bool
) -> PairHealth:
    reasons = pair_reasons(check_ins, days)
    return PairHealth(
        pair.pair_id,
        pair.mentor_id,
        pair.mentor_name,
        pair.mentee_id,
        pair.mentee_name,
        len(days),
        max(days, default=None),
        check_ins[-1].answer.score if check_ins else None,
        goals_set,
        bool(reasons),
        tuple(reasons),
        tuple(sorted(met_months(days, check_ins))),
    )


def _monthly(
    cycle: Cycle, rows: Sequence[PairHealth], now: datetime, activity: PairActivity
) -> list[MonthlyShare]:
    """Each mentoring month begun by ``now`` (or in which a pair has recorded something):
    how many pairs met in it."""
    calendar = cycle.calendar
    begins = calendar.milestone(CycleEvent.start_mentoring).date()
    recorded = [d for days in activity.meeting_days.values() for d in days] + [
        c.answered_on for answers in activity.check_ins.values() for c in answers
    ]
    until = max([now.astimezone(calendar.tz).date(), *recorded])
    ends = min(calendar.milestone(CycleEvent.end_mentoring).date(), until)
    out = []
    for month in mentoring_months(begins, ends):
        met = sum(1 for r in rows if month in r.months_met)
        out.append(MonthlyShare(month, met, len(rows)))
    return out


def health_words(share: MonthlyShare) -> str:
    """``January 2027: 41 of 50 pairs met (82%)``."""
    rate = share.share
    percent = "" if rate is None else f" ({rate:.0%})"
    return f"{month_words(share.month)}: {share.pairs_met} of {share.pairs} pairs met{percent}"


def attention_sentence(health: PairHealth) -> str:
    """A flagged pair in the committee's words, without anything a partner wrote."""
    return (
        f"{health.mentor_name} ({health.mentor_id}) and {health.mentee_name} "
        f"({health.mentee_id}): {'; '.join(health.reasons)}"
    )
