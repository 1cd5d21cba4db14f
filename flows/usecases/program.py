"""The per-cycle details the committee sets: orientation session, links, the call list."""

from dataclasses import asdict, fields
from datetime import datetime
from typing import Any

from domain.cycle_states import CycleState
from domain.errors import DomainError
from domain.program import ProgramDetails
from flows.usecases.clock import utcnow
from infra import audit_log, cycle_settings, cycles
from infra.uow import UnitOfWork

SETTABLE = tuple(f.name for f in fields(ProgramDetails))
_SENT_BY = {
    "call_list_address": CycleState.call_open,
    "orientation_at": CycleState.orientation,
    "orientation_minutes": CycleState.orientation,
    "orientation_join_url": CycleState.orientation,
}
_ORDER = list(CycleState)


def details(uow: UnitOfWork, year: int) -> dict[str, Any]:
    """The cycle's program details as messages will use them (defaults filled in)."""
    with uow:
        cycles.load_row(uow.session, year)
        stored = cycle_settings.read(uow.session, year).get("program", {})
        return asdict(ProgramDetails.from_settings(stored))


def set_details(
    uow: UnitOfWork,
    year: int,
    values: dict[str, Any],
    *,
    actor: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Change some details (validated, audited); refused once the message using them went.

    The orientation invitation carries the session's time and link, and the call goes to
    the list address: changing those after they were sent would leave participants with
    the old ones, so the committee is told to write to them instead.
    """
    now = now or utcnow()
    if not values:
        raise DomainError("nothing to change: give at least one option (see --help)")
    if "orientation_at" in values:
        _check_moment(values["orientation_at"])
    with uow:
        session = uow.session
        row = cycles.load_row(session, year, for_update=True)
        state = CycleState(row.state)
        for name in values:
            sent_in = _SENT_BY.get(name)
            if sent_in is not None and _ORDER.index(state) >= _ORDER.index(sent_in):
                raise DomainError(
                    f"cycle {year} is in state {state}: the message using {name} has gone "
                    "out; write to the participants instead"
                )
        stored = cycle_settings.read(session, year).get("program", {})
        checked = ProgramDetails.from_settings({**stored, **values})
        cycle_settings.update(session, year, "program", values)
        audit_log.append(
            session,
            kind="program_details",
            cycle_year=year,
            at=now,
            actor=actor,
            fields=values,
            touched=("cycle_settings",),
        )
        uow.commit()
    return asdict(checked)


def _check_moment(text: str) -> None:
    try:
        datetime.fromisoformat(text)
    except ValueError as error:
        raise DomainError(
            f"orientation_at {text!r} is not a date and time; use e.g. 2026-11-20T13:00"
        ) from error
