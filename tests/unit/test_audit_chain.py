"""The audit hash chain and its anchors, and a property test: the machine and its audit
never disagree."""

import dataclasses
import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from enum import IntEnum, StrEnum

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.audit import (
    GENESIS,
    Anchor,
    AnchorBeyondLog,
    AuditRecord,
    InvalidAnchor,
    seal,
    verify_chain,
)
from domain.calendar import CycleCalendar
from domain.cycle import Cycle, fire
from domain.cycle_states import CycleEvent, CycleState, Trigger
from domain.errors import TransitionRefused

T0 = datetime(2026, 7, 1, tzinfo=UTC)


def chain(n: int) -> list[AuditRecord]:
    out, prev = [], GENESIS
    for seq in range(1, n + 1):
        fields = {"event": f"e{seq}"}
        at = T0 + timedelta(minutes=seq)
        digest = seal(seq, "transition", 2026, at, "ann", fields, prev)
        out.append(AuditRecord(seq, "transition", 2026, at, "ann", fields, prev, digest))
        prev = digest
    return out


def head_of(records: list[AuditRecord]) -> tuple[int, str]:
    return records[-1].seq, records[-1].hash


def test_an_untouched_chain_verifies() -> None:
    records = chain(5)
    assert verify_chain(records, head_of(records)) == []


def test_the_seal_does_not_depend_on_the_time_zone_a_time_is_shown_in() -> None:
    local = datetime(2026, 8, 1, 7, tzinfo=timezone(timedelta(hours=-5)))
    as_utc = local.astimezone(UTC)
    assert seal(1, "k", 2026, local, "a", {}, GENESIS) == seal(
        1, "k", 2026, as_utc, "a", {}, GENESIS
    )


def test_an_edited_record_is_named() -> None:
    records = chain(5)
    head = head_of(records)
    records[2] = dataclasses.replace(records[2], actor="mallory")
    problems = verify_chain(records, head)
    assert [p.seq for p in problems] == [3]
    assert "altered" in str(problems[0])


def test_a_deleted_record_is_named() -> None:
    records = chain(5)
    head = head_of(records)
    del records[1]
    problems = verify_chain(records, head)
    assert problems[0].seq == 2 and "missing" in problems[0].problem


def test_reordered_records_are_caught() -> None:
    records = chain(5)
    head = head_of(records)
    records[1], records[2] = records[2], records[1]
    assert verify_chain(records, head)


def test_a_truncated_tail_is_caught_by_the_head() -> None:
    records = chain(5)
    head = head_of(records)
    problems = verify_chain(records[:3], head)
    assert problems and "ends at record 3" in str(problems[-1])


# --- The hash format, byte for byte as the first version wrote it ---------------------------


def first_seal(
    seq: int,
    kind: str,
    cycle_year: int | None,
    at: datetime,
    actor: str,
    fields: Mapping[str, object],
    prev_hash: str,
) -> str:
    """``seal`` as the log's first version wrote it: every log in use was sealed so."""
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


# Hashes the first version printed for these records (computed with it, kept here).
Written = tuple[tuple[int, str, int | None, datetime, str], dict[str, object], str, str]
WRITTEN_BEFORE: list[Written] = [
    (
        (1, "cycle_created", 2026, datetime(2026, 7, 1, 12, tzinfo=UTC), "chair"),
        {"timezone": "America/Chicago"},
        GENESIS,
        "6efb31e1f09838f29bb11873958bfe5dce3c452fc620104741a6e2333f847c94",
    ),
    (
        (
            2,
            "transition",
            2026,
            datetime(2026, 8, 1, 7, 30, 15, 123456, tzinfo=timezone(timedelta(hours=-5))),
            "Zoë Ünïcode — chair",
        ),
        {
            "event": "open_call",
            "reason": None,
            "messages": 12,
            "score": 1e5,
            "nested": {"b": [1, 2.5, "x"], "a": True},
        },
        "a" * 64,
        "81ae27874cb3174c5546e9342fc980eda3d0913094473a987b26b04a0601773c",
    ),
    (
        (3, "settings", None, datetime(2026, 8, 2, tzinfo=UTC), "scheduler"),
        {
            "when": datetime(2026, 9, 1, tzinfo=UTC),
            "day": date(2026, 9, 1),
            "quote": 'say "hi"\n\t\\',
            "emoji": "\U0001f600",
        },
        "b" * 64,
        "472468ae98e6e7570b504f5899ce1c80be93a57d5d67db2eefa064a3c8ed1a3f",
    ),
]


