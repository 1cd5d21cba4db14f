"""Use cases on a cycle: create it, fire one event, move a milestone, describe it.

``fire_event`` is the one function the CLI, the Prefect flows and the tests all call to
move a cycle; the flows add orchestration around it, never rules.
"""

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from domain import cycle as cycle_rules
from domain.activities import Activity, require
from domain.calendar import CycleCalendar, parse_milestone
from domain.cycle import Cycle, events_from
from domain.cycle_states import CycleEvent, CycleState, Trigger
from domain.errors import DomainError, MissingValue
from domain.values import actor_name, cycle_year, reason_text, time_zone_name
from flows.usecases.assessment import response_rate
from flows.usecases.audit import way_in
from flows.usecases.clock import utcnow
from flows.usecases.effects import on_transition
from infra.uow import ChangedConcurrently, UnitOfWork


@dataclass(frozen=True)
class TransitionResult:
    """The outcome of one ``fire_event`` call, for every entry point to report."""

    year: int
    event: str
    source: str
    target: str
    changed: bool
    message: str
    audit_seq: int | None = None
    messages: int = 0
    tasks: int = 0
    not_sent: tuple[str, ...] = ()  # notices held back because their moment had passed

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class CycleCreation:
    """Whether ``create_cycle`` created the cycle, or found it there already."""

    year: int
    created: bool
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"created": self.created, "message": self.message}


@dataclass(frozen=True)
class CycleView:
    """A cycle as ``cycle show`` and ``cycle list`` present it: state, calendar (milestone
    → ISO datetime) and the events its state has a transition for."""

    year: int
    state: CycleState
    timezone: str
    calendar: Mapping[str, str]
    allowed_events: tuple[CycleEvent, ...]
    has_approved_pairings: bool
    cancel_reason: str | None

    @classmethod
    def of(cls, cycle: Cycle, cancel_reason: str | None) -> "CycleView":
        return cls(
            cycle.year,
            cycle.state,
            cycle.calendar.timezone,
            cycle.calendar.as_iso(),
            tuple(events_from(cycle.state)),
            cycle.has_approved_pairings,
            cancel_reason,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "state": str(self.state),
            "timezone": self.timezone,
            "calendar": dict(self.calendar),
            "allowed_events": [str(e) for e in self.allowed_events],
            "has_approved_pairings": self.has_approved_pairings,
            "cancel_reason": self.cancel_reason,
        }


def fire_event(
    uow: UnitOfWork,
    year: int,
    event: CycleEvent,
    *,
    actor: str,
    trigger: Trigger,
    reason: str | None = None,
    now: datetime | None = None,
    flow_run_id: str | None = None,
) -> TransitionResult:
    """Fire ``event`` on cycle ``year`` as ``actor``: state change and audit record commit
    together, or nothing does. Concurrent callers queue on the cycle's row lock; the ones
    that come after the winner find the target state and do nothing."""
    now = now or utcnow()
    actor = actor_name(actor)
    if reason is not None:
        reason = reason_text(reason)
    with uow:
        cycle = uow.cycles.get(year, for_update=True)
        decision = cycle_rules.fire(cycle, event, now=now, trigger=trigger, reason=reason)
        if not decision.changed:
            return TransitionResult(
                year,
                str(event),
                str(decision.source),
                str(decision.target),
                False,
                f"cycle {year} is already in state {decision.target}; nothing to do",
            )
        cancelling = event is CycleEvent.cancel
        uow.cycles.save_state(cycle, now, cancel_reason=reason if cancelling else None)
        effects = on_transition(uow, cycle, event, now)
        closing: dict[str, Any] = {}
        if event is CycleEvent.complete_assessment:
            closing["assessment"] = response_rate(uow, year)
        record = uow.audit.append(
            kind="transition",
            cycle_year=year,
            at=now,
            actor=actor,
            fields={
                "event": str(event),
                "source": str(decision.source),
                "target": str(decision.target),
                "trigger": str(trigger),
                "reason": reason,
                "flow_run_id": flow_run_id,
                "early": decision.early,
                **effects,
                **closing,
            },
        )
        try:
            uow.commit()
        except ChangedConcurrently as err:
            raise DomainError(
                f"cycle {year} was changed by someone else at the same moment; "
                "look at its state and try again"
            ) from err
    not_sent = tuple(effects.get("not_sent", ()))
    held = "".join(f"; not sent: {sentence}" for sentence in not_sent)
    return TransitionResult(
        year,
        str(event),
        str(decision.source),
        str(decision.target),
        True,
        f"cycle {year}: {decision.source} → {decision.target} ({event} by {actor}); "
        f"{effects['messages']} message(s) queued, {effects['tasks']} task(s) created{held}",
        record.seq,
        effects["messages"],
        effects["tasks"],
        not_sent,
    )


