"""The parts of ``audit verify`` that run on their own: a range of the chain, the seal
entries of that range, and the rows of some sealed tables.

Each part reads only what it checks, so :mod:`infra.audit_verify` can give the parts to
worker processes (each on its own connection, reading what the verifying transaction
sees) and join what they find; on a small log the same parts run in one process.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import (
    ColumnElement,
    Engine,
    String,
    Text,
    cast,
    create_engine,
    func,
    select,
    type_coerce,
)
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from domain.audit import Anchor, ChainRun, RecordRow, check_run, sealed_time
from infra.audit_verify_rows import row_problems
from infra.seal_book import FACETS, SealProblem, record_problems
from infra.tables import AuditRow

BATCH = 10_000
_STREAMED = {"stream_results": True, "yield_per": BATCH}
"""Reading the log ``BATCH`` records at a time, through a server-side cursor where the
database has one (PostgreSQL), so memory stays flat however long the log grows."""

_LOG = AuditRow.__table__.c
_UNREADABLE = "unreadable JSON"
"""The key a record's fields are kept under when they are not JSON: no seal matches it."""
_DECODE = json.JSONDecoder().raw_decode
_SNAPSHOT = re.compile(r"[0-9A-Fa-f-]{1,64}")


def chain_rows(
    session: Session, low: int | None = None, high: int | None = None
) -> Iterator[RecordRow]:
    """Every record from ``low`` up to (not including) ``high`` as its seal covers it, in
    sequence order and in batches: the time as UTC ISO text and the fields parsed from
    their stored JSON, read as plain columns (no ORM object, no datetime per record)."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    at: ColumnElement[str] = (
        type_coerce(_LOG.at, String)
        if sqlite
        else func.to_char(func.timezone("UTC", _LOG.at), 'YYYY-MM-DD"T"HH24:MI:SS.US')
    )
    fields: ColumnElement[str] = (
        type_coerce(_LOG.fields, String) if sqlite else cast(_LOG.fields, Text)
    )
    query = select(
        _LOG.seq, _LOG.kind, _LOG.cycle_year, at, _LOG.actor, fields, _LOG.prev_hash, _LOG.hash
    ).order_by(_LOG.seq)
    if low is not None:
        query = query.where(_LOG.seq >= low)
    if high is not None:
        query = query.where(_LOG.seq < high)
    result = session.execute(query, execution_options=_STREAMED)
    for batch in result.partitions():
        for seq, kind, year, when, actor, text, prev_hash, digest in batch:
            yield seq, kind, year, _utc_text(when), actor, _parsed(text), prev_hash, digest


@dataclass(frozen=True)
class ChainPart:
    """Records ``low`` up to (not including) ``high`` (None: no bound) of the log on
    ``url``, read in the transaction ``snapshot`` names (PostgreSQL; None: as committed)."""

    url: str
    snapshot: str | None
    low: int | None
    high: int | None
    anchors: tuple[Anchor, ...]
    replay_from: str | None  # the replayed hash before it, when known (the genesis's)


@dataclass(frozen=True)
class ChainFound:
    """What a part of the chain holds: the run's check, and its records' seal entries
    against the digests they commit to."""

    run: ChainRun
    seals: tuple[SealProblem, ...]


@dataclass(frozen=True)
class RowsPart:
    """The sealed rows of ``facets`` (their names) in the database on ``url``."""

    url: str
    snapshot: str | None
    facets: tuple[str, ...]


def check_chain(
    session: Session,
    low: int | None,
    high: int | None,
    anchors: Sequence[Anchor],
    replay_from: str | None = None,
) -> ChainFound:
    """Records ``low`` up to (not including) ``high`` (None: no bound), and the seal
    entries of those records; the replay from ``replay_from`` (see
    :func:`domain.audit.check_run`)."""
    committed: dict[int, str] = {}

    def remembering() -> Iterator[RecordRow]:
        for row in chain_rows(session, low, high):
            fields = row[5]
            sealed = fields.get("seals") if isinstance(fields, dict) else None
            if isinstance(sealed, dict):
                committed[row[0]] = str(sealed.get("digest"))
            yield row

    run = check_run(remembering(), anchors, replay_from)
    seals = record_problems(session, committed, low, high)
    return ChainFound(run, tuple(seals))


def chain_part(part: ChainPart) -> ChainFound:
    """:func:`check_chain` in a worker process, on its own connection."""
    with _reading(part.url, part.snapshot) as session:
        return check_chain(session, part.low, part.high, part.anchors, part.replay_from)


def rows_part(part: RowsPart) -> list[SealProblem]:
    """:func:`infra.audit_verify_rows.row_problems` for some tables, in a worker process."""
    facets = tuple(f for f in FACETS if f.name in part.facets)
    with _reading(part.url, part.snapshot) as session:
        return row_problems(session, facets)


@functools.cache
def _engine(url: str) -> Engine:
    """An engine that only reads: no ``BEGIN IMMEDIATE`` on SQLite (the verifying
    transaction holds the write lock; readers beside it see what it sees), and no pool."""
    if url.startswith("sqlite"):
        return create_engine(url, poolclass=NullPool, connect_args={"timeout": 30})
    return create_engine(url, poolclass=NullPool)


@contextmanager
def _reading(url: str, snapshot: str | None) -> Iterator[Session]:
    """A read-only session; on PostgreSQL in the snapshot the verifying transaction
    exported, so every part reads the same moment of the database."""
    with _engine(url).connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            if snapshot is not None and _SNAPSHOT.fullmatch(snapshot):
                connection.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
        with Session(bind=connection) as session:
            yield session
        connection.rollback()


def _utc_text(stored: str) -> str:
    """A stored time as :func:`domain.audit.sealed_time` writes it. Both databases give
    ``YYYY-MM-DD?HH:MM:SS.ffffff`` in UTC (SQLite as kept, PostgreSQL through ``to_char``);
    anything else is parsed, and text that is no time at all is kept as it is, so its
    record's seal fails instead of the check."""
    if len(stored) == 26 and stored[19] == ".":
        whole = f"{stored[:10]}T{stored[11:19]}"
        micro = stored[19:]
        return f"{whole}+00:00" if micro == ".000000" else f"{whole}{micro}+00:00"
    try:
        at = datetime.fromisoformat(stored)
    except ValueError:
        return stored
    return sealed_time(at if at.tzinfo else at.replace(tzinfo=UTC))


def _parsed(text: str) -> Mapping[str, object]:
    """A record's stored fields; text that is not JSON is kept where no seal can match it.

    ``raw_decode`` first: it skips ``json.loads``' checks around the same C scanner, which
    is most of its cost on short texts; whatever it does not take whole goes to ``loads``.
    """
    fields: Mapping[str, object]
    try:
        fields, end = _DECODE(text)
        if end == len(text):
            return fields
    except ValueError:
        pass
    try:
        fields = json.loads(text)
    except ValueError:
        return {_UNREADABLE: text}
    return fields
