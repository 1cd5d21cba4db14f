"""The per-cycle details the committee sets: orientation session, links, the call list."""

from datetime import datetime
from typing import Any

from domain.activities import details_activity, require
from domain.errors import CycleNotFound, DomainError
from domain.program import ProgramDetails
from domain.values import actor_name
from flows.usecases.clock import utcnow
from infra.uow import UnitOfWork


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
    the old ones, so the committee is told to write to them instead.
    """
    now = now or utcnow()
    actor = actor_name(actor)
    if not values:
        raise DomainError("nothing to change: name at least one program detail to set")
    with uow:
        cycle = uow.cycles.get(year, for_update=True)
        for name in values:
            if (activity := details_activity(name)) is not None:
                require(activity, cycle.state, year)
        stored = uow.settings.section(year, "program")
        checked = ProgramDetails.from_settings({**stored, **values}, tz=cycle.calendar.tz)
        changes = {name: getattr(checked, name) for name in values}
        uow.settings.update(year, "program", changes)
        uow.audit.append(
            kind="program_details",
            cycle_year=year,
            at=now,
            actor=actor,
            fields=changes,
        )
        uow.commit()
    return checked
