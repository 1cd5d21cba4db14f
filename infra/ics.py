"""The orientation's calendar invitation (iCalendar, RFC 5545), as the mail attachment sent.

The event carries the committee's time zone (a TZID plus its VTIMEZONE) rather than UTC,
so calendars show the time the committee announced, across daylight-saving changes. The
UID is fixed per cycle: a re-sent invitation (a new time, a new link) replaces the event
in the recipient's calendar instead of adding a second one; SEQUENCE orders the updates.
It is an informational event (METHOD:PUBLISH, repeated as the MIME ``method`` parameter as
RFC 6047 asks): calendars offer to add it, and nobody is asked to reply.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress

from domain.notifications import Attachment

CONTENT_TYPE = "text/calendar; method=PUBLISH; charset=UTF-8"


def orientation_uid(cycle_year: int, uid_domain: str) -> str:
    """The event's UID: one orientation per cycle."""
    return f"orientation-{cycle_year}@{uid_domain}"


def orientation_invitation(
    cycle_year: int,
    starts_at: dt.datetime,
    duration: dt.timedelta,
    join_url: str,
    organizer_email: str,
    *,
    sequence: int = 0,
    stamp: dt.datetime | None = None,
) -> Attachment:
    """The invitation attached to the orientation mail: the event, in the zone of ``starts_at``.

    ``starts_at`` must carry a ``zoneinfo.ZoneInfo`` (a named zone, not a bare offset),
    so the calendar knows the zone's daylight-saving rules. The UID's domain is the
    organizer's. Raise ``sequence`` on each change; ``stamp`` (DTSTAMP) defaults to now and
    is a parameter for reproducible output.
    """
    zone = starts_at.tzinfo
    if not isinstance(zone, ZoneInfo):
        raise ValueError("starts_at needs a named time zone (zoneinfo.ZoneInfo)")
    if duration <= dt.timedelta(0):
        raise ValueError("the orientation needs a positive duration")

    program_year = f"{cycle_year}\u2013{(cycle_year + 1) % 100:02d}"
    event = Event()
    event.add("uid", orientation_uid(cycle_year, organizer_email.rpartition("@")[2]))
    event.add("sequence", sequence)
    event.add("dtstamp", stamp or dt.datetime.now(dt.UTC))
    event.add("dtstart", starts_at)
    event.add("dtend", starts_at + duration)
    event.add("summary", f"Core Mentoring Program {program_year}: orientation")
    event.add(
        "description",
        "Orientation for this year's mentors and mentees of the Core Mentoring Program.\n"
        f"Join: {join_url}",
    )
    event.add("location", join_url)
    event.add("url", join_url)
    organizer = vCalAddress(f"mailto:{organizer_email}")
    organizer.params["cn"] = "Core Mentoring Program"
    event.add("organizer", organizer)

    calendar = Calendar()
    calendar.add("prodid", "-//Core Mentoring Program//mentoring-cycle//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add_component(event)
    calendar.add_missing_timezones(
        first_date=dt.date(starts_at.year - 1, 1, 1), last_date=dt.date(starts_at.year + 2, 1, 1)
    )
    ical: bytes = calendar.to_ical()
    return Attachment(f"core-mentoring-orientation-{cycle_year}.ics", CONTENT_TYPE, ical)
