"""Moments in the committee's words: weekday, date, 12-hour clock, and the zone named."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.time_words import has_passed, marked_moment, moment_words, zone_words

CHICAGO = ZoneInfo("America/Chicago")


def test_the_close_of_applications_reads_as_the_committee_says_it() -> None:
    closes = datetime(2026, 9, 30, 23, 59, 59, tzinfo=CHICAGO)
    assert moment_words(closes, "America/Chicago") == "Wed Sep 30, 11:59 PM Chicago time"
    assert (
        moment_words(closes, "America/Chicago", with_year=True)
        == "Wed Sep 30, 2026, 11:59 PM Chicago time"
    )


def test_a_utc_moment_is_shown_on_the_cycle_clock_across_daylight_saving() -> None:
    summer = datetime(2026, 8, 1, 5, 0, tzinfo=UTC)  # CDT, UTC-5
    winter = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)  # CST, UTC-6
    assert moment_words(summer, "America/Chicago") == "Sat Aug 1, 12:00 AM Chicago time"
    assert moment_words(winter, "America/Chicago") == "Fri Nov 20, 12:00 AM Chicago time"


@pytest.mark.parametrize(
    ("hour", "clock"), [(0, "12:05 AM"), (9, "9:05 AM"), (12, "12:05 PM"), (13, "1:05 PM")]
)
def test_the_clock_is_twelve_hour_without_a_leading_zero(hour: int, clock: str) -> None:
    at = datetime(2027, 1, 4, hour, 5, tzinfo=UTC)
    assert moment_words(at, "UTC") == f"Mon Jan 4, {clock} UTC"


@pytest.mark.parametrize(
    ("zone", "words"),
    [
        ("America/Chicago", "Chicago time"),
        ("America/Argentina/Buenos_Aires", "Buenos Aires time"),
        ("Europe/London", "London time"),
        ("UTC", "UTC"),
        ("Etc/UTC", "UTC"),
        ("Etc/GMT+5", "GMT+5"),
    ],
)
def test_the_zone_is_named_as_people_say_it(zone: str, words: str) -> None:
    assert zone_words(zone) == words


def test_a_moment_read_back_without_offset_is_utc() -> None:
    assert moment_words(datetime(2026, 10, 1, 4, 59), "America/Chicago") == (
        "Wed Sep 30, 11:59 PM Chicago time"
    )


def test_past_moments_are_marked_and_coming_ones_are_not() -> None:
    now = datetime(2026, 10, 2, 12, 0, tzinfo=UTC)
    past, ahead = now - timedelta(days=1), now + timedelta(days=1)
    assert marked_moment(past, "America/Chicago", now).endswith("Chicago time (passed)")
    assert marked_moment(ahead, "America/Chicago", now).endswith("Chicago time")
    assert has_passed(now, now), "the moment itself has come"
    assert not has_passed(ahead, now)