@pytest.mark.parametrize("record", WRITTEN_BEFORE, ids=lambda r: str(r[0][0]))
def test_records_sealed_by_the_first_version_keep_their_hash(record: Written) -> None:
    (seq, kind, year, at, actor), fields, prev, written = record
    assert seal(seq, kind, year, at, actor, fields, prev) == written
    assert first_seal(seq, kind, year, at, actor, fields, prev) == written


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


class Kind(StrEnum):
    transition = "transition"


class Year(IntEnum):
    y2026 = 2026


@settings(max_examples=400, deadline=None)
@given(
    seq=st.integers(min_value=1, max_value=2**31),
    kind=st.text() | st.just(Kind.transition),
    year=st.none() | st.integers(-(2**40), 2**40) | st.just(Year.y2026),
    at=st.datetimes(timezones=st.timezones()),
    actor=st.text(),
    fields=st.dictionaries(st.text(), JSON_VALUES, max_size=5),
    prev=st.text() | st.just(GENESIS),
)
def test_the_seal_is_the_first_versions_byte_for_byte(
    seq: int,
    kind: str,
    year: int | None,
    at: datetime,
    actor: str,
    fields: dict[str, object],
    prev: str,
) -> None:
    assert seal(seq, kind, year, at, actor, fields, prev) == first_seal(
        seq, kind, year, at, actor, fields, prev
    )


def test_a_chain_written_by_the_first_version_verifies() -> None:
    records, prev = [], GENESIS
    for (seq, kind, year, at, actor), fields, _, _ in WRITTEN_BEFORE:
        digest = first_seal(seq, kind, year, at, actor, fields, prev)
        records.append(AuditRecord(seq, kind, year, at, actor, fields, prev, digest))
        prev = digest
    assert verify_chain(records, head_of(records), [Anchor(2, records[1].hash)]) == []


# --- The head, and anchors kept outside the database ----------------------------------------


def rewritten(
    records: list[AuditRecord], seq: int, change: Callable[[AuditRecord], AuditRecord]
) -> list[AuditRecord]:
    """What an insider with the program's code does: change record ``seq`` and recompute
    every hash after it, so the chain holds together again."""
    out, prev = list(records[: seq - 1]), records[seq - 2].hash if seq > 1 else GENESIS
    for rec in records[seq - 1 :]:
        rec = change(rec) if rec.seq == seq else rec
        digest = seal(rec.seq, rec.kind, rec.cycle_year, rec.at, rec.actor, rec.fields, prev)
        out.append(dataclasses.replace(rec, prev_hash=prev, hash=digest))
        prev = digest
    return out


def by_mallory(record: AuditRecord) -> AuditRecord:
    return dataclasses.replace(record, actor="mallory")


def test_a_rewrite_with_recomputed_hashes_and_head_passes_the_chain_alone() -> None:
    """The limit anchors exist for: without one, such a rewrite is not seen."""
    forged = rewritten(chain(6), 2, by_mallory)
    assert verify_chain(forged, head_of(forged)) == []


def test_a_rewrite_under_an_unchanged_head_is_named_at_the_head() -> None:
    records = chain(6)
    forged = rewritten(records, 2, by_mallory)
    problems = verify_chain(forged, head_of(records))
    assert [p.seq for p in problems] == [6]
    assert "hashes recomputed" in str(problems[0]) and records[-1].hash[:12] in str(problems[0])


def test_an_anchor_catches_a_rewrite_with_recomputed_hashes_and_head() -> None:
    records = chain(6)
    anchor = Anchor(4, records[3].hash)
    forged = rewritten(records, 2, by_mallory)
    problems = verify_chain(forged, head_of(forged), [anchor])
    assert [p.seq for p in problems] == [4]
    said = str(problems[0])
    assert "records 1–4 were rewritten" in said
    assert forged[3].hash[:12] in said and anchor.hash[:12] in said


