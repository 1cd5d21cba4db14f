"""Reading the audit log: a cycle's history, and the integrity check."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.audit import AuditRecord, ChainProblem
from domain.cycle_states import CycleState
from infra import seal_book
from infra.seal_book import SealProblem
from infra.uow import UnitOfWork


@dataclass(frozen=True)
class RecordedTransition:
    """One transition as its audit record tells it: what moved, who fired it, how and why."""

    seq: int
    event: str
    source: str
    target: str
    actor: str
    trigger: str
    reason: str | None
    flow_run_id: str | None
    at: datetime
    messages: int | None
    tasks: int | None

    def as_dict(self) -> dict[str, Any]:
        """As ``audit YEAR --json`` lists it under ``transitions``."""
        return {
            "seq": self.seq,
            "event": self.event,
            "source": self.source,
            "target": self.target,
            "actor": self.actor,
            "trigger": self.trigger,
            "reason": self.reason,
            "flow_run_id": self.flow_run_id,
            "at": self.at.isoformat(),
            "messages": self.messages,
            "tasks": self.tasks,
        }


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _count(value: object) -> int | None:
    return value if isinstance(value, int) else None


def transition_of(record: AuditRecord) -> RecordedTransition:
    """Read a ``transition`` audit record (older records may lack the counts)."""
    fields: Mapping[str, object] = record.fields
    return RecordedTransition(
        seq=record.seq,
        event=str(fields["event"]),
        source=str(fields["source"]),
        target=str(fields["target"]),
        actor=record.actor,
        trigger=str(fields["trigger"]),
        reason=_text(fields.get("reason")),
        flow_run_id=_text(fields.get("flow_run_id")),
        at=record.at,
        messages=_count(fields.get("messages")),
        tasks=_count(fields.get("tasks")),
    )


@dataclass(frozen=True)
class CycleHistory:
    """A cycle's transitions and its other audit records, in order, up to ``as_of``."""

    year: int
    as_of: datetime | None
    state: CycleState
    transitions: list[RecordedTransition]
    records: list[AuditRecord]

    def as_dict(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "state": str(self.state),
            "transitions": [t.as_dict() for t in self.transitions],
            "records": [
                {
                    "seq": r.seq,
                    "kind": r.kind,
                    "actor": r.actor,
                    "at": r.at.isoformat(),
                    "fields": dict(r.fields),
                }
                for r in self.records
            ],
        }


def history(uow: UnitOfWork, year: int, as_of: datetime | None = None) -> CycleHistory:
    """The cycle's transitions and other audited records in order, up to ``as_of``."""
    with uow:
        uow.cycles.state_of(year)
        recs = [r for r in uow.audit.records(cycle_year=year) if as_of is None or r.at <= as_of]
    transitions = [transition_of(r) for r in recs if r.kind == "transition"]
    state = CycleState(transitions[-1].target) if transitions else CycleState.planned
    return CycleHistory(
        year, as_of, state, transitions, [r for r in recs if r.kind != "transition"]
    )


@dataclass(frozen=True)
class AuditCheck:
    """What ``audit verify`` found: how many records it checked, and every break."""

    records: int
    problems: list[ChainProblem | SealProblem]

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "records": self.records, "problems": [str(p) for p in self.problems]}


def verify(uow: UnitOfWork) -> AuditCheck:
    """Check the whole chain, and every sealed row against what the program wrote."""
    with uow:
        problems = uow.audit.verify()
        return AuditCheck(uow.audit.head_seq(), problems)


SEALS_REVISION = "0006"


def seal_existing(uow: UnitOfWork, before_revision: str | None, now: datetime) -> int:
    """After a migration from before row seals, seal the rows already there, as they are,
    under one audit record; returns how many. Rows that have a seal are never touched, so
    this blesses no edit of a sealed row (see README, *The audit log*)."""
    if before_revision is None or before_revision >= SEALS_REVISION:
        return 0
    with uow:
        book = seal_book.SealBook.of(uow.session)
        count = 0
        for facet in seal_book.FACETS:
            keys = seal_book.never_sealed(uow.session, facet)
            book.note(facet, keys)
            count += len(keys)
        if count:
            uow.audit.append(
                kind="rows_sealed",
                cycle_year=None,
                at=now,
                actor="db upgrade",
                fields={"rows": count, "why": "written before row seals (migration 0006)"},
            )
            uow.commit()
        return count
