"""Every sealed row against its latest seal, for ``audit verify``: on PostgreSQL with each
row's hash computed by the server.

:func:`infra.seal_hash.row_hash` frames each value (8 bytes of length, a type letter, a
canonical text) and hashes the frames with SHA-256. For the column types whose canonical
text PostgreSQL writes the same way (text, integers, booleans, aware times, dates, and
JSON that is null or empty) the server builds the very same bytes and sends only the
hash, not the row. A value it cannot write so (other JSON, a time Python cannot hold)
leaves its row's hash NULL, and that row is read and hashed here as
:func:`infra.seal_book.stored_rows` does; so is every row of a facet with another column
type (a float), and every row on another database. One path serves both databases, so
the problems and their order are the same on each.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Integer,
    String,
    Text,
    literal_column,
    select,
    tuple_,
)
from sqlalchemy.orm import Session

from infra.seal_book import FACETS, Facet, RowKey, SealProblem, key_text, row_hash, stored_rows
from infra.tables import SealEntryRow
from infra.types import UTCDateTime

_ENTRIES = SealEntryRow.__table__.c
_BATCH = 5_000
_LEFT_BATCH = 500
_UTC = "timezone('UTC', {c})"
_TIME = "'T' || to_char({u}, 'YYYY-MM-DD\"T\"HH24:MI:SS{us}') || '+00:00'"
_Latest = tuple[int | None, str | None]  # a row's latest entry: audit seq, hash (None: deleted)
_Hashed = tuple[int, str, str]  # a row's place in key order, its key text, its hash


def row_problems(session: Session, facets: Sequence[Facet] = FACETS) -> list[SealProblem]:
    """Every sealed row of ``facets`` against its latest entry, facet by facet: the rows
    in key order, then the sealed rows that are gone in key-text order."""
    latest = _latest(session, facets)
    server = _server_hashes(session)
    found: list[SealProblem] = []
    for facet in facets:
        sealed = latest[facet.name]
        frames = _frames(facet) if server else None
        rows = _here(session, facet) if frames is None else _there(session, facet, frames)
        placed: list[tuple[int, SealProblem]] = []
        for place, key, digest in rows:
            problem = _against(facet.name, key, digest, sealed.pop(key, (None, None)))
            if problem is not None:
                placed.append((place, problem))
        found.extend(problem for _, problem in sorted(placed, key=lambda p: p[0]))
        for key, (seq, gone) in sorted(sealed.items()):
            if gone is not None:
                found.append(SealProblem(facet.name, key, seq, "was deleted outside the program"))
    return found


def _against(facet: str, key: str, digest: str, sealed: _Latest) -> SealProblem | None:
    seq, expected = sealed
    if seq is None:
        return SealProblem(facet, key, None, "was inserted outside the program")
    if expected is None:
        return SealProblem(facet, key, seq, "was deleted, then put back")
    if expected != digest:
        return SealProblem(facet, key, seq, "was changed outside the program")
    return None


def _latest(session: Session, facets: Sequence[Facet]) -> dict[str, dict[str, _Latest]]:
    """Each sealed row's latest entry, by facet and key: one pass in entry order."""
    latest: dict[str, dict[str, _Latest]] = {f.name: {} for f in facets}
    query = select(_ENTRIES.facet, _ENTRIES.row_key, _ENTRIES.seq, _ENTRIES.row_hash)
    if len(facets) < len(FACETS):
        query = query.where(_ENTRIES.facet.in_([f.name for f in facets]))
    for facet, key, seq, digest in session.execute(
        query.order_by(_ENTRIES.id).execution_options(yield_per=10_000)
    ):
        latest.setdefault(facet, {})[key] = (seq, digest)
    return latest


def _here(session: Session, facet: Facet) -> Iterator[_Hashed]:
    for place, (key, digest) in enumerate(stored_rows(session, facet)):
        yield place, key, digest


def _there(session: Session, facet: Facet, frames: Sequence[str]) -> Iterator[_Hashed]:
    """Every row of a facet in key order, hashed by the server; the few rows it leaves
    unhashed are read whole and hashed here, after the others (with their places)."""
    key_cols = facet.key_columns
    digest = literal_column(f"encode(sha256({' || '.join(frames)}), 'hex')", Text)
    query = select(*key_cols, digest).order_by(*key_cols)
    result = session.execute(query.execution_options(yield_per=_BATCH, stream_results=True))
    n = len(key_cols)
    left: dict[str, tuple[int, RowKey]] = {}
    place = 0
    for batch in result.partitions():
        for row in batch:
            key: RowKey = tuple(row[:n])
            if row[n] is None:
                left[key_text(key)] = (place, key)
            else:
                yield place, key_text(key), row[n]
            place += 1
    yield from _hashed_here(session, facet, left)


