"""The orientation's calendar invitation as sent: parseable, in the committee's zone, stable
per cycle."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar, Event

from domain.notifications import Attachment
from infra.ics import CONTENT_TYPE, orientation_invitation, orientation_uid

CHICAGO = ZoneInfo("America/Chicago")
STARTS = dt.datetime(2026, 11, 20, 12, 0, tzinfo=CHICAGO)
JOIN = "https://meet.example.org/core-orientation?pwd=a1&b=2"


def sent(starts_at: dt.datetime = STARTS, cycle_year: int = 2026, **kw: object) -> Attachment:
    return orientation_invitation(
        cycle_year,
        starts_at,
        dt.timedelta(minutes=90),
        JOIN,
        "mentoring@core.example.org",
        **kw,  # type: ignore[arg-type]
    )


def invitation(starts_at: dt.datetime = STARTS, cycle_year: int = 2026, **kw: object) -> bytes:
    return sent(starts_at, cycle_year, **kw).data


def the_event(data: bytes) -> Event:
    events = Calendar.from_ical(data).walk("VEVENT")
    assert len(events) == 1
    event = events[0]
    assert isinstance(event, Event)
    return event


def start_of(event: Event) -> dt.datetime:
    start = event.start
    assert isinstance(start, dt.datetime)
    return start


def test_the_event_starts_at_the_orientation_in_the_committees_zone() -> None:
    event = the_event(invitation())
    start = start_of(event)

    assert event["DTSTART"].params["TZID"] == "America/Chicago"
    assert start == STARTS
    assert start.tzinfo is not None and str(start.tzinfo) == "America/Chicago"
    assert start.utcoffset() == dt.timedelta(hours=-6)
    assert event.end - start == dt.timedelta(minutes=90)
    assert b"DTSTART;TZID=America/Chicago:20261120T120000" in invitation()


def test_the_calendar_carries_the_zone_definition() -> None:
    calendar = Calendar.from_ical(invitation())
    zones = calendar.walk("VTIMEZONE")
    assert [str(zone["TZID"]) for zone in zones] == ["America/Chicago"]
    assert calendar["METHOD"] == "PUBLISH"


def test_a_summer_orientation_uses_daylight_time() -> None:
    summer = dt.datetime(2027, 6, 2, 9, 30, tzinfo=CHICAGO)
    start = start_of(the_event(invitation(summer)))
    assert start.utcoffset() == dt.timedelta(hours=-5)
    assert start.astimezone(dt.UTC) == dt.datetime(2027, 6, 2, 14, 30, tzinfo=dt.UTC)


def test_a_resend_keeps_the_uid_so_calendars_update_rather_than_duplicate() -> None:
    first = the_event(invitation())
    moved = the_event(invitation(STARTS + dt.timedelta(days=1), sequence=1))
    next_year = the_event(invitation(cycle_year=2027))

    assert first["UID"] == moved["UID"] == orientation_uid(2026, "core.example.org")
    assert first["UID"] == "orientation-2026@core.example.org"
    assert next_year["UID"] != first["UID"]
    assert (str(first["SEQUENCE"]), str(moved["SEQUENCE"])) == ("0", "1")


def test_the_event_has_the_join_link_and_the_organizer() -> None:
    event = the_event(invitation())
    assert str(event["LOCATION"]) == JOIN
    assert JOIN in str(event["DESCRIPTION"])
    assert str(event["ORGANIZER"]) == "mailto:mentoring@core.example.org"
    assert "orientation" in str(event["SUMMARY"])


def test_the_same_stamp_gives_the_same_bytes() -> None:
    stamp = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    assert invitation(stamp=stamp) == invitation(stamp=stamp)


@pytest.mark.parametrize(
    "starts_at",
    [dt.datetime(2026, 11, 20, 12), dt.datetime(2026, 11, 20, 18, tzinfo=dt.UTC)],
    ids=["naive", "bare-utc"],
)
def test_the_start_needs_a_named_zone(starts_at: dt.datetime) -> None:
    with pytest.raises(ValueError, match="named time zone"):
        invitation(starts_at)


def test_it_is_sent_as_a_calendar_attachment_named_for_the_cycle() -> None:
    attachment = sent()
    assert attachment.filename == "core-mentoring-orientation-2026.ics"
    assert attachment.content_type == CONTENT_TYPE
    assert attachment.data.startswith(b"BEGIN:VCALENDAR")


def test_the_mime_method_matches_the_calendars() -> None:
    method = Calendar.from_ical(invitation())["METHOD"]
    assert f"method={method};" in sent().content_type
    assert sent().content_type.startswith("text/calendar;")
