"""Reading the audit log: a cycle's history, the integrity check, and the anchor."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.audit import Anchor, AuditRecord, ChainProblem, EmptyLog
from domain.cycle_states import CycleState, Trigger
from domain.errors import MissingValue
from domain.values import actor_name, reason_text
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


def way_in(trigger: Trigger | None, flow_run_id: str | None) -> dict[str, str | None]:
    """An import's or a creation's record's ``trigger`` and ``flow_run_id``, as a
    transition records them, when the caller says through what the change came; nothing
    otherwise."""
    return {} if trigger is None else {"trigger": str(trigger), "flow_run_id": flow_run_id}


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
    """What ``audit verify`` found: how many records it checked, the anchors it held the
    log to, and every break."""

    records: int
    problems: list[ChainProblem | SealProblem]
    anchors: tuple[Anchor, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        """``ok``, ``records`` and ``problems``; ``anchors`` too when it was held to any."""
        held = {"anchors": [str(a) for a in self.anchors]} if self.anchors else {}
        return (
            {"ok": self.ok, "records": self.records}
            | held
            | {"problems": [str(p) for p in self.problems]}
        )


def verify(uow: UnitOfWork, anchors: Sequence[Anchor] = ()) -> AuditCheck:
    """Check the whole chain, that it still extends every anchor, and every sealed row
    against what the program wrote. An anchor beyond the log's last record is refused
    before anything is read: there is nothing there to hold it to."""
    with uow:
        last = uow.audit.last_seq()
        for anchor in anchors:
            anchor.check_within(last)
        problems = uow.audit.verify(anchors)
        return AuditCheck(uow.audit.head_seq(), problems, tuple(anchors))


@dataclass(frozen=True)
class AnchorTaken:
    """``audit anchor``: the head to keep outside the database, given only when the whole
    log verifies against it (an anchor of a tampered log would vouch for the tampering)."""

    check: AuditCheck
    anchor: Anchor | None
    at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        if self.anchor is None:
            return self.check.as_dict() | {"anchor": None}
        return {
            "ok": True,
            "anchor": str(self.anchor),
            "seq": self.anchor.seq,
            "hash": self.anchor.hash,
            "at": self.at.isoformat() if self.at else None,
        }


def take_anchor(uow: UnitOfWork) -> AnchorTaken:
    """The stored head as an anchor, once the whole log verifies: a chain intact from the
    genesis that ends at the head replays to the head's hash, so the anchor vouches for
    exactly the records there are."""
    with uow:
        head = uow.audit.head()
        if head is None or head[0] < 1:
            raise EmptyLog("the audit log is empty: there is nothing to anchor yet")
        check = AuditCheck(head[0], uow.audit.verify())
        record = uow.audit.record(head[0])
        if not check.ok or record is None:
            return AnchorTaken(check, None, None)
        return AnchorTaken(check, Anchor(*head), record.at)


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


@dataclass(frozen=True)
class RowsAccepted:
    """``audit accept``: the rows the committee checked and took as they stand."""

    rows: list[str]
    seq: int

    def as_dict(self) -> dict[str, Any]:
        return {"accepted": self.rows, "audit_record": self.seq}


def accept_rows(
    uow: UnitOfWork, rows: Sequence[str], *, actor: str, reason: str, now: datetime
) -> RowsAccepted:
    """Seal rows changed outside the program as they stand now, under an audit record that
    names who checked them and why: the way on after an outside change was looked into
    (the record keeps the acceptance itself in the history, so nothing is hidden)."""
    actor, reason = actor_name(actor), reason_text(reason)
    if not reason:
        raise MissingValue("reason", "a reason is required: say what was checked")
    parsed = [seal_book.parse_row(text) for text in rows]
    with uow:
        book = seal_book.SealBook.of(uow.session)
        named: list[str] = []
        for facet, key in parsed:
            if not book.current(uow.session, facet, [key]) and not book.expected(
                uow.session, facet, [seal_book.key_text(key)]
            ):
                raise seal_book.UnknownRow(
                    f"{facet.name} has no row {seal_book.key_text(key)}, and never had one"
                )
            book.note(facet, [key])
            named.append(f"{facet.name}:{seal_book.key_text(key)}")
        record = uow.audit.append(
            kind="rows_accepted",
            cycle_year=None,
            at=now,
            actor=actor,
            fields={"rows": named, "reason": reason},
        )
        uow.commit()
        return RowsAccepted(named, record.seq)
