"""Reading the audit log: a cycle's history, and the integrity check."""

from datetime import datetime
from typing import Any

from domain.audit import ChainProblem
from flows.usecases.audit_story import transition_of
from infra import audit_log, cycles
from infra.seals import TableProblem
from infra.tables import AuditHeadRow
from infra.uow import UnitOfWork


def history(uow: UnitOfWork, year: int, as_of: datetime | None = None) -> dict[str, Any]:
    """The cycle's transitions and other audited records in order, up to ``as_of``."""
    with uow:
        cycles.load_row(uow.session, year)
        recs = [
            r
            for r in audit_log.records(uow.session, cycle_year=year)
            if as_of is None or r.at <= as_of
        ]
    transitions = [transition_of(r) for r in recs if r.kind == "transition"]
    state = transitions[-1]["target"] if transitions else "planned"
    return {
        "year": year,
        "as_of": as_of.isoformat() if as_of else None,
        "state": state,
        "transitions": transitions,
        "records": [
            {
                "seq": r.seq,
                "kind": r.kind,
                "actor": r.actor,
                "at": r.at.isoformat(),
                "fields": dict(r.fields),
            }
            for r in recs
            if r.kind != "transition"
        ],
    }


def verify(uow: UnitOfWork) -> tuple[int, list[ChainProblem | TableProblem]]:
    """How many records were checked, and every break found in the chain."""
    with uow:
        problems = audit_log.verify(uow.session)
        head = uow.session.get(AuditHeadRow, audit_log.HEAD_ID)
        return (head.seq if head else 0), problems
