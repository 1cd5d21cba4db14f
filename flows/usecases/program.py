"""The per-cycle details the committee sets: orientation session, links, the call list."""

from datetime import datetime
from typing import Any

from domain.activities import Activity, details_activity, require
from domain.cycle import Cycle
from domain.cycle_states import CycleState
from domain.errors import CycleNotFound, DomainError
from domain.followups import orientation_held_key
from domain.program import ProgramDetails
from domain.tasks import Task
from domain.values import actor_name
from flows.usecases.clock import utcnow
from flows.usecases.effects import invite_to_new_session
from flows.usecases.followups import close_tasks
from infra.uow import UnitOfWork

NEW_SESSION_STATES = frozenset({CycleState.orientation, CycleState.active})
"""Where a new orientation session may still be set, if its invitations were held back."""


def details(uow: UnitOfWork, year: int) -> ProgramDetails:
    """The cycle's program details as messages will use them (defaults filled in)."""
    with uow:
        if not uow.cycles.exists(year):
            raise CycleNotFound.for_year(year)
        return uow.settings.program(year)


def set_details(
    uow: UnitOfWork,
    year: int,
    values: dict[str, Any],
    *,
    actor: str,
    now: datetime | None = None,
) -> ProgramDetails:
    """Change some details (validated, audited); refused once the message using them went.

    The orientation invitation carries the session's time and link, and the call goes to
    the list address: changing those after they were sent would leave participants with
    the old ones, so the committee is told to write to them instead. When the invitations
    were held back because the session had begun (a late ``start_orientation``), setting
    the orientation anew queues them for the new session and closes the committee's task
    about them, in the same transaction.
    """
    now = now or utcnow()
    actor = actor_name(actor)
    if not values:
        raise DomainError("nothing to change: name at least one program detail to set")
    with uow:
        cycle = uow.cycles.get(year, for_update=True)
        held = _invitations_held(uow, cycle)
        for name in values:
            activity = details_activity(name)
            if activity is None or (held is not None and activity is Activity.orientation_details):
                continue
            require(activity, cycle.state, year)
        stored = uow.settings.section(year, "program")
        checked = ProgramDetails.from_settings({**stored, **values}, tz=cycle.calendar.tz)
        changes = {name: getattr(checked, name) for name in values}
        uow.settings.update(year, "program", changes)
        fields: dict[str, Any] = dict(changes)
        orientation = any(details_activity(n) is Activity.orientation_details for n in values)
        renewed = held if orientation else None
        if renewed is not None:
            fields["invitations"] = invite_to_new_session(uow, cycle, now)
        uow.audit.append(
            kind="program_details",
            cycle_year=year,
            at=now,
            actor=actor,
            fields=fields,
        )
        if renewed is not None:
            because = "new session set"
            close_tasks(
                uow,
                year,
                [renewed.key],
                actor=actor,
                done_by=f"{actor} ({because})",
                because=because,
                now=now,
            )
        uow.commit()
    return checked


def _invitations_held(uow: UnitOfWork, cycle: Cycle) -> Task | None:
    """The committee's open task about orientation invitations held back, while a new
    session can still be set."""
    if cycle.state not in NEW_SESSION_STATES:
        return None
    key = orientation_held_key(cycle.year)
    return next((t for t in uow.tasks.open_of_cycle(cycle.year) if t.key == key), None)
