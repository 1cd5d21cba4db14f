"""Loading and saving cycles: rows ↔ the domain's :class:`Cycle`."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from domain.calendar import CycleCalendar
from domain.cycle import Cycle
from domain.cycle_states import CycleEvent, CycleState
from domain.errors import CycleNotFound
from infra.tables import CycleRow, MilestoneRow, PairingSetRow


def load_row(session: Session, year: int, *, for_update: bool = False) -> CycleRow:
    """The cycle's row, locked against concurrent transitions when ``for_update``."""
    query = select(CycleRow).where(CycleRow.year == year)
    if for_update:
        query = query.with_for_update()
    row = session.scalars(query).one_or_none()
    if row is None:
        raise CycleNotFound(
            f"there is no cycle {year}; create it with `mentoring cycle create {year}`"
        )
    return row


def calendar_of(session: Session, row: CycleRow) -> CycleCalendar:
    milestones = session.scalars(select(MilestoneRow).where(MilestoneRow.cycle_year == row.year))
    return CycleCalendar(row.timezone, {CycleEvent(m.event): m.due_at for m in milestones})


def has_approved_pairings(session: Session, year: int) -> bool:
    return bool(
        session.scalar(
            select(
                exists().where(PairingSetRow.cycle_year == year, PairingSetRow.status == "approved")
            )
        )
    )


def to_domain(session: Session, row: CycleRow) -> Cycle:
    return Cycle(
        year=row.year,
        calendar=calendar_of(session, row),
        state=CycleState(row.state),
        has_approved_pairings=has_approved_pairings(session, row.year),
    )


def add(session: Session, cycle: Cycle, now: datetime) -> CycleRow:
    row = CycleRow(
        year=cycle.year,
        state=str(cycle.state),
        timezone=cycle.calendar.timezone,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    save_calendar(session, cycle.year, cycle.calendar)
    return row


def save_calendar(session: Session, year: int, calendar: CycleCalendar) -> None:
    for event, due_at in calendar.milestones.items():
        session.merge(MilestoneRow(cycle_year=year, event=str(event), due_at=due_at))


def all_rows(session: Session) -> Sequence[CycleRow]:
    return session.scalars(select(CycleRow).order_by(CycleRow.year)).all()
