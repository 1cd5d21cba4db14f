"""Row seals: what the program wrote, hashed in the transaction that wrote it.

Every row the program writes in a sealed table is hashed (its sealed columns, read back
as plain values) and the hash is stored in ``seal_entries`` with the sequence number of
the audit record of that transaction, whose fields commit to the digest of those entries.
So the hash chain vouches for each row as the program left it, and a later write touches
only the entries of the rows it wrote: it never re-blesses a row somebody else changed.

Before the program changes or deletes a sealed row it checks the row still matches its
latest seal (:class:`SealBroken` if not), so an edit made outside the program is never
carried forward under the program's name. A message's content and its delivery state are
sealed apart: delivery seals the state it writes from the values it writes.

How a row is hashed is :mod:`infra.seal_hash`; the entries go in as plain tuples (``COPY``
on PostgreSQL), a transition's tens of thousands of them in one statement.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Column, Table, event, inspect, select, tuple_
from sqlalchemy.orm import Session

from domain.errors import DomainError
from infra.seal_hash import RowKey as RowKey
from infra.seal_hash import entries_digest as entries_digest
from infra.seal_hash import key_text as key_text
from infra.seal_hash import row_hash as row_hash
from infra.tables import (
    ApplicationRow,
    AssessmentResponseRow,
    Base,
    CheckInRow,
    ContinuingRow,
    CycleRow,
    CycleSettingsRow,
    MeetingRow,
    MemberRow,
    MessageRow,
    MilestoneRow,
    PairGoalRow,
    PairingRuleRow,
    PairingSetRow,
    PairRow,
    RepairingOfferRow,
    SealEntryRow,
    TaskRow,
    UnmatchedRow,
)

if TYPE_CHECKING:
    import psycopg

_BATCH = 500
_COPY_ENTRIES = "COPY seal_entries (seq, facet, row_key, row_hash) FROM STDIN"
_INSERT_ENTRIES = (
    "INSERT INTO seal_entries (seq, facet, row_key, row_hash) "
    "VALUES ({mark}, {mark}, {mark}, {mark})"
)
_ENTRIES: Table = SealEntryRow.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class Facet:
    """A sealed part of a table: its name in ``seal_entries`` and the columns it covers."""

    name: str
    model: type[Base]
    columns: tuple[str, ...]
    keys: tuple[str, ...] = ()  # a unique key that names the row; default its primary key

    @property
    def table(self) -> Table:
        table = self.model.__table__
        assert isinstance(table, Table)
        return table

    @property
    def key_columns(self) -> tuple[Column[Any], ...]:
        if self.keys:
            return tuple(self.table.c[name] for name in self.keys)
        return tuple(self.table.primary_key.columns)

    def sealed_columns(self) -> list[Column[Any]]:
        return [self.table.c[name] for name in self.columns]


def _all_but(model: type[Base], *left_out: str) -> tuple[str, ...]:
    table = model.__table__
    assert isinstance(table, Table)
    return tuple(c.name for c in table.columns if c.name not in left_out)


MESSAGE_CONTENT = (
    "key", "cycle_year", "kind", "to_address", "to_name", "subject", "text_body",
    "html_body", "attachments", "queued_at",
)  # fmt: skip
MESSAGE_STATE = ("status", "sent_at")
FACETS: tuple[Facet, ...] = (
    Facet("cycles", CycleRow, _all_but(CycleRow)),
    Facet("milestones", MilestoneRow, _all_but(MilestoneRow)),
    Facet("cycle_settings", CycleSettingsRow, _all_but(CycleSettingsRow)),
    Facet("members", MemberRow, _all_but(MemberRow)),
    Facet("applications", ApplicationRow, _all_but(ApplicationRow, "source")),
    Facet("pairing_sets", PairingSetRow, _all_but(PairingSetRow)),
    Facet("pairs", PairRow, _all_but(PairRow)),
    Facet("unmatched", UnmatchedRow, _all_but(UnmatchedRow)),
    Facet("pairing_rules", PairingRuleRow, _all_but(PairingRuleRow)),
    Facet("messages", MessageRow, MESSAGE_CONTENT, ("key",)),
    Facet("message_state", MessageRow, MESSAGE_STATE, ("key",)),
    Facet("tasks", TaskRow, _all_but(TaskRow, "id"), ("key",)),
    Facet("assessment_responses", AssessmentResponseRow, _all_but(AssessmentResponseRow)),
    Facet("repairing_offers", RepairingOfferRow, _all_but(RepairingOfferRow)),
    Facet("pair_goals", PairGoalRow, _all_but(PairGoalRow)),
    Facet("meetings", MeetingRow, _all_but(MeetingRow)),
    Facet("check_ins", CheckInRow, _all_but(CheckInRow)),
    Facet("continuing_answers", ContinuingRow, _all_but(ContinuingRow)),
)
BY_NAME = {f.name: f for f in FACETS}
MESSAGE_STATE_FACET = BY_NAME["message_state"]
BY_MODEL: dict[type[Base], tuple[Facet, ...]] = {}
for _facet in FACETS:
    BY_MODEL[_facet.model] = (*BY_MODEL.get(_facet.model, ()), _facet)

# Tables and columns left out on purpose, each with the reason (a test holds every table
# and column of the schema to being sealed or named here).
NOT_SEALED_TABLES = {
    "audit_log": "the hash chain itself",
    "audit_head": "checked against the chain, and by an anchor kept outside",
    "seal_entries": "committed to by the audit records' digests",
    "alembic_version": "the schema's version, not the program's data",
    "sign_in_links": "ephemeral one-time links (a token's hash, 30 minutes, used once); "
    "a sign-in is no program fact",
}
NOT_SEALED_COLUMNS = {
    ("messages", "id"): "a surrogate; both facets name a message by its unique key",
    ("tasks", "id"): "a surrogate; a task is named by its unique key",
    ("messages", "attempts"): "a count of tries, changed by every delivery",
    ("messages", "last_error"): "the server's last answer, diagnostic",
    ("messages", "claim_token"): "a delivery's lease: who may send it now",
    ("messages", "claimed_until"): "a delivery's lease: until when",
    ("applications", "source"): "the application's audit record names its trigger (site "
    "or import); the column only makes the list cheap, and rows sealed before it existed "
    "would no longer match their seals",
}


class SealBroken(DomainError):
    """A row the program is about to change no longer matches what the program wrote."""

    def __init__(self, facet: str, key: str, seq: int | None) -> None:
        self.facet, self.key, self.seq = facet, key, seq
        since = f"audit record {seq}" if seq else "no audit record (never written by the program)"
        super().__init__(
            f"{facet} row {key} was changed outside the program (it differs from {since}); "
            "nothing was changed: restore the row, or accept it as it stands once checked"
        )

    @property
    def row(self) -> str:
        """The row as ``audit accept --row`` takes it: ``facet:key``."""
        return f"{self.facet}:{self.key}"


class UnknownRow(DomainError):
    """An accepted row that names no sealed table, or no row of one."""


def parse_row(text: str) -> tuple[Facet, RowKey]:
    """``cycle_settings:[2026]`` (as ``audit verify`` names a row) into its facet and key."""
    name, _, key = text.partition(":")
    facet = BY_NAME.get(name.strip())
    if facet is None:
        raise UnknownRow(f"{name!r} is not a sealed table: one of {', '.join(BY_NAME)}")
    try:
        values = json.loads(key)
    except ValueError:
        values = None
    if not isinstance(values, list) or len(values) != len(facet.key_columns):
        raise UnknownRow(
            f"{key!r} is not a key of {facet.name}: give it as `audit verify` prints it, "
            f"for example {facet.name}:{key_text(tuple('…' for _ in facet.key_columns))}"
        )
    return facet, tuple(values)


@dataclass
class SealBook:
    """What one session wrote in sealed tables, waiting for its audit record."""

    noted: dict[tuple[str, str], RowKey] = field(default_factory=dict)
    verified: set[tuple[str, str]] = field(default_factory=set)
    written: dict[tuple[str, str], str | None] = field(default_factory=dict)
    sealed_here: dict[tuple[str, str], str | None] = field(default_factory=dict)

    @staticmethod
    def of(session: Session) -> SealBook:
        book = session.info.get("seal_book")
        if not isinstance(book, SealBook):
            book = session.info["seal_book"] = SealBook()
        return book

    def note(self, facet: Facet, keys: Iterable[RowKey]) -> None:
        """These rows were written (inserted, updated or deleted): seal them as they are."""
        for key in keys:
            self.noted[(facet.name, key_text(key))] = key

    def wrote(self, facet: Facet, key: RowKey, values: Sequence[Any]) -> None:
        """This row's facet now holds ``values``: seal them without reading the row."""
        self.written[(facet.name, key_text(key))] = row_hash(values)

    def inserted(self, facet: Facet, rows: Iterable[Mapping[str, Any]]) -> None:
        """These rows were just inserted as given (column name to value): each is sealed
        from its values, or noted to be read back when the database fills in a column
        the row leaves out (a default)."""
        plan = _insert_plan(facet)
        name, columns, given = facet.name, facet.columns, plan.given
        written, noted = self.written, self.noted
        (single, *more) = plan.keys
        # A facet that does not seal its key (a message's delivery state) holds the same
        # few values in every new row: each distinct row (values and their types, as
        # True == 1 but hashes apart) is hashed once.
        hashed: dict[tuple[Any, ...], str] | None = {} if plan.repeats else None
        for row in rows:
            key = (row[single],) if not more else tuple(row[k] for k in plan.keys)
            if not given <= row.keys():
                noted[(name, key_text(key))] = key
                continue
            values = tuple(map(row.get, columns))
            if hashed is None:
                written[(name, key_text(key))] = row_hash(values)
                continue
            typed = (*map(type, values), *values)
            try:
                digest = hashed.get(typed)
            except TypeError:  # a list or dict among the values: hashed each time
                digest = row_hash(values)
            else:
                if digest is None:
                    digest = hashed[typed] = row_hash(values)
            written[(name, key_text(key))] = digest

    def _vouched(self, name: str, text: str) -> bool:
        """Written or checked in this session already: no need to check it again."""
        row = (name, text)
        return row in self.noted or row in self.written or row in self.verified

    @property
    def pending(self) -> bool:
        return bool(self.noted or self.written)

    def expected(
        self, session: Session, facet: Facet, keys: Sequence[str]
    ) -> dict[str, tuple[int | None, str | None]]:
        """The latest seal of each row: (audit seq, hash); sealed earlier in this
        transaction counts, a key never sealed is missing from the answer."""
        found: dict[str, tuple[int | None, str | None]] = {}
        entries = _ENTRIES.c
        chunked = keys
        if len(keys) > 4 * _BATCH:  # most of a table (the roster): one pass over its entries
            wanted = set(keys)
            query = select(entries.row_key, entries.seq, entries.row_hash).where(
                entries.facet == facet.name
            )
            for key, seq, digest in session.execute(query.order_by(entries.id)):
                if key in wanted:
                    found[key] = (seq, digest)
            chunked = []
        for start in range(0, len(chunked), _BATCH):
            chunk = chunked[start : start + _BATCH]
            # A row has a few entries at most: read them all in id order (an index range
            # scan) and keep each key's last, rather than grouping in the database.
            for key, seq, digest in session.execute(
                select(entries.row_key, entries.seq, entries.row_hash)
                .where(entries.facet == facet.name, entries.row_key.in_(chunk))
                .order_by(entries.id)
            ):
                found[key] = (seq, digest)
        for key in keys:
            if (facet.name, key) in self.sealed_here:
                found[key] = (None, self.sealed_here[(facet.name, key)])
        return found

    def current(self, session: Session, facet: Facet, keys: Sequence[RowKey]) -> dict[str, str]:
        """The hash of each row as it stands in the database now (absent: no row)."""
        hashes: dict[str, str] = {}
        key_cols = facet.key_columns
        cols = facet.sealed_columns()
        for start in range(0, len(keys), _BATCH):
            chunk = list(keys[start : start + _BATCH])
            match = (
                key_cols[0].in_([k[0] for k in chunk])
                if len(key_cols) == 1
                else tuple_(*key_cols).in_(chunk)
            )
            for row in session.execute(select(*key_cols, *cols).where(match)):
                hashes[key_text(tuple(row[: len(key_cols)]))] = row_hash(row[len(key_cols) :])
        return hashes

    def check(self, session: Session, facet: Facet, keys: Sequence[RowKey]) -> None:
        """Refuse to act on rows that differ from their latest seal (to change them, or
        to mail from them); a row found intact is not looked at again in this session.
        (Rows the caller has just read whole: :meth:`check_read`, with no second read.)"""
        unchecked: dict[str, RowKey] = {}
        for key in keys:
            text = key_text(key)
            if not self._vouched(facet.name, text):
                unchecked[text] = key
        if unchecked:
            now = self.current(session, facet, list(unchecked.values()))
            self._compare(session, facet, list(unchecked), now)

    def check_read(
        self, session: Session, facet: Facet, rows: Iterable[tuple[RowKey, Sequence[Any]]]
    ) -> None:
        """:meth:`check` rows the caller has just read whole, each as its key and the
        facet's values: only a row not vouched for yet in this session is hashed."""
        read: dict[str, str] = {}
        for key, values in rows:
            text = key_text(key)
            if not self._vouched(facet.name, text):
                read[text] = row_hash(values)
        if read:
            self._compare(session, facet, list(read), read)

    def _compare(
        self, session: Session, facet: Facet, texts: Sequence[str], now: Mapping[str, str]
    ) -> None:
        """Each row's hash now (absent: no row) against its latest seal."""
        expected = self.expected(session, facet, texts)
        for text in texts:
            seq, digest = expected.get(text, (None, None))
            if text not in expected:
                if text in now:
                    raise SealBroken(facet.name, text, None)
                continue
            if now.get(text) != digest:
                raise SealBroken(facet.name, text, seq)
        self.verified.update((facet.name, t) for t in texts)

    def seal(self, session: Session, seq: int) -> dict[str, object] | None:
        """Write the entries of everything noted or written since the last seal, under
        audit record ``seq``; returns what the record commits to (None: nothing)."""
        if not self.pending:
            return None
        entries: dict[tuple[str, str], str | None] = dict(self.written)
        by_facet: dict[str, list[RowKey]] = {}
        for (name, _text), key in self.noted.items():
            by_facet.setdefault(name, []).append(key)
        for name, keys in by_facet.items():
            now = self.current(session, BY_NAME[name], keys)
            for key in keys:
                text = key_text(key)
                entries[(name, text)] = now.get(text)
        _write_entries(
            session, [(seq, name, text, digest) for (name, text), digest in entries.items()]
        )
        self.sealed_here.update(entries)
        self.noted.clear()
        self.written.clear()
        listing = [(name, text, digest) for (name, text), digest in entries.items()]
        return {"rows": len(listing), "digest": entries_digest(listing)}


