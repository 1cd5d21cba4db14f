"""What the database benchmarks share: bulk-loading generated rows, and a clean database."""

import sys
from collections.abc import Iterator
from typing import Any

from sqlalchemy import func, insert, select, text

from infra import db
from infra.tables import Base, CycleRow
from infra.uow import UnitOfWork

BATCH = 5_000


def bulk(uow: UnitOfWork, model: type[Base], rows: Iterator[dict[str, Any]]) -> int:
    """Insert rows in batches, each its own transaction; returns how many."""
    count, batch = 0, []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            count += _insert(uow, model, batch)
            batch = []
    return count + (_insert(uow, model, batch) if batch else 0)


def _insert(uow: UnitOfWork, model: type[Base], batch: list[dict[str, Any]]) -> int:
    with uow:
        uow.session.execute(insert(model), batch)
        uow.commit()
    return len(batch)


def wipe(url: str, allowed: bool) -> None:
    """Migrate, and empty a PostgreSQL database (only a scratch one, or with ``--wipe``)."""
    engine = db.engine_for(url)
    with engine.connect() as conn:
        has_cycles = engine.dialect.has_table(conn, "cycles") and conn.scalar(
            select(func.count()).select_from(CycleRow)
        )
    if has_cycles and not allowed:
        sys.exit(f"{db.redacted(url)} holds cycles; give a scratch database or add --wipe")
    db.upgrade(url)
    if engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
