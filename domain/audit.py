"""The audit log's hash chain: each record seals the one before it.

A record's hash covers its own fields and the previous record's hash, so editing,
deleting or reordering any record breaks the chain from that point on; the stored
head (last sequence number and hash) catches a truncated tail. Someone able to rewrite
the whole table and the head together is caught only by an anchor: a head (sequence and
hash) the committee kept outside the database, which the log must still extend.
"""

import hashlib
import itertools
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from json.encoder import encode_basestring_ascii

from domain.errors import DomainError

GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditRecord:
    """One audited fact: a transition, an import, a pairing decision, a message …"""

    seq: int
    kind: str
    cycle_year: int | None
    at: datetime
    actor: str
    fields: Mapping[str, object]
    prev_hash: str
    hash: str


RecordRow = tuple[int, str, int | None, str, str, Mapping[str, object], str, str]
"""A record's columns in table order (seq, kind, cycle_year, at, actor, fields, prev_hash,
hash), its time as it is sealed (:func:`sealed_time`): what the chain check reads, so a
million records need no object each."""

_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)
_C_ENCODER: Callable[[object, int], Sequence[str]] | None = (
    None
    if (make := getattr(json.encoder, "c_make_encoder", None)) is None
    else make(None, str, encode_basestring_ascii, None, ":", ",", True, False, True)
)
"""The C encoder ``json.dumps`` itself builds for these options, built once: ``dumps``
builds an encoder per call, which was most of a seal's cost."""


def _canonical(value: object) -> str:
    """``value`` exactly as ``json.dumps`` with the seal's options writes it."""
    if _C_ENCODER is None:
        return _ENCODER.encode(value)
    return "".join(_C_ENCODER(value, 0))


def seal(
    seq: int,
    kind: str,
    cycle_year: int | None,
    at: datetime,
    actor: str,
    fields: Mapping[str, object],
    prev_hash: str,
) -> str:
    """The SHA-256 of a record's canonical JSON form chained to ``prev_hash``."""
    return seal_text(seq, kind, cycle_year, sealed_time(at), actor, fields, prev_hash)


def sealed_time(at: datetime) -> str:
    """A record's time as its seal covers it: UTC, ISO 8601."""
    return at.astimezone(UTC).isoformat()


def seal_text(
    seq: int,
    kind: str,
    cycle_year: int | None,
    at: str,
    actor: str,
    fields: Mapping[str, object],
    prev_hash: str,
) -> str:
    """:func:`seal` with the time already as :func:`sealed_time` gives it.

    The form is ``json.dumps({"seq", "kind", "cycle_year", "at", "actor", "fields",
    "prev"}, sort_keys=True, separators=(",", ":"), default=str)``. For the column types
    (text, integers) it is written out key by key in that sorted order, each value as
    ``json`` writes it: the same bytes without building the outer dict, so every log ever
    written still verifies; any other type goes through the whole form.
    """
    if (
        type(seq) is int
        and type(kind) is str
        and (cycle_year is None or type(cycle_year) is int)
        and type(at) is str
        and type(actor) is str
        and type(prev_hash) is str
    ):
        body = (
            f'{{"actor":{encode_basestring_ascii(actor)},"at":{encode_basestring_ascii(at)},'
            f'"cycle_year":{"null" if cycle_year is None else int.__repr__(cycle_year)},'
            f'"fields":{_canonical(fields)},"kind":{encode_basestring_ascii(kind)},'
            f'"prev":{encode_basestring_ascii(prev_hash)},"seq":{int.__repr__(seq)}}}'
        )
    else:
        whole = {"seq": seq, "kind": kind, "cycle_year": cycle_year, "at": at, "actor": actor}
        body = _canonical(whole | {"fields": fields, "prev": prev_hash})
    return hashlib.sha256(body.encode()).hexdigest()


@dataclass(frozen=True)
class ChainProblem:
    """Where the chain breaks and how."""

    seq: int
    problem: str

    def __str__(self) -> str:
        return f"audit record {self.seq}: {self.problem}"


class InvalidAnchor(DomainError):
    """An anchor that is not ``SEQ:HASH`` as ``audit anchor`` prints it."""


class AnchorBeyondLog(DomainError):
    """An anchor naming a record the log does not hold: it cannot be checked."""


class EmptyLog(DomainError):
    """Nothing has been recorded yet, so there is no head to anchor."""


