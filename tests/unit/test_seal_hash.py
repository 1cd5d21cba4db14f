"""The seal's hashes stay the very bytes rows were sealed with, however they are computed."""

import hashlib
import json
from datetime import UTC, date, datetime
from enum import IntEnum, StrEnum
from zoneinfo import ZoneInfo

import pytest

from infra.seal_hash import _plain, encoded, entries_digest, row_hash

CHICAGO = ZoneInfo("America/Chicago")


class Status(StrEnum):
    pending = "pending"


class Level(IntEnum):
    high = 3


ROW: list[object] = [
    "Ada",
    None,
    7,
    True,
    1.5,
    date(2026, 1, 2),
    datetime(2026, 3, 4, 5, 6, 7, tzinfo=CHICAGO),
    datetime(2026, 3, 4, 5, 6, 7),
    [{"b": 1, "a": "x"}],
    "é☃",
    "",
]


def framed(values: list[object]) -> str:
    """The format as first written: each value's bytes after their length, 8 bytes."""
    return hashlib.sha256(
        b"".join(len(encoded(v)).to_bytes(8, "big") + encoded(v) for v in values)
    ).hexdigest()


def test_a_row_hashes_as_it_did_when_the_first_rows_were_sealed() -> None:
    # Computed with the row hash of the first release of row seals.
    assert row_hash(ROW) == "3914b18ed2d1b37cdd0c7c22871d1f39b5fcd39a37ebb75d6f10d13d0c734714"


def test_every_kind_of_value_is_framed_alike_on_the_fast_path_and_off_it() -> None:
    same_moment = datetime(2026, 3, 4, 11, 6, 7, tzinfo=UTC)
    rows: list[list[object]] = [
        ROW,
        [Status.pending, Level.high, False, 0, -12, 2**70, "x" * 100_000],
        [same_moment, same_moment.astimezone(CHICAGO), date(2026, 3, 4)],
        [{"k": [1, 2.5, None]}, ["a"], 1e-300, float("inf")],
        [],
    ]
    for values in rows:
        assert row_hash(values) == framed(values)
    assert row_hash(["ab", "c"]) != row_hash(["a", "bc"])
    assert row_hash([same_moment]) == row_hash([same_moment.astimezone(CHICAGO)])
    assert row_hash([date(2026, 3, 4)]) != row_hash([datetime(2026, 3, 4)])


def test_a_records_entries_digest_is_the_same_in_any_order() -> None:
    entries = [("tasks", '["b"]', "ab"), ("messages", '["a"]', None), ("tasks", '["a"]', "cd")]
    digest = "e989cb4d95798a14403e1aceb1436fe8e28d1b79d2fd6e709c8d82b04e1f664f"
    assert entries_digest(entries) == digest
    assert entries_digest(reversed(entries)) == digest
    lines = 'messages\t["a"]\t-\ntasks\t["a"]\tcd\ntasks\t["b"]\tab\n'
    assert hashlib.sha256(lines.encode()).hexdigest() == digest


def test_json_values_are_framed_as_json_dumps_writes_them() -> None:
    values: list[object] = [
        [],
        {},
        [{"name": "invite.ics", "content_type": "text/calendar", "data": "QkVHSU4="}],
        {"z": 1, "a": [True, None, 2.5, float("nan"), -0.0], "é": '☃ "q" \\ \n'},
        {"when": datetime(2026, 3, 4, 5, 6, 7, tzinfo=CHICAGO), "day": date(2026, 1, 2)},
        ("a", 1),
    ]
    for value in values:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=_plain)
        assert encoded(value) == b"J" + text.encode()
        assert row_hash([value]) == framed([value])
    looped: list[object] = []
    looped.append(looped)
    with pytest.raises(ValueError, match="Circular reference"):
        encoded(looped)
    assert encoded([[1]]) == b"J[[1]]"  # nothing left marked by the failure before
