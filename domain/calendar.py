"""The cycle calendar: one milestone per forward event, in the committee's time zone.

Dates are kept as aware datetimes in the cycle's zone so that daylight saving time is
handled by ``zoneinfo`` (Aug 1 is CDT, Nov 5 is CST in Chicago), and converted to UTC
only at the storage boundary.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.cycle_states import FORWARD_EVENTS, CycleEvent
from domain.errors import CalendarError

DEFAULT_TIMEZONE = "America/Chicago"
END_OF_DAY = time(23, 59, 59)
START_OF_DAY = time(0, 0)


@dataclass(frozen=True)
class MilestoneDefault:
    """Where a milestone falls by default, relative to the cycle year."""

    month: int
    day: int
    year_offset: int
    at: time


DEFAULTS: dict[CycleEvent, MilestoneDefault] = {
    CycleEvent.open_call: MilestoneDefault(8, 1, 0, START_OF_DAY),
    CycleEvent.close_applications: MilestoneDefault(9, 30, 0, END_OF_DAY),
    CycleEvent.announce_pairings: MilestoneDefault(11, 5, 0, START_OF_DAY),
    CycleEvent.start_orientation: MilestoneDefault(11, 20, 0, START_OF_DAY),
    CycleEvent.start_mentoring: MilestoneDefault(12, 1, 0, START_OF_DAY),
    CycleEvent.end_mentoring: MilestoneDefault(6, 30, 1, END_OF_DAY),
    CycleEvent.complete_assessment: MilestoneDefault(8, 1, 1, START_OF_DAY),
}


def zone(name: str) -> ZoneInfo:
    """The IANA zone, or a clear error naming the bad value."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise CalendarError(
            f"unknown time zone {name!r}: use an IANA name such as 'America/Chicago'"
        ) from err


def milestone_at(event: CycleEvent, day: date, tz: ZoneInfo) -> datetime:
    """A bare date for a milestone means its default time of day (start or end of day)."""
    return datetime.combine(day, DEFAULTS[event].at, tzinfo=tz)


@dataclass(frozen=True)
class CycleCalendar:
    """The dates on which a cycle's events fall due."""

    timezone: str
    milestones: Mapping[CycleEvent, datetime] = field(default_factory=dict)

    @classmethod
    def default(cls, year: int, timezone: str = DEFAULT_TIMEZONE) -> "CycleCalendar":
        tz = zone(timezone)
        dates = {
            event: milestone_at(event, date(year + d.year_offset, d.month, d.day), tz)
            for event, d in DEFAULTS.items()
        }
        return cls(timezone, dates)

    @property
    def tz(self) -> ZoneInfo:
        return zone(self.timezone)

    def due_at(self, event: CycleEvent) -> datetime | None:
        """When ``event`` falls due, in the committee's zone (``cancel`` has no date)."""
        at = self.milestones.get(event)
        return at.astimezone(self.tz) if at is not None else None

    def is_due(self, event: CycleEvent, now: datetime) -> bool:
        at = self.milestones.get(event)
        return at is not None and at <= now

    def with_changes(
        self, changes: Mapping[CycleEvent, datetime], now: datetime | None = None
    ) -> "CycleCalendar":
        """A new calendar with some milestones moved; refuses a date that has passed."""
        updated = dict(self.milestones)
        for event, new_at in changes.items():
            if event not in DEFAULTS:
                raise CalendarError(f"{event} has no milestone date")
            if new_at.tzinfo is None:
                raise CalendarError(f"the new date for {event} needs a time zone")
            old = self.milestones.get(event)
            if now is not None and old is not None and old <= now:
                raise CalendarError(
                    f"the {event} milestone ({old.astimezone(self.tz).isoformat()}) has "
                    "already passed and can no longer be changed"
                )
            if now is not None and new_at <= now:
                raise CalendarError(
                    f"the new date for {event} ({new_at.isoformat()}) is in the past"
                )
            updated[event] = new_at.astimezone(self.tz)
        result = CycleCalendar(self.timezone, updated)
        result.check_order()
        return result

    def check_order(self) -> None:
        """Milestones must follow the cycle's order, each strictly after the previous."""
        previous: tuple[CycleEvent, datetime] | None = None
        for event in FORWARD_EVENTS:
            at = self.milestones.get(event)
            if at is None:
                continue
            if previous is not None and at <= previous[1]:
                raise CalendarError(
                    f"{event} ({at.astimezone(self.tz).isoformat()}) must come after "
                    f"{previous[0]} ({previous[1].astimezone(self.tz).isoformat()})"
                )
            previous = (event, at)

    def as_iso(self) -> dict[str, str]:
        """Milestone → ISO datetime in the committee's zone, in cycle order."""
        return {
            str(event): at.isoformat()
            for event in FORWARD_EVENTS
            if (at := self.due_at(event)) is not None
        }


def parse_milestone(event: CycleEvent, text: str, tz: ZoneInfo) -> datetime:
    """Accept ``2026-10-01`` (the milestone's default time) or a full ISO datetime."""
    try:
        if len(text) == 10:
            return milestone_at(event, date.fromisoformat(text), tz)
        parsed = datetime.fromisoformat(text)
    except ValueError as err:
        raise CalendarError(
            f"{text!r} is not a date for {event}: use YYYY-MM-DD or an ISO datetime"
        ) from err
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=tz)
