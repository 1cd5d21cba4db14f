"""The cycle calendar: SPEC defaults, daylight saving time, edits before a date passes."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.calendar import CycleCalendar, parse_milestone
from domain.cycle_states import CycleEvent
from domain.errors import CalendarError

CHICAGO = ZoneInfo("America/Chicago")


def test_default_calendar_follows_the_program_year() -> None:
    iso = CycleCalendar.default(2026).as_iso()
    assert iso == {
        "open_call": "2026-08-01T00:00:00-05:00",
        "close_applications": "2026-09-30T23:59:59-05:00",
        "announce_pairings": "2026-11-05T00:00:00-06:00",
        "start_orientation": "2026-11-20T00:00:00-06:00",
        "start_mentoring": "2026-12-01T00:00:00-06:00",
        "end_mentoring": "2027-06-30T23:59:59-05:00",
        "complete_assessment": "2027-08-01T00:00:00-05:00",
    }


def test_mentoring_lasts_six_months() -> None:
    cal = CycleCalendar.default(2026)
    begins, ends = cal.due_at(CycleEvent.start_mentoring), cal.due_at(CycleEvent.end_mentoring)
    assert begins is not None and ends is not None
    assert (begins.month, ends.month, ends.year - begins.year) == (12, 6, 1)


def test_daylight_saving_time_is_respected_across_the_november_change() -> None:
    cal = CycleCalendar.default(2026)
    close, announce = (
        cal.due_at(CycleEvent.close_applications),
        cal.due_at(CycleEvent.announce_pairings),
    )
    assert close is not None and announce is not None
    assert close.utcoffset() == timedelta(hours=-5)
    assert announce.utcoffset() == timedelta(hours=-6)
    assert announce.astimezone(UTC).hour == 6


def test_another_time_zone_shifts_every_milestone() -> None:
    cal = CycleCalendar.default(2026, "Europe/London")
    at = cal.due_at(CycleEvent.open_call)
    assert at is not None and at.isoformat() == "2026-08-01T00:00:00+01:00"


def test_unknown_time_zone_is_refused_by_name() -> None:
    with pytest.raises(CalendarError, match="Mars/Olympus"):
        CycleCalendar.default(2026, "Mars/Olympus")


def test_a_milestone_can_move_before_it_passes() -> None:
    cal = CycleCalendar.default(2026)
    new = parse_milestone(CycleEvent.close_applications, "2026-10-07", CHICAGO)
    moved = cal.with_changes(
        {CycleEvent.close_applications: new}, now=datetime(2026, 9, 1, tzinfo=UTC)
    )
    assert moved.as_iso()["close_applications"] == "2026-10-07T23:59:59-05:00"


def test_a_milestone_that_has_passed_cannot_move() -> None:
    cal = CycleCalendar.default(2026)
    new = parse_milestone(CycleEvent.open_call, "2026-08-10", CHICAGO)
    with pytest.raises(CalendarError, match="already passed"):
        cal.with_changes({CycleEvent.open_call: new}, now=datetime(2026, 8, 5, tzinfo=UTC))


def test_a_milestone_cannot_move_into_the_past() -> None:
    cal = CycleCalendar.default(2026)
    new = parse_milestone(CycleEvent.close_applications, "2026-08-20", CHICAGO)
    with pytest.raises(CalendarError, match="in the past"):
        cal.with_changes({CycleEvent.close_applications: new}, now=datetime(2026, 9, 1, tzinfo=UTC))


def test_milestones_must_stay_in_order() -> None:
    cal = CycleCalendar.default(2026)
    new = parse_milestone(CycleEvent.announce_pairings, "2026-12-15", CHICAGO)
    with pytest.raises(CalendarError, match="must come after"):
        cal.with_changes({CycleEvent.announce_pairings: new})


def test_a_full_datetime_keeps_its_time_and_a_bad_one_is_named() -> None:
    at = parse_milestone(CycleEvent.start_orientation, "2026-11-20T14:00", CHICAGO)
    assert at.isoformat() == "2026-11-20T14:00:00-06:00"
    with pytest.raises(CalendarError, match="'20 Nov'"):
        parse_milestone(CycleEvent.start_orientation, "20 Nov", CHICAGO)
