"""The hash-chained audit log: appending, reading, verifying."""

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.audit import GENESIS, AuditRecord, ChainProblem, seal, verify_chain
from infra.seal_book import SealBook, SealProblem
from infra.seal_book import problems as seal_problems
from infra.tables import AuditHeadRow, AuditRow

HEAD_ID = 1


def to_record(row: AuditRow) -> AuditRecord:
    return AuditRecord(
        row.seq, row.kind, row.cycle_year, row.at, row.actor, row.fields, row.prev_hash, row.hash
    )


class AuditLog:
    """Every use case that changes something appends one record here, in its transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def append(
        self,
        *,
        kind: str,
        cycle_year: int | None,
        at: datetime,
        actor: str,
        fields: Mapping[str, object],
    ) -> AuditRecord:
        """Add one record, chained to the current head, committing to the seals of every
        row the transaction wrote since the last record (``infra.seal_book``).

        The head row is locked (``FOR UPDATE`` on PostgreSQL; SQLite holds the write lock
        from ``BEGIN IMMEDIATE``) so concurrent writers append one after the other.
        """
        session = self.session
        session.flush()
        head = session.scalars(
            select(AuditHeadRow).where(AuditHeadRow.id == HEAD_ID).with_for_update()
        ).one_or_none()
        if head is None:
            head = AuditHeadRow(id=HEAD_ID, seq=0, hash=GENESIS)
            session.add(head)
        seq = head.seq + 1
        clean = dict(fields)
        sealed = SealBook.of(session).seal(session, seq)
        if sealed is not None:
            clean["seals"] = sealed
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
        return to_record(row)

    def head_seq(self) -> int:
        head = self.session.get(AuditHeadRow, HEAD_ID)
        return head.seq if head else 0

    def records(
        self, cycle_year: int | None = None, kind: str | None = None
    ) -> Iterator[AuditRecord]:
        """Records in sequence order, optionally for one cycle and one kind."""
        query = select(AuditRow).order_by(AuditRow.seq)
        if cycle_year is not None:
            query = query.where(AuditRow.cycle_year == cycle_year)
        if kind is not None:
            query = query.where(AuditRow.kind == kind)
        for row in self.session.scalars(query.execution_options(yield_per=5000)):
            yield to_record(row)

    def of_kinds(
        self, year: int, kinds: Iterable[str], as_of: datetime | None = None
    ) -> list[AuditRecord]:
        """The cycle's records of these kinds up to ``as_of``, in order (an index serves it)."""
        query = (
            select(AuditRow)
            .where(AuditRow.cycle_year == year, AuditRow.kind.in_(tuple(kinds)))
            .order_by(AuditRow.seq)
        )
        if as_of is not None:
            query = query.where(AuditRow.at <= as_of)
        return [to_record(row) for row in self.session.scalars(query)]

    def counts_by_kind(self, year: int, as_of: datetime | None = None) -> dict[str, int]:
        query = (
            select(AuditRow.kind, func.count())
            .where(AuditRow.cycle_year == year)
            .group_by(AuditRow.kind)
            .order_by(AuditRow.kind)
        )
        if as_of is not None:
            query = query.where(AuditRow.at <= as_of)
        return {kind: int(n) for kind, n in self.session.execute(query).all()}

    def verify(self) -> list[ChainProblem | SealProblem]:
        """Recompute the whole chain and compare it with the stored head; then check every
        sealed row against its latest seal, and each record's seals against its digest."""
        session = self.session
        head = session.get(AuditHeadRow, HEAD_ID)
        committed: dict[int, str] = {}

        def remembering() -> Iterator[AuditRecord]:
            for record in self.records():
                sealed = record.fields.get("seals")
                if isinstance(sealed, dict):
                    committed[record.seq] = str(sealed.get("digest"))
                yield record

        problems: list[ChainProblem | SealProblem] = list(
            verify_chain(remembering(), (head.seq, head.hash) if head else None)
        )
        problems.extend(seal_problems(session, committed))
        return problems
