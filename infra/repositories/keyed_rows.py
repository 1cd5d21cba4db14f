"""Inserting rows that carry an idempotency key: each key is stored once."""

import functools
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from infra.seal_book import SealBook, facets_of
from infra.tables import Base, check_fits

BATCH = 1000


def insert_new(session: Session, table: type[Base], rows: list[dict[str, Any]]) -> int:
    """Insert rows whose ``key`` is not stored yet; returns how many were new.

    Keys already present are skipped (looked up first, so the count is exact and a rerun
    sends no bodies to the database), and ``ON CONFLICT DO NOTHING`` covers a concurrent
    writer racing us to the same key. Each row is checked against the columns first, so
    SQLite refuses what PostgreSQL would (:func:`infra.tables.check_fits`). The insert goes
    to the table, not the mapped class: a plain executemany of the dicts, without the ORM
    bulk path's per-row bookkeeping, which cost more than the driver's own work
    (benchmarks/RESULTS-queueing.md). The new rows are sealed from the values inserted,
    without reading them back (``infra.seal_book``).
    """
    core = table.__table__
    assert isinstance(core, Table)
    limits = _limits(core)
    for row in rows:
        for name, length in limits:
            value = row.get(name)
            if isinstance(value, str) and (
                (length is not None and len(value) > length) or "\x00" in value
            ):
                check_fits(core, row)  # refuses it, naming the column
    column = core.c.key
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(core).on_conflict_do_nothing(index_elements=["key"])
    added = 0
    for start in range(0, len(rows), BATCH):
        chunk = rows[start : start + BATCH]
        known = set(session.scalars(select(column).where(column.in_([r["key"] for r in chunk]))))
        fresh = [r for r in chunk if r["key"] not in known] if known else chunk
        if fresh:
            session.execute(statement, fresh)
            for facet in facets_of(table):
                SealBook.of(session).inserted(facet, fresh)
        added += len(fresh)
    return added


@functools.cache
def _limits(core: Table) -> tuple[tuple[str, int | None], ...]:
    """Each column's name and length limit, as :func:`infra.tables.check_fits` reads them:
    the rows of one insert are checked without looking the columns up again."""
    return tuple((c.name, getattr(c.type, "length", None)) for c in core.columns)
