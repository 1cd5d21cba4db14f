"""The audit hash chain, and a property test: the machine and its audit never disagree."""

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.audit import GENESIS, AuditRecord, seal, verify_chain
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