def _write_entries(session: Session, entries: Sequence[tuple[int, str, str, str | None]]) -> None:
    """Insert seal entries (seq, facet, key, hash) in the session's transaction as plain
    tuples: ``COPY`` on PostgreSQL, one executemany of the statement elsewhere (building
    a dict per entry for a Core insert cost as much as the database's own work)."""
    if not entries:
        return
    connection = session.connection()
    if connection.dialect.driver == "psycopg":  # psycopg itself is loaded only then
        driver = cast("psycopg.Connection[Any]", connection.connection.dbapi_connection)
        with driver.cursor() as cursor, cursor.copy(_COPY_ENTRIES) as copy:
            for entry in entries:
                copy.write_row(entry)
        return
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    connection.exec_driver_sql(_INSERT_ENTRIES.format(mark=mark), list(entries))


@dataclass(frozen=True)
class _InsertPlan:
    keys: tuple[str, ...]  # the columns naming the row
    given: frozenset[str]  # the columns a row must give for its values to be known
    repeats: bool  # the sealed columns leave the key out, so new rows may hash alike


@functools.cache
def _insert_plan(facet: Facet) -> _InsertPlan:
    """What an inserted row must hold for the facet's values to be known without reading
    it back: every sealed column but those that are NULL when left out (no default)."""
    return _InsertPlan(
        tuple(c.name for c in facet.key_columns),
        frozenset(
            c.name
            for c in facet.sealed_columns()
            if not (c.nullable and c.default is None and c.server_default is None)
        ),
        not {c.name for c in facet.key_columns} & set(facet.columns),
    )


