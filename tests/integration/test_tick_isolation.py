"""One cycle whose stored values the program refuses does not stop the daily tick: it is
reported with its year, and every other cycle still moves, once."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, text
from sqlalchemy.exc import DataError

from domain.cycle import Cycle
from domain.cycle_states import CycleEvent
from flows.usecases import audit, cycles, tick
from flows.usecases.tick import TickReport, run_tick
from infra import db
from infra.tables import CycleSettingsRow
from infra.uow import UnitOfWork
from tests.cli import mentoring

POISONED, HEALTHY = 2026, 2027
NOW = datetime(2026, 8, 2, 12, tzinfo=UTC)  # both calls are due to open


def _sql(url: str, statement: str) -> None:
    with db.engine_for(url).begin() as conn:
        conn.execute(text(statement))


def _settings(url: str, settings: dict[str, object]) -> None:
    with db.engine_for(url).begin() as conn:
        conn.execute(insert(CycleSettingsRow).values(cycle_year=POISONED, settings=settings))


# Each a value stored behind the program's back, by SQL, that the program refuses to use.
POISONS = {
    "time zone that is a folder": lambda url: _sql(
        url, f"UPDATE cycles SET timezone = 'America' WHERE year = {POISONED}"
    ),
    "committee address that is no address": lambda url: _settings(
        url, {"program": {"committee_email": "the committee"}}
    ),
    "unknown program setting": lambda url: _settings(url, {"program": {"colour": "red"}}),
    "unknown state": lambda url: _sql(
        url, f"UPDATE cycles SET state = 'limbo' WHERE year = {POISONED}"
    ),
    "unknown milestone": lambda url: _sql(
        url,
        "UPDATE milestones SET event = 'fly_away' "
        f"WHERE cycle_year = {POISONED} AND event = 'open_call'",
    ),
}


@pytest.fixture
def two_cycles_due(uow: UnitOfWork) -> UnitOfWork:
    """Cycles 2026 and 2027, both due to open their call on ``NOW``."""
    cycles.create_cycle(uow, POISONED, timezone="America/Chicago", milestones={}, actor="chair")
    cycles.create_cycle(
        uow,
        HEALTHY,
        timezone="America/Chicago",
        milestones={CycleEvent.open_call: "2026-08-01"},
        actor="chair",
    )
    return uow


def _stored_state(url: str, year: int) -> str:
    with db.engine_for(url).connect() as conn:
        return str(conn.scalar(text(f"SELECT state FROM cycles WHERE year = {year}")))


def _transitions_recorded(url: str, year: int) -> int:
    query = f"SELECT count(*) FROM audit_log WHERE cycle_year = {year} AND kind = 'transition'"
    with db.engine_for(url).connect() as conn:
        return int(conn.scalar(text(query)) or 0)


def _assert_healthy_opened_once(uow: UnitOfWork) -> None:
    assert cycles.describe(uow, HEALTHY).state == "call_open"
    (opened,) = audit.history(uow, HEALTHY).transitions
    assert (opened.event, opened.trigger) == ("open_call", "schedule")


def _assert_poisoned_reported(report: TickReport) -> None:
    (failure,) = report.failed
    assert failure.year == POISONED
    assert failure.error.strip() and "\n" not in failure.error
    assert report.as_dict()["failed"] == [{"year": POISONED, "error": failure.error}]


@pytest.mark.parametrize("poison", list(POISONS))
def test_a_cycle_with_a_refused_stored_value_is_reported_and_the_others_move(
    two_cycles_due: UnitOfWork, database_url: str, poison: str
) -> None:
    before = _stored_state(database_url, POISONED) if poison != "unknown state" else "limbo"
    POISONS[poison](database_url)
    report = run_tick(two_cycles_due, now=NOW)
    assert [(t.year, t.event) for t in report.transitions] == [(HEALTHY, "open_call")]
    _assert_poisoned_reported(report)
    _assert_healthy_opened_once(two_cycles_due)
    assert _stored_state(database_url, POISONED) == before
    assert _transitions_recorded(database_url, POISONED) == 0
    again = run_tick(two_cycles_due, now=NOW)
    assert again.transitions == ()
    _assert_poisoned_reported(again)
    _assert_healthy_opened_once(two_cycles_due)


# What a reader that takes a stored value unchecked, or the database, may raise for one
# cycle's rows: each is that cycle's failure, in one line, and not the tick's.
RAW_ERRORS = {
    "ValueError": (ValueError("'x' is not a valid Role"), "ValueError: 'x' is not a valid Role"),
    "KeyError": (KeyError("Mars/Olympus"), "KeyError: 'Mars/Olympus'"),
    "database": (
        DataError("INSERT …", {}, Exception("value too long for type character varying(64)\n")),
        "database error: value too long for type character varying(64)",
    ),
}


@pytest.mark.parametrize("kind", list(RAW_ERRORS))
def test_a_raw_error_from_one_cycle_is_that_cycles_failure(
    two_cycles_due: UnitOfWork, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    error, said = RAW_ERRORS[kind]
    queue = tick.queue_reminders

    def queue_unless_poisoned(uow: UnitOfWork, cycle: Cycle, now: datetime) -> int:
        if cycle.year == POISONED:
            raise error
        return queue(uow, cycle, now)

    monkeypatch.setattr(tick, "queue_reminders", queue_unless_poisoned)
    report = run_tick(two_cycles_due, now=NOW)
    (failure,) = report.failed
    assert failure.year == POISONED and said in failure.error and "\n" not in failure.error
    assert {t.year for t in report.transitions} == {POISONED, HEALTHY}
    assert cycles.describe(two_cycles_due, HEALTHY).state == "call_open"


def test_the_report_keeps_its_keys_and_adds_the_failures(
    two_cycles_due: UnitOfWork, database_url: str
) -> None:
    POISONS["time zone that is a folder"](database_url)
    report = run_tick(two_cycles_due, now=NOW).as_dict()
    assert list(report) == ["now", "transitions", "held", "failed"]
    assert report["failed"][0]["year"] == POISONED
    assert "America" in report["failed"][0]["error"]


def test_tick_exits_1_naming_the_cycle_that_could_not_move(
    two_cycles_due: UnitOfWork, database_url: str
) -> None:
    POISONS["time zone that is a folder"](database_url)
    ran = mentoring("tick", "--now", NOW.isoformat())
    assert ran.code == 1
    assert "Traceback" not in ran.stderr
    (line,) = ran.stderr.strip().splitlines()
    assert str(POISONED) in line and "America" in line
    assert f"cycle {HEALTHY}: planned → call_open" in ran.stdout
    _assert_healthy_opened_once(two_cycles_due)
    again = mentoring("tick", "--now", NOW.isoformat(), "--json")
    assert again.code == 1
    assert "Traceback" not in again.stderr
    assert again.json["transitions"] == []
    assert [f["year"] for f in again.json["failed"]] == [POISONED]
    assert again.json["exit"] == 1 and str(POISONED) in again.json["error"]
    assert again.stderr.strip() == again.json["error"]
    _assert_healthy_opened_once(two_cycles_due)


def test_a_tick_with_every_cycle_healthy_still_exits_0(
    two_cycles_due: UnitOfWork, database_url: str
) -> None:
    ran = mentoring("tick", "--now", NOW.isoformat(), "--json")
    assert ran.code == 0, ran.stderr
    assert ran.json["failed"] == [] and "error" not in ran.json
    assert sorted(t["year"] for t in ran.json["transitions"]) == [POISONED, HEALTHY]
