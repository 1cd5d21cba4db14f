"""The daily tick: fire every transition whose milestone has come, in order, cycle by cycle.

Each cycle is handled in its own units of work, so a cycle whose stored values the program
cannot use (a time zone that is no zone, a committee address that is no address, a row
edited by hand) is reported with its year while every other cycle still moves.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from domain.cycle_states import CycleEvent, Trigger
from domain.errors import DomainError, TransitionRefused
from domain.schedule import due_event
from flows.usecases.clock import utcnow
from flows.usecases.cycles import TransitionResult, fire_event
from flows.usecases.reminders import queue_reminders
from infra.uow import UnitOfWork

SCHEDULER = "scheduler"

# What stops one cycle and no other: a refusal by the rules (a stored value the program
# refuses included: the repositories name the cycle and the column), the database
# refusing that cycle's rows, or a stored value some reader takes unchecked and Python
# cannot read (ValueError; KeyError and ZoneInfoNotFoundError are LookupErrors).
CYCLE_FAILURES = (DomainError, SQLAlchemyError, ValueError, LookupError)


@dataclass(frozen=True)
class CycleFailure:
    """A cycle the tick could not move, and why, in one sentence."""

    year: int
    error: str

    @property
    def message(self) -> str:
        return f"cycle {self.year} could not move: {self.error}"

    def as_dict(self) -> dict[str, Any]:
        return {"year": self.year, "error": self.error}


@dataclass(frozen=True)
class TickReport:
    """What one tick did, and what it could not do (for the committee to act on)."""

    now: datetime
    transitions: tuple[TransitionResult, ...] = ()
    held: tuple[str, ...] = ()
    reminders: int = 0
    failed: tuple[CycleFailure, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """What ``mentoring tick --json`` prints and the daily flow returns."""
        return {
            "now": self.now.isoformat(),
            "transitions": [t.as_dict() for t in self.transitions],
            "held": list(self.held),
            "failed": [f.as_dict() for f in self.failed],
        }


def run_tick(
    uow: UnitOfWork, *, now: datetime | None = None, flow_run_id: str | None = None
) -> TickReport:
    """Advance every open cycle as far as its calendar allows at ``now``.

    A cycle whose due event is held by a guard (pairings not approved yet) stops there and
    is reported; the next tick tries again. A cycle that cannot be handled at all is
    reported in ``failed`` and the tick goes on to the next; what it did commit before
    failing stands. Running the same tick twice fires nothing new.
    """
    now = now or utcnow()
    transitions: list[TransitionResult] = []
    held: list[str] = []
    failed: list[CycleFailure] = []
    reminders = 0
    for year in _open_years(uow):
        try:
            for step in _advance(uow, year, now, flow_run_id):
                if isinstance(step, TransitionResult):
                    transitions.append(step)
                else:
                    held.append(step)
            reminders += _remind(uow, year, now)
        except CYCLE_FAILURES as error:
            failed.append(CycleFailure(year, _one_sentence(error)))
    return TickReport(now, tuple(transitions), tuple(held), reminders, tuple(failed))


def _open_years(uow: UnitOfWork) -> list[int]:
    """The cycles not in a final state; one whose stored state is unknown counts as open,
    so that its own handling meets the refusal and reports it."""
    with uow:
        return uow.cycles.open_years()


def _advance(
    uow: UnitOfWork, year: int, now: datetime, flow_run_id: str | None
) -> Iterator[TransitionResult | str]:
    """Fire the cycle's due events one after another, yielding each result as it commits,
    or the refusal that holds the cycle (then stop)."""
    while (event := _due(uow, year, now)) is not None:
        try:
            result = fire_event(
                uow,
                year,
                event,
                actor=SCHEDULER,
                trigger=Trigger.schedule,
                now=now,
                flow_run_id=flow_run_id,
            )
        except TransitionRefused as refusal:
            yield str(refusal)
            return
        yield result
        if not result.changed:
            return


def _remind(uow: UnitOfWork, year: int, now: datetime) -> int:
    """Queue the cycle's due reminders, audited, with the cycle locked against a transition."""
    with uow:
        cycle = uow.cycles.get(year, for_update=True)
        queued = queue_reminders(uow, cycle, now)
        if queued:
            uow.audit.append(
                kind="reminders_queued",
                cycle_year=year,
                at=now,
                actor=SCHEDULER,
                fields={"messages": queued},
            )
        uow.commit()
        return queued


def _due(uow: UnitOfWork, year: int, now: datetime) -> CycleEvent | None:
    with uow:
        return due_event(uow.cycles.get(year), now)


def _one_sentence(error: Exception) -> str:
    """The error as one line for the committee: a refusal's own sentence; otherwise what
    kind of trouble it was, with the first line of its detail."""
    if isinstance(error, DomainError):
        return _first_line(str(error))
    if isinstance(error, DBAPIError):
        return f"database error: {_first_line(str(error.orig))}"
    if isinstance(error, SQLAlchemyError):
        return f"database error: {_first_line(str(error))}"
    return f"a stored value cannot be read ({type(error).__name__}: {_first_line(str(error))})"


def _first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0].strip() if lines else "no detail given"