def facets_of(model: type[Base]) -> tuple[Facet, ...]:
    return BY_MODEL.get(model, ())


def stored_rows(session: Session, facet: Facet) -> Iterator[tuple[str, str]]:
    """(key, hash) of every row of a facet, in key order, in batches of plain columns."""
    key_cols = facet.key_columns
    query = select(*key_cols, *facet.sealed_columns()).order_by(*key_cols)
    result = session.execute(query.execution_options(yield_per=5000, stream_results=True))
    n = len(key_cols)
    for row in result:
        yield key_text(tuple(row[:n])), row_hash(row[n:])


def _changed(obj: Base, facet: Facet) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in facet.columns)


def _key_of(obj: Base, facet: Facet) -> RowKey:
    return tuple(getattr(obj, c.name) for c in facet.key_columns)


def _grouped(objs: Iterable[object], dirty: bool) -> dict[str, list[RowKey]]:
    keys: dict[str, list[RowKey]] = {}
    for obj in objs:
        if not isinstance(obj, Base):
            continue
        for facet in facets_of(type(obj)):
            if not dirty or _changed(obj, facet):
                keys.setdefault(facet.name, []).append(_key_of(obj, facet))
    return keys


def watch(session: Session) -> None:
    """Seal the ORM writes of ``session``: check a changed or deleted row against its
    seal before the flush writes it, note every written row after."""

    @event.listens_for(session, "before_flush")
    def _check(session: Session, _context: object, _instances: object) -> None:
        book = SealBook.of(session)
        for group in (_grouped(session.dirty, True), _grouped(session.deleted, False)):
            for name, keys in group.items():
                book.check(session, BY_NAME[name], keys)

    @event.listens_for(session, "after_flush")
    def _note(session: Session, _context: object) -> None:
        book = SealBook.of(session)
        for group in (
            _grouped(session.new, False),
            _grouped(session.dirty, True),
            _grouped(session.deleted, False),
        ):
            for name, keys in group.items():
                book.note(BY_NAME[name], keys)


