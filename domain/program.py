"""The per-cycle details the committee sets: links, the orientation session, the call list.

Each detail reaches a mail header, a message body or an ICS property, so it is checked
when set (:mod:`domain.values`): addresses are real mailboxes, links absolute web links,
and the orientation's start a date and time that exists in the cycle's zone.
"""

from dataclasses import dataclass, fields, replace
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from domain.calendar import CycleCalendar, wall_clock
from domain.cycle_states import CycleEvent
from domain.errors import DomainError
from domain.values import MOMENT_MAX, email_address, shown, single_line, web_link

ORIENTATION_DEFAULT_TIME = time(13, 0)
ORIENTATION_MINUTES = (15, 480)
WEB_LINKS = ("apply_url", "checkin_url", "survey_url", "orientation_join_url")
OPTIONAL = ("orientation_at", "call_list_address")


@dataclass(frozen=True)
class ProgramDetails:
    """What messages link to; every field has a default so a new cycle works at once."""

    committee_email: str = "mentoring@core.example.org"
    apply_url: str = "https://core.example.org/mentoring/apply"
    checkin_url: str = "https://core.example.org/mentoring/check-in"
    survey_url: str = "https://core.example.org/mentoring/assessment"
    orientation_join_url: str = "https://core.example.org/mentoring/orientation"
    orientation_at: str | None = None
    orientation_minutes: int = 90
    call_list_address: str | None = None

    @classmethod
    def from_settings(cls, values: dict[str, Any], tz: ZoneInfo | None = None) -> "ProgramDetails":
        """The details with the committee's ``values`` applied, each checked.

        An empty ``orientation_at`` or ``call_list_address`` means "not set". With the
        cycle's zone ``tz``, an ``orientation_at`` without an offset must exist in it
        (the calendar's wall-clock rule).
        """
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise DomainError(f"unknown program setting(s): {', '.join(unknown)}")
        given: dict[str, Any] = {
            name: None if name in OPTIONAL and value == "" else value
            for name, value in values.items()
        }
        details = replace(cls(), **given)
        for f in fields(cls):
            value = getattr(details, f.name)
            if f.name != "orientation_minutes" and not (
                isinstance(value, str) or (value is None and f.name in OPTIONAL)
            ):
                raise DomainError(f"{f.name} {value!r} must be text")
        minutes = details.orientation_minutes
        low, high = ORIENTATION_MINUTES
        if isinstance(minutes, bool) or not isinstance(minutes, int) or not low <= minutes <= high:
            raise DomainError(f"orientation_minutes must be between {low} and {high}")
        checked: dict[str, Any] = {
            "committee_email": email_address(details.committee_email, "committee_email"),
            **{name: web_link(getattr(details, name), name) for name in WEB_LINKS},
        }
        if details.call_list_address is not None:
            checked["call_list_address"] = email_address(
                details.call_list_address, "call_list_address"
            )
        if details.orientation_at is not None:
            text = single_line(details.orientation_at, "orientation_at", MOMENT_MAX)
            checked["orientation_at"] = text
            at = _orientation_moment(text)
            if tz is not None:
                wall_clock(at, tz)
        return replace(details, **checked)

    def orientation_start(self, calendar: CycleCalendar) -> datetime:
        """When orientation starts, in the cycle's zone (an invitation names its zone): as set
        (a time without an offset read there by the wall-clock rule), or 1 pm local on the
        orientation milestone's day."""
        if self.orientation_at:
            return wall_clock(_orientation_moment(self.orientation_at), calendar.tz).astimezone(
                calendar.tz
            )
        day = calendar.due_at(CycleEvent.start_orientation)
        assert day is not None
        return datetime.combine(day.date(), ORIENTATION_DEFAULT_TIME, tzinfo=calendar.tz)

    @property
    def orientation_length(self) -> timedelta:
        return timedelta(minutes=self.orientation_minutes)


def _orientation_moment(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise DomainError(
            f"orientation_at {shown(text)} is not a date and time; use e.g. 2026-11-20T13:00"
        ) from None
