"""The audit log's hash chain: each record seals the one before it.

A record's hash covers its own fields and the previous record's hash, so editing,
deleting or reordering any record breaks the chain from that point on; the stored
head (last sequence number and hash) catches a truncated tail. Someone able to rewrite
the whole table and the head together is not detected: see the README.
"""

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

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
    body = json.dumps(
        {
            "seq": seq,
            "kind": kind,
            "cycle_year": cycle_year,
            "at": at.astimezone(UTC).isoformat(),
            "actor": actor,
            "fields": fields,
            "prev": prev_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()


@dataclass(frozen=True)
class ChainProblem:
    """Where the chain breaks and how."""

    seq: int
    problem: str

    def __str__(self) -> str:
        return f"audit record {self.seq}: {self.problem}"


def verify_chain(
    records: Iterable[AuditRecord], head: tuple[int, str] | None
) -> list[ChainProblem]:
    """Check every seal and link in sequence order, then the stored head."""
    problems: list[ChainProblem] = []
    expected_seq, prev = 1, GENESIS
    for rec in records:
        if rec.seq != expected_seq:
            what = "missing" if rec.seq > expected_seq else "out of order or duplicated"
            problems.append(ChainProblem(expected_seq, f"record {what} (found {rec.seq} next)"))
        if rec.prev_hash != prev:
            problems.append(ChainProblem(rec.seq, "does not link to the record before it"))
        recomputed = seal(
            rec.seq, rec.kind, rec.cycle_year, rec.at, rec.actor, rec.fields, rec.prev_hash
        )
        if recomputed != rec.hash:
            problems.append(ChainProblem(rec.seq, "contents were altered after it was written"))
        expected_seq, prev = rec.seq + 1, rec.hash
    last_seq = expected_seq - 1
    if head is not None and head != (last_seq, prev):
        problems.append(
            ChainProblem(head[0], f"the log ends at record {last_seq}, but the head says {head[0]}")
        )
    return problems
