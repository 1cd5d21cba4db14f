"""The daily tick: fire every transition whose milestone has come, in order."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.cycle_states import CycleEvent, Trigger
from domain.errors import TransitionRefused
from domain.schedule import due_event
from flows.usecases.clock import utcnow
from flows.usecases.cycles import TransitionResult, fire_event
from flows.usecases.reminders import queue_reminders
from infra.uow import UnitOfWork

SCHEDULER = "scheduler"


@dataclass(frozen=True)
class TickReport:
    """What one tick did, and what it could not do (for the committee to act on)."""

    now: datetime
    transitions: tuple[TransitionResult, ...] = ()
    held: tuple[str, ...] = ()
    reminders: int = 0

    def as_dict(self) -> dict[str, Any]:
        """What ``mentoring tick --json`` prints and the daily flow returns."""
        return {
            "now": self.now.isoformat(),
            "transitions": [t.as_dict() for t in self.transitions],
            "held": list(self.held),
        }


def open_cycle_years(uow: UnitOfWork) -> list[int]:
    with uow:
        return uow.cycles.open_years()


def run_tick(
    uow: UnitOfWork, *, now: datetime | None = None, flow_run_id: str | None = None
) -> TickReport:
    """Advance every open cycle as far as its calendar allows at ``now``.

    A cycle whose due event is held by a guard (pairings not approved yet) stops there and
    is reported; the next tick tries again. Running the same tick twice fires nothing new.
    """
    now = now or utcnow()
    transitions: list[TransitionResult] = []
    held: list[str] = []
    reminders = 0
    for year in open_cycle_years(uow):
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
                held.append(str(refusal))
                break
            transitions.append(result)
            if not result.changed:
                break
        reminders += _remind(uow, year, now)
    return TickReport(now, tuple(transitions), tuple(held), reminders)


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
                touched=("messages",),
            )
        uow.commit()
        return queued


def _due(uow: UnitOfWork, year: int, now: datetime) -> CycleEvent | None:
    with uow:
        return due_event(uow.cycles.get(year), now)
