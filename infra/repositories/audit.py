"""The hash-chained audit log: appending, reading, verifying."""

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.audit import GENESIS, Anchor, AuditRecord, ChainProblem, RecordRow, seal
from infra.audit_verify import PARALLEL_FROM, verify_log
from infra.audit_verify_work import BATCH, chain_rows
from infra.seal_book import SealBook, SealProblem
from infra.tables import AuditHeadRow, AuditRow

HEAD_ID = 1


_STREAMED = {"stream_results": True, "yield_per": BATCH}
_LOG = AuditRow.__table__.c
_COLUMNS = (
    _LOG.seq,
    _LOG.kind,
    _LOG.cycle_year,
    _LOG.at,
    _LOG.actor,
    _LOG.fields,
    _LOG.prev_hash,
    _LOG.hash,
)


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

    def head(self) -> tuple[int, str] | None:
        """The stored head: the last record's sequence number and hash."""
        head = self.session.get(AuditHeadRow, HEAD_ID)
        return (head.seq, head.hash) if head else None

    def record(self, seq: int) -> AuditRecord | None:
        """Record ``seq``, if the log holds it."""
        row = self.session.execute(select(*_COLUMNS).where(_LOG.seq == seq)).one_or_none()
        return None if row is None else AuditRecord(*row)

    def last_seq(self) -> int:
        """The highest sequence number the log holds (0 when empty), whatever the head says."""
        return int(self.session.scalar(select(func.max(_LOG.seq))) or 0)

    def records(
        self, cycle_year: int | None = None, kind: str | None = None
    ) -> Iterator[AuditRecord]:
        """Records in sequence order, optionally for one cycle and one kind (columns in
        batches, not ORM objects)."""
        query = select(*_COLUMNS).order_by(_LOG.seq)
        if cycle_year is not None:
            query = query.where(_LOG.cycle_year == cycle_year)
        if kind is not None:
            query = query.where(_LOG.kind == kind)
        result = self.session.execute(query, execution_options=_STREAMED)
        for batch in result.partitions():
            for seq, kind_, year, at, actor, fields, prev_hash, digest in batch:
                yield AuditRecord(seq, kind_, year, at, actor, fields, prev_hash, digest)

    def chain_rows(self) -> Iterator[RecordRow]:
        """Every record as its seal covers it, in sequence order and in batches (see
        :func:`infra.audit_verify_work.chain_rows`)."""
        return chain_rows(self.session)

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

    def verify(
        self, anchors: Sequence[Anchor] = (), parallel_from: int = PARALLEL_FROM
    ) -> list[ChainProblem | SealProblem]:
        """Recompute the whole chain and compare it with the stored head and ``anchors``;
        then check each record's seals against the digest the record holds, and every
        sealed row against its latest seal: in worker processes from ``parallel_from``
        records on (:mod:`infra.audit_verify`)."""
        return verify_log(self.session, anchors, parallel_from)
