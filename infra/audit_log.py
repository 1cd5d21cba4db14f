"""Appending to and reading the hash-chained audit log."""

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.audit import GENESIS, AuditRecord, ChainProblem, seal, verify_chain
from infra import seals
from infra.tables import AuditHeadRow, AuditRow

HEAD_ID = 1


def append(
    session: Session,
    *,
    kind: str,
    cycle_year: int | None,
    at: datetime,
    actor: str,
    fields: Mapping[str, object],
    touched: Iterable[str] = (),
) -> AuditRow:
    """Add one record in the caller's transaction, chained to the current head.

    The head row is locked (``FOR UPDATE`` on PostgreSQL; SQLite holds the write lock
    from ``BEGIN IMMEDIATE``) so concurrent writers append one after the other.
    """
    head = session.scalars(
        select(AuditHeadRow).where(AuditHeadRow.id == HEAD_ID).with_for_update()
    ).one_or_none()
    if head is None:
        head = AuditHeadRow(id=HEAD_ID, seq=0, hash=GENESIS)
        session.add(head)
    seq = head.seq + 1
    clean = dict(fields)
    if touched and cycle_year is not None:
        clean["digests"] = seals.digests(session, touched, cycle_year)
    digest = seal(seq, kind, cycle_year, at, actor, clean, head.hash)
    row = AuditRow(
        seq=seq,
        kind=kind,
        cycle_year=cycle_year,
        at=at,
        actor=actor,
        fields=clean,
        prev_hash=head.hash,
        hash=digest,
    )
    session.add(row)
    head.seq, head.hash = seq, digest
    session.flush()
    return row


def to_record(row: AuditRow) -> AuditRecord:
    return AuditRecord(
        row.seq, row.kind, row.cycle_year, row.at, row.actor, row.fields, row.prev_hash, row.hash
    )


def records(
    session: Session, cycle_year: int | None = None, kind: str | None = None
) -> Iterator[AuditRecord]:
    """Records in sequence order, optionally for one cycle and one kind."""
    query = select(AuditRow).order_by(AuditRow.seq)
    if cycle_year is not None:
        query = query.where(AuditRow.cycle_year == cycle_year)
    if kind is not None:
        query = query.where(AuditRow.kind == kind)
    for row in session.scalars(query.execution_options(yield_per=5000)):
        yield to_record(row)


def verify(session: Session) -> list[ChainProblem | seals.TableProblem]:
    """Recompute the whole chain and compare it with the stored head; then check each
    audited table against the digest its last audit record holds."""
    head = session.get(AuditHeadRow, HEAD_ID)
    latest: dict[tuple[str, int], tuple[int, str]] = {}

    def remembering() -> Iterator[AuditRecord]:
        for record in records(session):
            recorded = record.fields.get("digests")
            if isinstance(recorded, dict) and record.cycle_year is not None:
                for table, value in recorded.items():
                    latest[(table, record.cycle_year)] = (record.seq, str(value))
            yield record

    problems: list[ChainProblem | seals.TableProblem] = list(
        verify_chain(remembering(), (head.seq, head.hash) if head else None)
    )
    for (table, year), (seq, value) in sorted(latest.items()):
        if seals.digest(session, table, year) != value:
            problems.append(seals.TableProblem(table, year, seq))
    return problems