def _hashed_here(
    session: Session, facet: Facet, left: dict[str, tuple[int, RowKey]]
) -> Iterator[_Hashed]:
    """The rows ``left`` (key text: place, key), read and hashed here."""
    key_cols = facet.key_columns
    wanted = list(left.values())
    for start in range(0, len(wanted), _LEFT_BATCH):
        keys = [key for _, key in wanted[start : start + _LEFT_BATCH]]
        match = (
            key_cols[0].in_([k[0] for k in keys])
            if len(key_cols) == 1
            else tuple_(*key_cols).in_(keys)
        )
        query = select(*key_cols, *facet.sealed_columns()).where(match)
        for row in session.execute(query):
            text = key_text(tuple(row[: len(key_cols)]))
            yield left[text][0], text, row_hash(row[len(key_cols) :])


def _server_hashes(session: Session) -> bool:
    """Whether the database can hash rows as :func:`infra.seal_hash.row_hash` does:
    PostgreSQL 11 or later (``sha256``), its text kept as UTF-8."""
    dialect = session.get_bind().dialect
    if dialect.name != "postgresql" or (dialect.server_version_info or (0,)) < (11,):
        return False
    encoding = session.scalar(select(literal_column("current_setting('server_encoding')")))
    return bool(encoding == "UTF8")


def _frames(facet: Facet) -> list[str] | None:
    """SQL for each sealed column's frame (None: a column the server cannot frame)."""
    frames = [_frame(column) for column in facet.sealed_columns()]
    return None if any(f is None for f in frames) else [f for f in frames if f is not None]


def _frame(column: Column[Any]) -> str | None:
    """SQL for ``column``'s frame as :func:`infra.seal_hash.row_hash` writes it, NULL for
    a value it cannot write the same way; None: a column type the server cannot frame."""
    c = f'"{column.table.name}"."{column.name}"'
    kind = type(column.type)
    if kind in (String, Text):
        value = (
            f"int8send(octet_length({c})::int8 + 1) || '\\x53'::bytea || convert_to({c}, 'UTF8')"
        )
    elif kind is Integer:
        value = _framed(f"'I' || {c}::text")
    elif kind is Boolean:
        value = f"CASE WHEN {c} THEN {_constant('B1')} ELSE {_constant('B0')} END"
    elif kind is UTCDateTime:  # Python's years only: another falls to row_hash, as before
        u = _UTC.format(c=c)
        whole, micro = _TIME.format(u=u, us=""), _TIME.format(u=u, us=".US")
        value = (
            f"CASE WHEN {u} < '0001-01-01' OR {u} >= '10000-01-01' OR NOT isfinite({c}) "
            f"THEN NULL WHEN date_trunc('second', {u}) = {u} THEN {_framed(whole, 26)} "
            f"ELSE {_framed(micro, 33)} END"
        )
    elif kind is Date:
        day = f"'T' || to_char({c}, 'YYYY-MM-DD')"
        value = (
            f"CASE WHEN {c} < '0001-01-01' OR {c} >= '10000-01-01' OR NOT isfinite({c}) "
            f"THEN NULL ELSE {_framed(day, 11)} END"
        )
    elif kind is JSON:  # null and empty only: other JSON is written canonically here
        value = (
            f"CASE {c}::text WHEN 'null' THEN {_constant(None)} "
            f"WHEN '[]' THEN {_constant('J[]')} WHEN '{{}}' THEN {_constant('J{}')} END"
        )
    else:
        return None
    return f"CASE WHEN {c} IS NULL THEN {_constant(None)} ELSE {value} END"


def _framed(text: str, size: int | None = None) -> str:
    """SQL framing an ASCII text: its length, then its bytes."""
    length = f"octet_length({text})::int8" if size is None else str(size)
    return f"int8send({length}) || convert_to({text}, 'UTF8')"


def _constant(text: str | None) -> str:
    """A frame known in advance (None: a NULL value's), as a bytea literal."""
    data = b"N" if text is None else text.encode()
    return f"'\\x{len(data).to_bytes(8, 'big').hex()}{data.hex()}'::bytea"
