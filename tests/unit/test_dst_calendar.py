"""Daylight saving days: wall-clock times that do not exist, or exist twice, and the order
of milestones set around them (the calendar module's wall-clock rule)."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.calendar import CycleCalendar, parse_milestone, wall_clock, zone
from domain.cycle_states import CycleEvent
from domain.errors import CalendarError, DomainError
from domain.program import ProgramDetails

CHICAGO = ZoneInfo("America/Chicago")
SPRING_FORWARD = "2027-03-14"  # Chicago: 02:00 CST -> 03:00 CDT
FALL_BACK = "2027-11-07"  # Chicago: 02:00 CDT -> 01:00 CST
END, SURVEY_CLOSES = CycleEvent.end_mentoring, CycleEvent.complete_assessment


def moved(cal: CycleCalendar, **texts: str) -> CycleCalendar:
    changes = {
        CycleEvent(name): parse_milestone(CycleEvent(name), t, CHICAGO) for name, t in texts.items()
    }
    return cal.with_changes(changes)


def survey_window(cal: CycleCalendar) -> timedelta:
    closes, ends = cal.milestones[SURVEY_CLOSES], cal.milestones[END]
    return closes.astimezone(UTC) - ends.astimezone(UTC)


def test_a_time_the_clocks_skip_is_refused_saying_why() -> None:
    with pytest.raises(CalendarError) as refused:
        parse_milestone(END, f"{SPRING_FORWARD}T02:30", CHICAGO)
    assert str(refused.value) == (
        "2027-03-14T02:30 does not exist in America/Chicago (clocks go forward from 02:00 "
        "to 03:00 that day); pick another time"
    )


def test_a_skipped_time_given_as_an_aware_datetime_is_refused_too() -> None:
    skipped = datetime(2027, 3, 14, 2, 30, tzinfo=CHICAGO)
    with pytest.raises(CalendarError, match="does not exist in America/Chicago"):
        CycleCalendar.default(2026).with_changes({END: skipped})
    with pytest.raises(CalendarError, match="does not exist"):
        wall_clock(datetime(2027, 3, 14, 2, 0), CHICAGO)


def test_the_old_zero_survey_window_can_no_longer_be_set() -> None:
    with pytest.raises(CalendarError, match="does not exist"):
        moved(
            CycleCalendar.default(2026),
            end_mentoring=f"{SPRING_FORWARD}T02:30",
            complete_assessment=f"{SPRING_FORWARD}T03:30",
        )


def test_milestones_half_an_hour_apart_across_the_jump_stay_ordered() -> None:
    cal = moved(
        CycleCalendar.default(2026),
        end_mentoring=f"{SPRING_FORWARD}T01:45",
        complete_assessment=f"{SPRING_FORWARD}T03:15",
    )
    assert cal.as_iso()["end_mentoring"] == "2027-03-14T01:45:00-06:00"
    assert cal.as_iso()["complete_assessment"] == "2027-03-14T03:15:00-05:00"
    assert survey_window(cal) == timedelta(minutes=30)
    stored = CycleCalendar(
        cal.timezone, {e: at.astimezone(UTC) for e, at in cal.milestones.items()}
    )
    stored.check_order()
    assert stored.as_iso() == cal.as_iso()
    assert survey_window(stored) == timedelta(minutes=30)


def test_order_is_checked_on_instants_not_on_wall_times() -> None:
    first = datetime(2027, 11, 7, 1, 45, tzinfo=CHICAGO)  # CDT, 06:45 UTC
    second = datetime(2027, 11, 7, 1, 15, fold=1, tzinfo=CHICAGO)  # CST, 07:15 UTC
    base = CycleCalendar.default(2026).milestones
    CycleCalendar("America/Chicago", {**base, END: first, SURVEY_CLOSES: second}).check_order()
    with pytest.raises(CalendarError, match="must come after"):
        CycleCalendar(
            "America/Chicago",
            {
                **base,
                END: datetime(2027, 11, 7, 1, 15, fold=1, tzinfo=CHICAGO),
                SURVEY_CLOSES: datetime(2027, 11, 7, 1, 45, tzinfo=CHICAGO),
            },
        ).check_order()


def test_a_time_that_occurs_twice_means_the_first_occurrence() -> None:
    at = parse_milestone(SURVEY_CLOSES, f"{FALL_BACK}T01:30", CHICAGO)
    assert at.utcoffset() == timedelta(hours=-5)
    assert at.astimezone(UTC) == datetime(2027, 11, 7, 6, 30, tzinfo=UTC)


def test_an_explicit_offset_names_an_instant_and_is_kept() -> None:
    at = parse_milestone(END, f"{SPRING_FORWARD}T02:30-06:00", CHICAGO)
    assert at.astimezone(CHICAGO).isoformat() == "2027-03-14T03:30:00-05:00"


def test_a_bare_date_whose_midnight_is_skipped_starts_when_the_clocks_resume() -> None:
    havana = zone("America/Havana")  # 00:00 CST -> 01:00 CDT on 2027-03-14
    at = parse_milestone(CycleEvent.start_orientation, SPRING_FORWARD, havana)
    assert at.isoformat() == "2027-03-14T01:00:00-04:00"
    assert at.date() == date(2027, 3, 14)


def test_a_cycle_in_a_zone_with_a_midnight_change_still_gets_its_default_calendar() -> None:
    cal = CycleCalendar.default(2006, "America/Sao_Paulo")  # Nov 5 2006 skipped midnight
    assert cal.as_iso()["announce_pairings"] == "2006-11-05T01:00:00-02:00"
    cal.check_order()


def test_the_orientation_follows_the_same_rule() -> None:
    cal = CycleCalendar.default(2026)
    skipped = {"orientation_at": f"{SPRING_FORWARD}T02:30"}
    with pytest.raises(CalendarError, match="does not exist in America/Chicago"):
        ProgramDetails.from_settings(skipped, CHICAGO)
    with pytest.raises(CalendarError, match="does not exist"):
        ProgramDetails.from_settings(skipped).orientation_start(cal)
    twice = ProgramDetails.from_settings({"orientation_at": "2026-11-01T01:30"}, CHICAGO)
    assert twice.orientation_start(cal).utcoffset() == timedelta(hours=-5)


def test_a_folder_of_zones_or_a_year_out_of_range_is_refused_before_it_crashes() -> None:
    with pytest.raises(CalendarError, match="'America'"):
        zone("America")
    with pytest.raises(CalendarError, match="'America'"):
        CycleCalendar("America")
    for year in (0, 1, 9999):
        with pytest.raises(DomainError, match="2000 to 2100"):
            CycleCalendar.default(year)


def test_a_milestone_at_the_edge_of_the_calendar_is_refused_not_overflowed() -> None:
    from domain.calendar import CycleCalendar, parse_milestone
    from domain.cycle_states import CycleEvent
    from domain.errors import CalendarError

    calendar = CycleCalendar.default(2031, "UTC")
    for text in ("0001-01-01T00:00+01:00", "9999-12-31T23:00-05:00"):
        moment = parse_milestone(CycleEvent.open_call, text, calendar.tz)
        with pytest.raises(CalendarError, match="outside the dates a cycle can have"):
            calendar.with_changes({CycleEvent.open_call: moment})


def test_a_bare_date_at_the_edge_of_the_calendar_is_refused_in_a_zone_behind_utc() -> None:
    # 9999-12-31, end of day in Chicago, is already year 10000 in UTC (found by hypothesis)
    with pytest.raises(CalendarError, match="outside the dates a cycle can have"):
        parse_milestone(CycleEvent.close_applications, "9999-12-31", zone("America/Chicago"))