def create_cycle(
    uow: UnitOfWork,
    year: int,
    *,
    timezone: str,
    milestones: Mapping[CycleEvent, str],
    actor: str,
    now: datetime | None = None,
    trigger: Trigger | None = None,
    flow_run_id: str | None = None,
) -> CycleCreation:
    """A new cycle in ``planned`` with the default calendar and the committee's changes.

    Creating a cycle that exists is a no-op when nothing different was asked for.
    ``trigger`` and ``flow_run_id``, when given, say through what the creation came (a run
    started from a form), as a transition's record does; the command line gives neither.
    """
    now = now or utcnow()
    year = cycle_year(year)
    timezone = time_zone_name(timezone, "timezone")
    actor = actor_name(actor)
    calendar = CycleCalendar.default(year, timezone)
    changes = {e: parse_milestone(e, text, calendar.tz) for e, text in milestones.items()}
    calendar = calendar.with_changes(changes)
    with uow:
        if uow.cycles.exists(year):
            existing = uow.cycles.get(year)
            if milestones or existing.calendar.timezone != timezone:
                raise DomainError(
                    f"cycle {year} already exists (state {existing.state}); reschedule it "
                    "to change its dates"
                )
            return CycleCreation(
                year, False, f"cycle {year} already exists (state {existing.state}); nothing to do"
            )
        uow.cycles.add(Cycle(year, calendar), now)
        uow.audit.append(
            kind="cycle_created",
            cycle_year=year,
            at=now,
            actor=actor,
            fields={
                "timezone": timezone,
                "calendar": calendar.as_iso(),
                **way_in(trigger, flow_run_id),
            },
        )
        uow.commit()
    return CycleCreation(year, True, f"cycle {year} created in state planned ({timezone})")


def reschedule(
    uow: UnitOfWork,
    year: int,
    milestones: Mapping[CycleEvent, str],
    *,
    actor: str,
    now: datetime | None = None,
) -> CycleCalendar:
    """Move milestones that have not passed yet; the change is audited."""
    now = now or utcnow()
    actor = actor_name(actor)
    if not milestones:
        raise MissingValue("milestones", "name at least one milestone to move")
    with uow:
        cycle = uow.cycles.get(year, for_update=True)
        require(Activity.rescheduling, cycle.state, year)
        calendar = cycle.calendar
        changes = {e: parse_milestone(e, text, calendar.tz) for e, text in milestones.items()}
        before = calendar.as_iso()
        calendar = calendar.with_changes(changes, now=now)
        uow.cycles.save_calendar(year, calendar)
        uow.audit.append(
            kind="calendar_changed",
            cycle_year=year,
            at=now,
            actor=actor,
            fields={
                "changes": {str(e): calendar.as_iso()[str(e)] for e in changes},
                "before": {str(e): before[str(e)] for e in changes},
            },
        )
        uow.commit()
    return calendar


def describe(uow: UnitOfWork, year: int) -> CycleView:
    """What ``cycle show`` prints: state, calendar, and the events allowed now."""
    with uow:
        return CycleView.of(uow.cycles.get(year), uow.cycles.cancel_reason(year))


def is_due(uow: UnitOfWork, year: int, event: CycleEvent, now: datetime | None = None) -> bool:
    """Whether ``event``'s milestone has come for cycle ``year``."""
    with uow:
        calendar = uow.cycles.calendar(year)
    return calendar.is_due(event, now or utcnow())


def list_all(uow: UnitOfWork) -> list[CycleView]:
    """Every cycle, earliest first."""
    with uow:
        return [CycleView.of(c, uow.cycles.cancel_reason(c.year)) for c in uow.cycles.all()]
