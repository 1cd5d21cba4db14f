"""The cycle calendar: one milestone per forward event, in the committee's time zone.

Dates are kept as aware datetimes in the cycle's zone so that daylight saving time is
handled by ``zoneinfo`` (Aug 1 is CDT, Nov 5 is CST in Chicago), and converted to UTC
only at the storage boundary.

Wall-clock rule: a time someone gives without an offset is read in the cycle's zone; one
that does not exist there (02:30 on the US spring-forward day) is refused, one that
occurs twice (01:30 on the fall-back day) means its first occurrence, and milestones are
ordered by the instants these name. A default time of day that a zone skips (a change at
midnight) moves forward to when the clocks resume.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from domain.cycle_states import FORWARD_EVENTS, CycleEvent
from domain.errors import CalendarError
from domain.values import cycle_year, known_time_zone

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
    """The IANA zone, or a clear error naming the bad value (a folder such as ``America``
    is not a zone)."""
    if not known_time_zone(name):
        raise CalendarError(
            f"unknown time zone {name!r}: use an IANA name such as 'America/Chicago'"
        )
    return ZoneInfo(name)


def _shifted(at: datetime) -> datetime:
    """The same instant read back from UTC: a wall time the zone skips comes back moved
    forward by the gap, any other comes back unchanged; one with no UTC instant (the
    calendar's edge) is refused as :func:`_instant` refuses it."""
    assert at.tzinfo is not None
    return _instant(at).astimezone(at.tzinfo)


def _skipped(at: datetime) -> bool:
    return _shifted(at).replace(tzinfo=None) != at.replace(tzinfo=None)


def _gap_around(at: datetime) -> tuple[datetime, datetime]:
    """The wall times at which the clocks jump forward over ``at``: (from, to)."""
    tz = at.tzinfo
    assert tz is not None
    before, after = at.replace(fold=0).utcoffset(), at.replace(fold=1).utcoffset()
    assert before is not None and after is not None
    low, high = int(at.replace(fold=1).timestamp()), int(at.replace(fold=0).timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, tz).utcoffset() == before:
            low = middle
        else:
            high = middle
    change = datetime.fromtimestamp(high, UTC).replace(tzinfo=None)
    return change + before, change + after


def wall_clock(at: datetime, tz: ZoneInfo) -> datetime:
    """The instant a given time names: one without an offset is read in ``tz``; one the
    zone skips is refused, one it repeats means its first occurrence (module rule)."""
    local = at if at.tzinfo is not None else at.replace(tzinfo=tz, fold=0)
    if not isinstance(local.tzinfo, ZoneInfo) or not _skipped(local):
        return local
    jumps_from, jumps_to = _gap_around(local)
    raise CalendarError(
        f"{local.replace(tzinfo=None).isoformat(timespec='minutes')} does not exist in "
        f"{local.tzinfo.key} (clocks go forward from {jumps_from:%H:%M} to "
        f"{jumps_to:%H:%M} that day); pick another time"
    )


def milestone_at(event: CycleEvent, day: date, tz: ZoneInfo) -> datetime:
    """A bare date for a milestone means its default time of day (start or end of day);
    where the zone skips that time, the moment the clocks resume."""
    return _shifted(datetime.combine(day, DEFAULTS[event].at, tzinfo=tz))


def _instant(at: datetime) -> datetime:
    """``at`` in UTC; a moment at the very edge of the calendar (year 1, year 9999) has no
    UTC instant, and is refused rather than left to overflow."""
    try:
        return at.astimezone(UTC)
    except OverflowError as err:
        raise CalendarError(
            f"{at.isoformat()} is outside the dates a cycle can have; give a date near "
            "the cycle's year"
        ) from err


@dataclass(frozen=True)
class CycleCalendar:
    """The dates on which a cycle's events fall due."""

    timezone: str
    milestones: Mapping[CycleEvent, datetime] = field(default_factory=dict)

    def __post_init__(self) -> None:
        zone(self.timezone)

    @classmethod
    def default(cls, year: int, timezone: str = DEFAULT_TIMEZONE) -> "CycleCalendar":
        """SPEC's dates for the cycle whose call opens in ``year`` (2000 to 2100)."""
        cycle_year(year)
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

    def milestone(self, event: CycleEvent) -> datetime:
        """When ``event`` falls due, in the committee's zone; for rules that need the date."""
        at = self.due_at(event)
        if at is None:
            raise CalendarError(f"{event} has no milestone date")
        return at

    def is_due(self, event: CycleEvent, now: datetime) -> bool:
        at = self.milestones.get(event)
        return at is not None and _instant(at) <= _instant(now)

    def with_changes(
        self, changes: Mapping[CycleEvent, datetime], now: datetime | None = None
    ) -> "CycleCalendar":
        """A new calendar with some milestones moved; refuses a date that has passed, a
        wall time the zone skips, and an order the instants would break."""
        updated = dict(self.milestones)
        for event, new_at in changes.items():
            if event not in DEFAULTS:
                raise CalendarError(f"{event} has no milestone date")
            if new_at.tzinfo is None:
                raise CalendarError(f"the new date for {event} needs a time zone")
            new_at = wall_clock(new_at, self.tz)
            old = self.milestones.get(event)
            if now is not None and old is not None and _instant(old) <= _instant(now):
                raise CalendarError(
                    f"the {event} milestone ({old.astimezone(self.tz).isoformat()}) has "
                    "already passed and can no longer be changed"
                )
            if now is not None and _instant(new_at) <= _instant(now):
                raise CalendarError(
                    f"the new date for {event} ({new_at.isoformat()}) is in the past"
                )
            updated[event] = _instant(new_at).astimezone(self.tz)
        result = CycleCalendar(self.timezone, updated)
        result.check_order()
        return result

    def check_order(self) -> None:
        """Milestones must follow the cycle's order, each instant strictly after the
        previous (compared in UTC: wall times sharing a zone would compare as read)."""
        previous: tuple[CycleEvent, datetime] | None = None
        for event in FORWARD_EVENTS:
            at = self.milestones.get(event)
            if at is None:
                continue
            if previous is not None and _instant(at) <= _instant(previous[1]):
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
    """Accept ``2026-10-01`` (the milestone's default time) or a full ISO datetime; one
    without an offset is read in ``tz`` by the wall-clock rule."""
    try:
        if len(text) == 10:
            return milestone_at(event, date.fromisoformat(text), tz)
        parsed = datetime.fromisoformat(text)
    except ValueError as err:
        raise CalendarError(
            f"{text!r} is not a date for {event}: use YYYY-MM-DD or an ISO datetime"
        ) from err
    return wall_clock(parsed, tz)