def test_an_earlier_anchor_that_holds_narrows_where_the_rewrite_lies() -> None:
    records = chain(8)
    before, after = Anchor(2, records[1].hash), Anchor(6, records[5].hash)
    forged = rewritten(records, 4, lambda r: dataclasses.replace(r, fields={"event": "cancel"}))
    problems = verify_chain(forged, head_of(forged), [after, before])
    assert [p.seq for p in problems] == [6]
    assert "records 3–6 were rewritten" in str(problems[0])


def test_an_anchor_holds_while_the_log_grows_and_does_not_see_past_itself() -> None:
    records = chain(8)
    anchor = Anchor(4, records[3].hash)
    assert verify_chain(records, head_of(records), [anchor]) == []
    later = rewritten(records, 6, by_mallory)
    assert verify_chain(later, head_of(later), [anchor]) == []


def test_an_edit_without_recomputing_is_named_and_the_anchor_points_at_it() -> None:
    records = chain(6)
    anchor = Anchor(5, records[4].hash)
    records[1] = dataclasses.replace(records[1], actor="mallory")
    problems = verify_chain(records, head_of(records), [anchor])
    assert [p.seq for p in problems] == [2, 5]
    assert "altered" in str(problems[0]) and "named above" in str(problems[1])


def test_an_anchor_whose_record_is_gone_says_so() -> None:
    records = chain(6)
    anchor = Anchor(3, records[2].hash)
    del records[2]
    problems = verify_chain(records, head_of(records), [anchor])
    assert any(p.seq == 3 and "missing, but anchor 3:" in str(p) for p in problems)


def test_an_anchor_reads_as_audit_anchor_prints_it() -> None:
    digest = chain(1)[0].hash
    assert Anchor.parse(f"1:{digest}") == Anchor(1, digest)
    assert Anchor.parse(f" 12:{digest.upper()} ") == Anchor(12, digest)
    assert str(Anchor(12, digest)) == f"12:{digest}"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "12",
        "12:",
        ":" + "a" * 64,
        "x:" + "a" * 64,
        "0:" + "a" * 64,
        "-1:" + "a" * 64,
        "3:" + "a" * 63,
        "3:" + "g" * 64,
        "3:" + "a" * 65,
        "3:" + "a" * 64 + ":1",
        "9" * 5000 + ":" + "a" * 64,
        "\u0663:" + "a" * 64,
    ],
)
def test_a_malformed_anchor_is_refused(text: str) -> None:
    with pytest.raises(InvalidAnchor):
        Anchor.parse(text)


def test_an_anchor_beyond_the_log_is_refused_saying_what_it_can_mean() -> None:
    anchor = Anchor(9, "a" * 64)
    anchor.check_within(9)
    with pytest.raises(AnchorBeyondLog, match="records 6–9 were deleted, or the anchor"):
        anchor.check_within(5)


EVENTS = st.sampled_from(list(CycleEvent))
STEP = st.tuples(
    EVENTS,
    st.sampled_from(list(Trigger)),
    st.sampled_from([None, "", "committee decision"]),
    st.booleans(),
    st.integers(min_value=0, max_value=500),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(STEP, max_size=25))
def test_random_event_sequences_keep_machine_and_audit_in_agreement(
    steps: list[tuple[CycleEvent, Trigger, str | None, bool, int]],
) -> None:
    cycle = Cycle(2026, CycleCalendar.default(2026))
    records: list[AuditRecord] = []
    now = T0
    for event, trigger, reason, approved, days in steps:
        now += timedelta(days=days)
        cycle.has_approved_pairings = approved
        before = cycle.state
        try:
            decision = fire(cycle, event, now=now, trigger=trigger, reason=reason)
        except TransitionRefused:
            assert cycle.state is before
            continue
        if not decision.changed:
            assert cycle.state is before
            continue
        prev = records[-1].hash if records else GENESIS
        fields = {"event": str(event), "source": str(before), "target": str(cycle.state)}
        seq = len(records) + 1
        records.append(
            AuditRecord(
                seq,
                "transition",
                2026,
                now,
                "t",
                fields,
                prev,
                seal(seq, "transition", 2026, now, "t", fields, prev),
            )
        )
    replayed = CycleState.planned
    for rec in records:
        assert rec.fields["source"] == replayed
        replayed = CycleState(str(rec.fields["target"]))
    assert replayed is cycle.state
    assert verify_chain(records, head_of(records) if records else None) == []