@dataclass(frozen=True)
class SealProblem:
    """A sealed row that differs from what the program wrote, or seals that were altered."""

    facet: str
    key: str | None
    seq: int | None
    what: str

    def __str__(self) -> str:
        if self.key is None:
            return f"seal entries of audit record {self.seq} were {self.what}"
        since = f"audit record {self.seq}" if self.seq else "no audit record"
        return f"{self.facet} row {self.key} {self.what} (differs from {since})"


def _record_digests(
    session: Session, committed: Mapping[int, str], low: int | None, high: int | None
) -> list[SealProblem]:
    """Each audit record's entries against the digest it holds, one record at a time
    (records ``low`` up to, not including, ``high``; None: no bound)."""
    entries = _ENTRIES.c
    found: list[SealProblem] = []
    seen: set[int] = set()

    def settle(seq: int, group: list[tuple[str, str, str | None]]) -> None:
        seen.add(seq)
        if entries_digest(group) != committed.get(seq):
            what = "added" if seq not in committed else "changed or removed"
            found.append(SealProblem("seal_entries", None, seq, what))

    query = select(entries.seq, entries.facet, entries.row_key, entries.row_hash)
    if low is not None:
        query = query.where(entries.seq >= low)
    if high is not None:
        query = query.where(entries.seq < high)
    current: int | None = None
    group: list[tuple[str, str, str | None]] = []
    for seq, facet, key, digest in session.execute(
        query.order_by(entries.seq).execution_options(yield_per=10_000)
    ):
        if seq != current:
            if current is not None:
                settle(current, group)
            current, group = seq, []
        group.append((facet, key, digest))
    if current is not None:
        settle(current, group)
    for seq in sorted(set(committed) - seen):
        found.append(SealProblem("seal_entries", None, seq, "changed or removed"))
    return sorted(found, key=lambda p: p.seq or 0)


def record_problems(
    session: Session,
    committed: Mapping[int, str],
    low: int | None = None,
    high: int | None = None,
) -> list[SealProblem]:
    """Every record's entries against the digest it holds (``committed``: seq -> digest),
    for records ``low`` up to, not including, ``high`` (None: no bound), in seq order."""
    return _record_digests(session, committed, low, high)


def never_sealed(session: Session, facet: Facet) -> list[RowKey]:
    """Rows of a facet with no seal entry at all (written before seals existed)."""
    entries = _ENTRIES.c
    sealed = {
        k
        for (k,) in session.execute(
            select(entries.row_key).where(entries.facet == facet.name).distinct()
        )
    }
    key_cols = facet.key_columns
    return [
        tuple(row)
        for row in session.execute(select(*key_cols).order_by(*key_cols))
        if key_text(tuple(row)) not in sealed
    ]