_ANCHOR = re.compile(r"([0-9]{1,12}):([0-9a-fA-F]{64})")


@dataclass(frozen=True)
class Anchor:
    """A record's sequence number and hash, kept outside the database: the log must still
    hold exactly the records 1 to ``seq`` it held when the anchor was taken."""

    seq: int
    hash: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"

    @classmethod
    def parse(cls, text: str) -> "Anchor":
        """``SEQ:HASH`` as ``audit anchor`` prints it (the hash in either case)."""
        found = _ANCHOR.fullmatch(text.strip())
        if found is None:
            raise InvalidAnchor(
                f"{text!r} is not an anchor: give SEQ:HASH, a record number, a colon and "
                "its 64 hexadecimal digits"
            )
        seq = int(found[1])
        if seq < 1:
            raise InvalidAnchor(f"{text!r} is not an anchor: records are numbered from 1")
        return cls(seq, found[2].lower())

    def check_within(self, last_seq: int) -> None:
        """Refuse an anchor beyond the log's last record, saying both things it can mean."""
        if self.seq > last_seq:
            raise AnchorBeyondLog(
                f"anchor {self.seq}:{self.hash[:12]}… names record {self.seq}, but the log's "
                f"last record is {last_seq}: either records {last_seq + 1}–{self.seq} were "
                "deleted, or the anchor belongs to another database"
            )


def verify_chain(
    records: Iterable[AuditRecord],
    head: tuple[int, str] | None,
    anchors: Sequence[Anchor] = (),
) -> list[ChainProblem]:
    """:func:`verify_rows` over records."""
    rows = (
        (r.seq, r.kind, r.cycle_year, sealed_time(r.at), r.actor, r.fields, r.prev_hash, r.hash)
        for r in records
    )
    return verify_rows(rows, head, anchors)


def verify_rows(
    rows: Iterable[RecordRow],
    head: tuple[int, str] | None,
    anchors: Sequence[Anchor] = (),
) -> list[ChainProblem]:
    """Check every seal and link in sequence order, then the stored head, then the anchors.

    Besides each record's own seal, the chain is replayed from the genesis through the
    recomputed hashes up to the last anchor: the replayed hash of record ``seq`` equals an
    anchor's only if records 1 to ``seq`` are byte for byte those that were anchored.
    """
    run = check_run(rows, anchors, GENESIS)
    return joined([run], head, anchors)


@dataclass(frozen=True)
class ChainRun:
    """One run of consecutive records checked on its own: each record's seal, and the
    numbering and links inside the run. Its first record's number and link are checked
    when runs are joined (:func:`joined`), from ``first`` and the run before's ``last``."""

    first: tuple[int, str] | None  # the first record's seq and prev_hash (None: no record)
    last: tuple[int, str] | None  # the last record's seq and hash
    problems: tuple[ChainProblem, ...]
    replay_from: str  # the replayed hash the run assumed before its first record
    replayed: str  # the replayed hash after its last record within the anchors' reach
    at_anchor: Mapping[int, tuple[str, str]]  # anchored seq: (stored hash, replayed hash)


def check_run(
    rows: Iterable[RecordRow], anchors: Sequence[Anchor], replay_from: str | None = None
) -> ChainRun:
    """Check a run of records in sequence order, replaying the chain up to the last
    anchor from ``replay_from`` (None: from the first record's own ``prev_hash``, which
    is right unless the chain diverged before the run; :func:`joined` then replays it
    again from the right hash)."""
    records = iter(rows)
    start = next(records, None)
    if start is None:
        begun = GENESIS if replay_from is None else replay_from
        return ChainRun(None, None, (), begun, begun, {})
    problems: list[ChainProblem] = []
    expected_seq, prev = start[0], start[6]
    replayed = begun = prev if replay_from is None else replay_from
    reach = max((a.seq for a in anchors), default=0)
    anchored = {a.seq for a in anchors}
    at_anchor: dict[int, tuple[str, str]] = {}
    for seq, kind, year, at, actor, fields, prev_hash, stored in itertools.chain((start,), records):
        if seq != expected_seq:
            what = "missing" if seq > expected_seq else "out of order or duplicated"
            problems.append(ChainProblem(expected_seq, f"record {what} (found {seq} next)"))
        if prev_hash != prev:
            problems.append(ChainProblem(seq, "does not link to the record before it"))
        recomputed = seal_text(seq, kind, year, at, actor, fields, prev_hash)
        if recomputed != stored:
            problems.append(ChainProblem(seq, "contents were altered after it was written"))
        if seq <= reach:
            if prev_hash != replayed:
                recomputed = seal_text(seq, kind, year, at, actor, fields, replayed)
            replayed = recomputed
            if seq in anchored:
                at_anchor[seq] = (stored, replayed)
        expected_seq, prev = seq + 1, stored
    return ChainRun(
        (start[0], start[6]), (expected_seq - 1, prev), tuple(problems), begun, replayed, at_anchor
    )


