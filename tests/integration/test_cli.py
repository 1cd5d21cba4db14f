"""The ``mentoring`` command as the committee's scripts use it: JSON, exit codes, messages."""

from sqlalchemy import text

from infra import db
from tests.cli import mentoring


def test_a_newcomer_creates_and_advances_a_cycle(database_url: str) -> None:
    assert mentoring("db", "upgrade").code == 0
    assert mentoring("cycle", "create", "2026", "--close-applications", "2026-10-07").code == 0
    shown = mentoring("cycle", "show", "2026", "--json")
    assert shown.code == 0
    assert shown.json["state"] == "planned"
    assert shown.json["calendar"]["close_applications"] == "2026-10-07T23:59:59-05:00"
    assert shown.json["allowed_events"] == ["open_call", "cancel"]
    moved = mentoring("cycle", "advance", "2026", "open_call", "--actor", "chair", "--json")
    assert moved.code == 0 and moved.json["target"] == "call_open"
    again = mentoring("cycle", "advance", "2026", "open_call", "--actor", "chair")
    assert again.code == 0 and "already in state call_open" in again.stdout
    listed = mentoring("cycle", "list", "--json")
    assert [(c["year"], c["state"]) for c in listed.json["cycles"]] == [(2026, "call_open")]


def test_a_refusal_is_one_line_on_stderr_with_exit_1(database_url: str) -> None:
    mentoring("cycle", "create", "2026")
    refused = mentoring("cycle", "advance", "2026", "start_mentoring", "--actor", "chair")
    assert refused.code == 1
    assert refused.stderr.strip().count("\n") == 0
    assert "state planned" in refused.stderr and "open_call, cancel" in refused.stderr
    assert "Traceback" not in refused.stderr
    missing = mentoring("cycle", "show", "2040")
    assert missing.code == 1 and "mentoring cycle create 2040" in missing.stderr


def test_usage_errors_exit_2(database_url: str) -> None:
    assert mentoring("cycle", "advance", "2026", "fly_away", "--actor", "x").code == 2
    assert mentoring("cycle", "advance", "2026", "open_call").code == 2


def test_audit_json_lists_transitions_with_their_trigger(database_url: str) -> None:
    mentoring("cycle", "create", "2026")
    mentoring("cycle", "advance", "2026", "open_call", "--actor", "chair")
    history = mentoring("audit", "2026", "--json").json
    assert [
        (t["event"], t["source"], t["target"], t["actor"], t["trigger"])
        for t in history["transitions"]
    ] == [("open_call", "planned", "call_open", "chair", "cli")]


def test_audit_verify_fails_on_a_row_edited_in_the_table(database_url: str) -> None:
    mentoring("cycle", "create", "2026")
    mentoring("cycle", "advance", "2026", "open_call", "--actor", "chair")
    mentoring("cycle", "advance", "2026", "cancel", "--actor", "chair", "--reason", "test")
    intact = mentoring("audit", "verify", "--json")
    assert intact.code == 0 and intact.json == {"ok": True, "records": 3, "problems": []}
    with db.engine_for(database_url).begin() as conn:
        conn.execute(text("UPDATE audit_log SET actor = 'someone else' WHERE seq = 2"))
    tampered = mentoring("audit", "verify")
    assert tampered.code == 1
    assert "audit record 2" in tampered.stdout and "altered" in tampered.stdout


def test_audit_verify_names_a_deleted_row(database_url: str) -> None:
    mentoring("cycle", "create", "2026")
    mentoring("cycle", "advance", "2026", "open_call", "--actor", "chair")
    mentoring("cycle", "advance", "2026", "cancel", "--actor", "chair", "--reason", "test")
    with db.engine_for(database_url).begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq = 2"))
    tampered = mentoring("audit", "verify", "--json")
    assert tampered.code == 1
    assert any("audit record 2" in p and "missing" in p for p in tampered.json["problems"])


def test_db_upgrade_says_whether_it_changed_anything(database_url: str) -> None:
    again = mentoring("db", "upgrade", "--json")
    assert again.code == 0
    assert again.json["changed"] is False
    assert again.json["revision"] == again.json["from_revision"] is not None
    assert "up to date" in mentoring("db", "upgrade").stdout


# A naive moment is read in the committee's zone, whatever the machine's zone (TZ) is.
MACHINE_ZONES = ("UTC", "Asia/Tokyo")


def test_a_naive_tick_now_is_read_in_the_committees_default_zone(database_url: str) -> None:
    mentoring("cycle", "create", "2026")  # the call opens Aug 1, 00:00 in Chicago (05:00 UTC)
    before = mentoring("tick", "--now", "2026-07-31T23:30", "--json", env={"TZ": "UTC"})
    assert before.code == 0, before.stderr
    assert before.json["now"] == "2026-07-31T23:30:00-05:00"
    assert before.json["transitions"] == []
    # 02:00 fires only when read in Chicago: in UTC or Tokyo it is still July 31 there.
    after = mentoring("tick", "--now", "2026-08-01T02:00", "--json", env={"TZ": "Asia/Tokyo"})
    assert after.code == 0, after.stderr
    assert after.json["now"] == "2026-08-01T02:00:00-05:00"
    assert [t["event"] for t in after.json["transitions"]] == ["open_call"]


def test_a_naive_audit_as_of_is_read_in_the_cycles_zone(database_url: str) -> None:
    mentoring("cycle", "create", "2026", "--timezone", "America/Los_Angeles")
    # The call opens Aug 1, 00:00 in Los Angeles: 07:00 UTC, 02:00 in Chicago.
    opened = mentoring("tick", "--now", "2026-08-01T07:00+00:00", "--json")
    assert [t["event"] for t in opened.json["transitions"]] == ["open_call"]
    for machine in MACHINE_ZONES:
        # 00:30 in Los Angeles is after the call opened; in UTC, Tokyo or Chicago, before.
        at = mentoring(
            "audit", "2026", "--as-of", "2026-08-01T00:30", "--json", env={"TZ": machine}
        )
        assert at.code == 0, at.stderr
        assert at.json["as_of"] == "2026-08-01T00:30:00-07:00"
        assert [t["event"] for t in at.json["transitions"]] == ["open_call"]
        earlier = mentoring(
            "audit", "2026", "--as-of", "2026-07-31T23:30", "--json", env={"TZ": machine}
        )
        assert earlier.json["as_of"] == "2026-07-31T23:30:00-07:00"
        assert earlier.json["transitions"] == []
    offset = mentoring("audit", "2026", "--as-of", "2026-08-01T00:30+00:00", "--json")
    assert offset.json["transitions"] == []


def test_a_bad_moment_is_a_usage_error(database_url: str) -> None:
    assert mentoring("tick", "--now", "tomorrow").code == 2
    assert mentoring("audit", "2040", "--as-of", "yesterday").code == 2
