"""The per-cycle details the committee sets: links, the orientation session, the call list."""

from dataclasses import dataclass, fields, replace
from datetime import datetime, time, timedelta
from typing import Any

from domain.calendar import CycleCalendar
from domain.cycle_states import CycleEvent
from domain.errors import DomainError

ORIENTATION_DEFAULT_TIME = time(13, 0)


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
    def from_settings(cls, values: dict[str, Any]) -> "ProgramDetails":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise DomainError(f"unknown program setting(s): {', '.join(unknown)}")
        details = replace(cls(), **values)
        if details.orientation_minutes < 15 or details.orientation_minutes > 480:
            raise DomainError("orientation_minutes must be between 15 and 480")
        return details

    def orientation_start(self, calendar: CycleCalendar) -> datetime:
        """When orientation starts: as set, or 1 pm local on the orientation milestone's day."""
        if self.orientation_at:
            at = datetime.fromisoformat(self.orientation_at)
            return at if at.tzinfo else at.replace(tzinfo=calendar.tz)
        day = calendar.due_at(CycleEvent.start_orientation)
        assert day is not None
        return datetime.combine(day.date(), ORIENTATION_DEFAULT_TIME, tzinfo=calendar.tz)

    @property
    def orientation_length(self) -> timedelta:
        return timedelta(minutes=self.orientation_minutes)