def joined(
    runs: Iterable[ChainRun],
    head: tuple[int, str] | None,
    anchors: Sequence[Anchor] = (),
    again: Callable[[int, str], ChainRun] | None = None,
) -> list[ChainProblem]:
    """The problems of consecutive runs (in sequence order) as one check of the whole
    chain finds them, then the stored head's and the anchors'. A run within the anchors'
    reach that assumed another replayed hash than the one the runs before it ended with
    (the chain diverged before it) is checked again by ``again(its index, that hash)``."""
    problems: list[ChainProblem] = []
    expected_seq, prev, replayed = 1, GENESIS, GENESIS
    reach = max((a.seq for a in anchors), default=0)
    at_anchor: dict[int, tuple[str, str]] = {}
    for index, run in enumerate(runs):
        if run.first is None:
            continue
        seq, prev_hash = run.first
        if again is not None and seq <= reach and run.replay_from != replayed:
            run = again(index, replayed)
        if run.last is None:
            continue
        if seq != expected_seq:
            what = "missing" if seq > expected_seq else "out of order or duplicated"
            problems.append(ChainProblem(expected_seq, f"record {what} (found {seq} next)"))
        if prev_hash != prev:
            problems.append(ChainProblem(seq, "does not link to the record before it"))
        problems.extend(run.problems)
        at_anchor.update(run.at_anchor)
        expected_seq, prev, replayed = run.last[0] + 1, run.last[1], run.replayed
    last_seq = expected_seq - 1
    first_break = min((p.seq for p in problems), default=last_seq + 1)
    if head is not None and head != (last_seq, prev):
        problems.append(_head_problem(head, last_seq, prev))
    held = 0
    for anchor in sorted(set(anchors), key=lambda a: a.seq):
        problem = _anchor_problem(anchor, at_anchor.get(anchor.seq), held, first_break)
        if problem is None:
            held = anchor.seq
        else:
            problems.append(problem)
    return problems


def _head_problem(head: tuple[int, str], last_seq: int, last_hash: str) -> ChainProblem:
    if head[0] != last_seq:
        return ChainProblem(
            head[0], f"the log ends at record {last_seq}, but the head says {head[0]}"
        )
    return ChainProblem(
        head[0],
        f"its hash is {last_hash[:12]}…, but the head says {head[1][:12]}…: either the head "
        f"was edited, or records up to {last_seq} were rewritten and their hashes recomputed "
        "(the head cannot tell from which record; an anchor taken before the change can)",
    )


def _anchor_problem(
    anchor: Anchor, found: tuple[str, str] | None, held: int, first_break: int
) -> ChainProblem | None:
    """What the log says against one anchor; ``held`` is the latest earlier anchor that
    held (0 for none), so whatever changed lies between it and this one."""
    if found is None:
        return ChainProblem(anchor.seq, f"missing, but anchor {_short(anchor)} names it")
    stored, replayed = found
    if replayed == anchor.hash:
        return None
    one = held + 1 == anchor.seq
    span = f"record {anchor.seq}" if one else f"records {held + 1}–{anchor.seq}"
    if first_break <= anchor.seq:
        return ChainProblem(
            anchor.seq,
            f"the log no longer replays to anchor {_short(anchor)}: {span} changed since the "
            "anchor was taken (see the records named above)",
        )
    return ChainProblem(
        anchor.seq,
        f"its hash is {stored[:12]}…, but the anchor says {anchor.hash[:12]}…: {span} "
        f"{'was' if one else 'were'} rewritten after the anchor was taken, with hashes "
        f"recomputed to hide it ({'edited, forged or replaced' if one else _WHICH}), or the "
        "anchor was not taken from this log",
    )


_WHICH = (
    "one or more of them edited, forged, inserted or deleted; only an anchor taken between "
    "them could tell which"
)


def _short(anchor: Anchor) -> str:
    return f"{anchor.seq}:{anchor.hash[:12]}…"
