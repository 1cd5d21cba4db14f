"""The ``mentoring`` command as the committee's scripts use it: JSON, exit codes, messages,
and human output that stays readable whatever the input (its failures are in
``test_cli_failures``)."""

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from domain.cycle_states import CycleEvent, Trigger
from flows.usecases import cycles
from infra import db
from infra.uow import UnitOfWork
from tests.builders import paired_cycle
from tests.cli import Run, mentoring, mentoring_here


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


# --- A large import prints a summary; --json lists everything -----------------------------

LARGE = 5_000
ROSTER_HEADER = "member_id,first_name,last_name,email,institution,membership_expires\n"
APPLICATIONS_HEADER = (
    "submitted_at,member_id,email,role,areas,career_stage,institution,library_type,"
    "time_zone,goals,max_mentees\n"
)


def _roster(path: Path, email: str = "m{i}@example.org") -> Path:
    """A roster of 5,000 members whose e-mail addresses follow ``email``, but for the first."""
    path.write_text(
        ROSTER_HEADER
        + "".join(
            f"M{i:05d},Ana,Member {i},{email.format(i=i) if i else 'm0@example.org'},"
            f"Library {i},2035-12-31\n"
            for i in range(LARGE)
        )
    )
    return path


def _applications(path: Path) -> Path:
    path.write_text(
        APPLICATIONS_HEADER
        + "".join(
            f"2026-08-02T10:00,M{i:05d},m{i}@example.org,mentee,Technology,early,"
            f"Library {i},academic,America/Chicago,learn,\n"
            for i in range(LARGE)
        )
    )
    return path


def _summary(run: Run) -> str:
    """The human output, checked to be a summary: a few lines, whatever the file's size."""
    assert run.code == 0, run.stderr
    assert len(run.stdout) < 2_500, run.stdout[:3_000]
    assert len(run.stdout.splitlines()) <= 15
    return " ".join(run.stdout.split())


def test_reimporting_a_large_roster_and_its_applications_prints_a_summary(
    uow: UnitOfWork, tmp_path: Path
) -> None:
    cycles.create_cycle(uow, 2026, timezone="America/Chicago", milestones={}, actor="chair")
    cycles.fire_event(
        uow,
        2026,
        CycleEvent.open_call,
        actor="s",
        trigger=Trigger.schedule,
        now=datetime(2026, 8, 2, 12, tzinfo=UTC),
    )
    roster = _roster(tmp_path / "roster.csv")
    first = _summary(mentoring_here("members", "import", str(roster)))
    assert "added 5000 updated 0" in first.replace(",", "")
    again = _summary(mentoring_here("members", "import", str(roster)))
    assert "unchanged 5000 rejected 0" in again.replace(",", "")
    apps = _applications(tmp_path / "applications.csv")
    mentoring_here("applications", "import", "2026", str(apps))
    reimported = _summary(mentoring_here("applications", "import", "2026", str(apps)))
    assert "imported 5000 application(s)" in reimported
    assert "replaced 5000 earlier ones (M00000, M00001, M00002" in reimported
    assert "… and 4,995 more; --json lists them all" in reimported
    listed = mentoring_here("applications", "import", "2026", str(apps), "--json").json
    assert sorted(listed["replaced"]) == [f"M{i:05d}" for i in range(LARGE)]


def test_a_large_file_of_refused_lines_prints_a_few_and_counts_the_rest(
    uow: UnitOfWork, tmp_path: Path
) -> None:
    bad = _roster(tmp_path / "roster.csv", email="not-an-address-{i}")
    told = _summary(mentoring_here("members", "import", str(bad)))
    assert "added 1," in told and "rejected 4999" in told
    assert "line 3:" in told and "line 12:" in told and "line 13:" not in told
    assert "… and 4,989 more; --json lists them all" in told
    listed = mentoring_here("members", "import", str(bad), "--json").json
    assert [r["line"] for r in listed["rejected"]] == list(range(3, LARGE + 2))


def test_a_large_survey_export_of_refused_lines_prints_a_few(
    uow: UnitOfWork, tmp_path: Path
) -> None:
    paired = paired_cycle(uow)
    for event, when in (
        (CycleEvent.start_orientation, datetime(2026, 11, 20, 12, tzinfo=UTC)),
        (CycleEvent.start_mentoring, datetime(2026, 12, 1, 12, tzinfo=UTC)),
        (CycleEvent.end_mentoring, datetime(2027, 7, 1, 12, tzinfo=UTC)),
    ):
        cycles.fire_event(paired, 2026, event, actor="s", trigger=Trigger.schedule, now=when)
    survey = tmp_path / "survey.csv"
    survey.write_text(
        "submitted_at,member_id,role,overall,goals_met,would_recommend,will_continue,comments\n"
        + "".join(f"2027-07-02T10:00,X{i:05d},mentee,4,4,yes,yes,\n" for i in range(LARGE))
    )
    told = _summary(mentoring_here("assessment", "import", "2026", str(survey)))
    assert "rejected 5000" in told and "… and 4,990 more; --json lists them all" in told
    listed = mentoring_here("assessment", "import", "2026", str(survey), "--json").json
    assert len(listed["rejected"]) == LARGE


# --- A stored value that looks like Rich markup is printed as it is --------------------------


def test_a_value_that_looks_like_markup_is_printed_as_it_is(database_url: str) -> None:
    actor = "[/x] [bold]chair"
    assert mentoring_here("cycle", "create", "2027", "--actor", actor).code == 0
    moved = mentoring_here(
        "cycle", "advance", "2027", "open_call", "--actor", actor, "--reason", "[/y] early"
    )
    assert moved.code == 0, moved
    assert actor in moved.stdout
    for args in (("audit", "2027"), ("tasks", "list", "2027"), ("cycle", "show", "2027")):
        shown = mentoring_here(*args)
        assert shown.code == 0, shown
    assert "[/x]" in mentoring_here("audit", "2027").stdout
