"""The daily tick: fire every transition whose milestone has come, in order."""

from dataclasses import dataclass, field
from datetime import datetime

from domain.cycle_states import CycleEvent, CycleState, Trigger
from domain.errors import TransitionRefused
from domain.schedule import due_event
from flows.usecases.clock import utcnow
from flows.usecases.cycles import TransitionResult, fire_event
from flows.usecases.reminders import queue_reminders
from infra import audit_log, cycles
from infra.uow import UnitOfWork

SCHEDULER = "scheduler"


@dataclass
class TickReport:
    """What one tick did, and what it could not do (for the committee to act on)."""

    now: datetime
    transitions: list[TransitionResult] = field(default_factory=list)
    held: list[str] = field(default_factory=list)
    reminders: int = 0


def open_cycle_years(uow: UnitOfWork) -> list[int]:
    with uow:
        return [r.year for r in cycles.all_rows(uow.session) if not CycleState(r.state).is_final]


def run_tick(
    uow: UnitOfWork, *, now: datetime | None = None, flow_run_id: str | None = None
) -> TickReport:
    """Advance every open cycle as far as its calendar allows at ``now``.

    A cycle whose due event is held by a guard (pairings not approved yet) stops there and
    is reported; the next tick tries again. Running the same tick twice fires nothing new.
    """
    report = TickReport(now or utcnow())
    for year in open_cycle_years(uow):
        while (event := _due(uow, year, report.now)) is not None:
            try:
                result = fire_event(
                    uow,
                    year,
                    event,
                    actor=SCHEDULER,
                    trigger=Trigger.schedule,
                    now=report.now,
                    flow_run_id=flow_run_id,
                )
            except TransitionRefused as refusal:
                report.held.append(str(refusal))
                break
            report.transitions.append(result)
            if not result.changed:
                break
        report.reminders += _remind(uow, year, report.now)
    return report


def _remind(uow: UnitOfWork, year: int, now: datetime) -> int:
    with uow:
        cycle = cycles.to_domain(uow.session, cycles.load_row(uow.session, year, for_update=True))
        queued = queue_reminders(uow.session, cycle, now)
        if queued:
            audit_log.append(
                uow.session,
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
        return due_event(cycles.to_domain(uow.session, cycles.load_row(uow.session, year)), now)
