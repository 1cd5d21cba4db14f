"""Cycles and their calendars: rows ↔ the domain's :class:`Cycle`.

A stored state, milestone or time zone the domain does not know (a row edited by hand)
is refused naming the cycle and the column (:mod:`infra.repositories.stored`).
"""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from domain.calendar import DEFAULTS, CycleCalendar
from domain.cycle import Cycle
from domain.cycle_states import CycleEvent, CycleState
from domain.errors import CycleNotFound
from domain.pairing_status import PairingSetStatus
from domain.values import cycle_year, known_time_zone
from infra.repositories.stored import IN_THE_DATABASE, UnusableStoredValue
from infra.tables import CycleRow, MilestoneRow, PairingSetRow


class CycleRepository:
    """Load a cycle (locked against concurrent transitions when asked), save its moves."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _row(self, year: int, *, for_update: bool = False) -> CycleRow:
        query = select(CycleRow).where(CycleRow.year == cycle_year(year))
        if for_update:
            query = query.with_for_update()
        row = self.session.scalars(query).one_or_none()
        if row is None:
            raise CycleNotFound.for_year(year)
        return row

    def exists(self, year: int) -> bool:
        """Whether cycle ``year`` exists; a year no cycle can have is refused
        (:func:`domain.values.cycle_year`), not sent to the database."""
        return self.session.get(CycleRow, cycle_year(year)) is not None

    def get(self, year: int, *, for_update: bool = False) -> Cycle:
        """The cycle; ``for_update`` locks its row until the unit of work ends, so
        concurrent transitions queue one behind the other."""
        return self._to_domain(self._row(year, for_update=for_update))

    def state_of(self, year: int, *, for_update: bool = False) -> CycleState:
        return _state(self._row(year, for_update=for_update))

    def calendar(self, year: int) -> CycleCalendar:
        return self._calendar(self._row(year))

    def cancel_reason(self, year: int) -> str | None:
        return self._row(year).cancel_reason

    def all(self) -> list[Cycle]:
        return [self._to_domain(row) for row in self._rows()]

    def years(self) -> list[int]:
        return [row.year for row in self._rows()]

    def open_years(self) -> list[int]:
        """Cycles not in a final state; one whose stored state is unknown counts as open,
        so whoever handles it meets the refusal that names it."""
        return [row.year for row in self._rows() if row.state not in FINAL_STATES]

    def add(self, cycle: Cycle, now: datetime) -> None:
        self.session.add(
            CycleRow(
                year=cycle.year,
                state=str(cycle.state),
                timezone=cycle.calendar.timezone,
                created_at=now,
                updated_at=now,
            )
        )
        self.save_calendar(cycle.year, cycle.calendar)

    def save_state(self, cycle: Cycle, now: datetime, *, cancel_reason: str | None = None) -> None:
        """Record the state the domain moved the cycle to (the row's version column makes
        a concurrent writer's commit fail rather than interleave)."""
        row = self._row(cycle.year)
        row.state = str(cycle.state)
        row.updated_at = now
        if cancel_reason is not None:
            row.cancel_reason = cancel_reason

    def save_calendar(self, year: int, calendar: CycleCalendar) -> None:
        for event, due_at in calendar.milestones.items():
            self.session.merge(MilestoneRow(cycle_year=year, event=str(event), due_at=due_at))

    def _rows(self) -> Sequence[CycleRow]:
        return self.session.scalars(select(CycleRow).order_by(CycleRow.year)).all()

    def _calendar(self, row: CycleRow) -> CycleCalendar:
        if not known_time_zone(row.timezone):
            raise UnusableStoredValue.value(
                row.year,
                "cycles.timezone",
                "time zone",
                row.timezone,
                "is not an IANA time zone name",
                f"{IN_THE_DATABASE}, e.g. to America/Chicago",
            )
        milestones = self.session.scalars(
            select(MilestoneRow).where(MilestoneRow.cycle_year == row.year)
        )
        return CycleCalendar(row.timezone, {_event(row.year, m): m.due_at for m in milestones})

    def _to_domain(self, row: CycleRow) -> Cycle:
        approved = self.session.scalar(
            select(
                exists().where(
                    PairingSetRow.cycle_year == row.year,
                    PairingSetRow.status == PairingSetStatus.approved,
                )
            )
        )
        return Cycle(
            year=row.year,
            calendar=self._calendar(row),
            state=_state(row),
            has_approved_pairings=bool(approved),
        )


FINAL_STATES = frozenset(str(state) for state in CycleState if state.is_final)
_STATES = ", ".join(str(state) for state in CycleState)
_MILESTONES = ", ".join(str(event) for event in DEFAULTS)


def _state(row: CycleRow) -> CycleState:
    try:
        return CycleState(row.state)
    except ValueError:
        raise UnusableStoredValue.value(
            row.year,
            "cycles.state",
            "state",
            row.state,
            "is not a state a cycle can be in",
            f"{IN_THE_DATABASE} to one of {_STATES}",
        ) from None


def _event(year: int, row: MilestoneRow) -> CycleEvent:
    try:
        event = CycleEvent(row.event)
    except ValueError:
        event = None
    if event is None or event not in DEFAULTS:
        raise UnusableStoredValue.value(
            year,
            "milestones.event",
            "milestone",
            row.event,
            "is not an event with a date",
            f"{IN_THE_DATABASE} to one of {_MILESTONES}",
        )
    return event
