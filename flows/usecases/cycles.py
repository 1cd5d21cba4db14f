"""Use cases on a cycle: create it, fire one event, move a milestone, describe it.

``fire_event`` is the one function the CLI, the Prefect flows and the tests all call to
move a cycle; the flows add orchestration around it, never rules.
"""

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm.exc import StaleDataError

from domain import cycle as cycle_rules
from domain.calendar import CycleCalendar, parse_milestone
from domain.cycle import Cycle, events_from
from domain.cycle_states import CycleEvent, CycleState, Trigger
from domain.errors import DomainError
from flows.usecases.assessment import response_rate
from flows.usecases.clock import utcnow
from flows.usecases.effects import on_transition
from infra import audit_log, cycles
from infra.tables import CycleRow
from infra.uow import UnitOfWork


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

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


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
    if not actor.strip():
        raise DomainError("an actor is required: say who fires the event (--actor NAME)")
    with uow:
        session = uow.session
        row = cycles.load_row(session, year, for_update=True)
        cycle = cycles.to_domain(session, row)
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
        row.state = str(cycle.state)
        row.updated_at = now
        if event is CycleEvent.cancel:
            row.cancel_reason = reason
        effects = on_transition(session, cycle, event, now)
        closing: dict[str, Any] = {}
        if event is CycleEvent.complete_assessment:
            closing["assessment"] = response_rate(session, year)
        record = audit_log.append(
            session,
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
            touched=("cycles", "messages", "tasks"),
        )

        try:
            uow.commit()
        except StaleDataError as err:
            raise DomainError(
                f"cycle {year} was changed by someone else at the same moment; "
                "look at `mentoring cycle show` and try again"
            ) from err
    return TransitionResult(
        year,
        str(event),
        str(decision.source),
        str(decision.target),
        True,
        f"cycle {year}: {decision.source} → {decision.target} ({event} by {actor}); "
        f"{effects['messages']} message(s) queued, {effects['tasks']} task(s) created",
        record.seq,
        effects["messages"],
        effects["tasks"],
    )


def create_cycle(
    uow: UnitOfWork,
    year: int,
    *,
    timezone: str,
    milestones: Mapping[CycleEvent, str],
    actor: str,
    now: datetime | None = None,
) -> tuple[bool, str]:
    """A new cycle in ``planned`` with the default calendar and the committee's changes.

    Creating a cycle that exists is a no-op when nothing different was asked for.
    """
    now = now or utcnow()
    calendar = CycleCalendar.default(year, timezone)
    changes = {e: parse_milestone(e, text, calendar.tz) for e, text in milestones.items()}
    calendar = calendar.with_changes(changes)
    with uow:
        existing = uow.session.get(CycleRow, year)
        if existing is not None:
            if milestones or existing.timezone != timezone:
                raise DomainError(
                    f"cycle {year} already exists (state {existing.state}); change its dates "
                    f"with `mentoring cycle reschedule {year}`"
                )
            return False, f"cycle {year} already exists (state {existing.state}); nothing to do"
        cycles.add(uow.session, Cycle(year, calendar), now)
        audit_log.append(
            uow.session,
            kind="cycle_created",
            cycle_year=year,
            at=now,
            actor=actor,
            fields={"timezone": timezone, "calendar": calendar.as_iso()},
            touched=("cycles", "milestones"),
        )
        uow.commit()
    return True, f"cycle {year} created in state planned ({timezone})"


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
    if not milestones:
        raise DomainError(
            "name at least one milestone to move, e.g. --close-applications 2026-10-07"
        )
    with uow:
        row = cycles.load_row(uow.session, year, for_update=True)
        if CycleState(row.state).is_final:
            raise DomainError(f"cycle {year} is {row.state}; its calendar is closed")
        calendar = cycles.calendar_of(uow.session, row)
        changes = {e: parse_milestone(e, text, calendar.tz) for e, text in milestones.items()}
        before = calendar.as_iso()
        calendar = calendar.with_changes(changes, now=now)
        cycles.save_calendar(uow.session, year, calendar)
        audit_log.append(
            uow.session,
            kind="calendar_changed",
            cycle_year=year,
            at=now,
            actor=actor,
            fields={
                "changes": {str(e): calendar.as_iso()[str(e)] for e in changes},
                "before": {str(e): before[str(e)] for e in changes},
            },
            touched=("milestones",),
        )
        uow.commit()
    return calendar


def describe(uow: UnitOfWork, year: int) -> dict[str, Any]:
    """What ``cycle show`` prints: state, calendar, and the events allowed now."""
    with uow:
        row = cycles.load_row(uow.session, year)
        cycle = cycles.to_domain(uow.session, row)
        return _summary(cycle, row.cancel_reason)


def is_due(uow: UnitOfWork, year: int, event: CycleEvent, now: datetime | None = None) -> bool:
    """Whether ``event``'s milestone has come for cycle ``year``."""
    with uow:
        calendar = cycles.calendar_of(uow.session, cycles.load_row(uow.session, year))
    return calendar.is_due(event, now or utcnow())


def list_all(uow: UnitOfWork) -> list[dict[str, Any]]:
    with uow:
        return [
            _summary(cycles.to_domain(uow.session, row), row.cancel_reason)
            for row in cycles.all_rows(uow.session)
        ]


def _summary(cycle: Cycle, cancel_reason: str | None) -> dict[str, Any]:
    return {
        "year": cycle.year,
        "state": str(cycle.state),
        "timezone": cycle.calendar.timezone,
        "calendar": cycle.calendar.as_iso(),
        "allowed_events": [str(e) for e in events_from(cycle.state)],
        "has_approved_pairings": cycle.has_approved_pairings,
        "cancel_reason": cancel_reason,
    }
