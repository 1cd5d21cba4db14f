"""``audit verify`` over the whole log, on every core when the log is long.

The check is cut into parts that need nothing from each other: the chain by ranges of
record numbers (each part with its records' seal entries), and the sealed tables. On a
long log each part runs in a worker process with its own connection, all reading the
database as the verifying transaction sees it (SQLite: that transaction holds the write
lock, so nothing changes meanwhile; PostgreSQL: the workers import its snapshot); the
parts are then joined into exactly what one pass would find, in the same order. A short
log (or an in-memory database, or a daemon process) is checked in this process:
starting workers costs more than they save.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from domain.audit import GENESIS, Anchor, ChainProblem, ChainRun, joined
from infra import db
from infra.audit_verify_rows import row_problems
from infra.audit_verify_work import (
    ChainFound,
    ChainPart,
    RowsPart,
    chain_part,
    check_chain,
    rows_part,
)
from infra.seal_book import FACETS, SealProblem
from infra.tables import AuditHeadRow, AuditRow

PARALLEL_FROM = 50_000
"""Below this many records the check stays in one process."""
PARTS_PER_WORKER = 4
"""Chain parts per worker: enough that one slow part leaves the others work to share."""
ROW_PARTS: tuple[tuple[str, ...], ...] = (
    ("messages",),
    ("message_state",),
    ("tasks",),
    tuple(f.name for f in FACETS if f.name not in {"messages", "message_state", "tasks"}),
)
"""The sealed tables in parts, the largest first."""
BIG_ROW_PARTS = 2
"""How many of them take longer than a part of the chain."""
_ORDER = {facet.name: n for n, facet in enumerate(FACETS)}
_HEAD_ID = 1
_LOG = AuditRow.__table__.c
_MOMENT = text(
    "SELECT pg_export_snapshot(), (SELECT max(seq) FROM audit_log), "
    "(SELECT seq FROM audit_head WHERE id = :id), (SELECT hash FROM audit_head WHERE id = :id)"
)


def verify_log(
    session: Session, anchors: Sequence[Anchor] = (), parallel_from: int = PARALLEL_FROM
) -> list[ChainProblem | SealProblem]:
    """The chain's problems (records, head, anchors), then each record's seal entries
    against its digest, then every sealed row against its latest seal."""
    workers = os.cpu_count() or 1
    url = _shared_url(session)
    last = int(session.scalar(select(func.max(_LOG.seq))) or 0)
    daemon = multiprocessing.current_process().daemon  # it may start no process
    if url is None or workers < 2 or daemon or last < parallel_from:
        return _in_process(session, anchors)
    return _in_workers(session, url, anchors, workers)


def _in_process(session: Session, anchors: Sequence[Anchor]) -> list[ChainProblem | SealProblem]:
    found = check_chain(session, None, None, anchors, GENESIS)
    problems: list[ChainProblem | SealProblem] = list(joined([found.run], _head(session), anchors))
    problems.extend(found.seals)
    problems.extend(row_problems(session))
    return problems


def _in_workers(
    session: Session, url: str, anchors: Sequence[Anchor], workers: int
) -> list[ChainProblem | SealProblem]:
    snapshot, last, head = _moment(session)
    count = workers * PARTS_PER_WORKER
    step = max(1, -(-last // count))
    edges: list[int | None] = [None, *range(1 + step, last + 1, step), None]
    held = tuple(anchors)
    parts = [
        ChainPart(url, snapshot, low, high, held, GENESIS if low is None else None)
        for low, high in itertools.pairwise(edges)
    ]
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["__main__", "infra.audit_verify_work"])
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        # The longest parts first, the short ones last to fill in: the largest tables,
        # then the chain from its newest records (those carry the most seal entries).
        big, small = ROW_PARTS[:BIG_ROW_PARTS], ROW_PARTS[BIG_ROW_PARTS:]
        rows: list[Future[list[SealProblem]]] = [
            pool.submit(rows_part, RowsPart(url, snapshot, facets)) for facets in big
        ]
        chain: list[Future[ChainFound]] = [
            pool.submit(chain_part, part) for part in reversed(parts)
        ][::-1]
        rows += [pool.submit(rows_part, RowsPart(url, snapshot, facets)) for facets in small]
        found = [future.result() for future in chain]

        def again(index: int, replayed: str) -> ChainRun:
            part = parts[index]
            return check_chain(session, part.low, part.high, anchors, replayed).run

        problems: list[ChainProblem | SealProblem] = list(
            joined((f.run for f in found), head, anchors, again)
        )
        problems.extend(p for f in found for p in f.seals)
        sealed = [p for future in rows for p in future.result()]
    in_order: list[SealProblem] = sorted(sealed, key=_facet_order)
    problems.extend(in_order)
    return problems


def _facet_order(problem: SealProblem) -> int:
    return _ORDER.get(problem.facet, len(_ORDER))


def _shared_url(session: Session) -> str | None:
    """The URL a worker process can open the session's database with (None: it cannot,
    an in-memory SQLite database)."""
    url = session.get_bind().engine.url
    shown = url.render_as_string(hide_password=False)
    if url.get_backend_name() == "sqlite" and db.sqlite_file(shown) is None:
        return None
    return shown


def _head(session: Session) -> tuple[int, str] | None:
    head = session.execute(
        select(AuditHeadRow.seq, AuditHeadRow.hash).where(AuditHeadRow.id == _HEAD_ID)
    ).one_or_none()
    return None if head is None else (head[0], head[1])


def _moment(session: Session) -> tuple[str | None, int, tuple[int, str] | None]:
    """What the workers read and what they are held to: the snapshot to import
    (PostgreSQL), the last record and the stored head, all at one moment."""
    if session.get_bind().dialect.name != "postgresql":
        last = int(session.scalar(select(func.max(_LOG.seq))) or 0)
        return None, last, _head(session)
    snapshot, last, seq, digest = session.execute(_MOMENT, {"id": _HEAD_ID}).one()
    head = None if seq is None else (int(seq), str(digest))
    return str(snapshot), int(last or 0), head
