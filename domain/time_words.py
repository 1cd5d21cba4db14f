"""Moments as the committee reads them: "Wed Sep 30, 11:59 PM Chicago time".

Every time the program shows a person names its zone, as people say it (the city of the
IANA name, "Chicago time"; "UTC" for UTC), so a page read in another zone, or a browser set
to UTC, cannot mislead. Day and month names are spelled here, not taken from the locale,
so the words are the same on every server.
"""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
UTC_NAMES = frozenset(
    {"UTC", "UCT", "GMT", "Zulu", "Universal", "Etc/UTC", "Etc/UCT", "Etc/GMT", "Etc/Zulu"}
)
PASSED = "(passed)"


def zone_words(zone: str) -> str:
    """The zone as people say it: "Chicago time", "Buenos Aires time", "UTC"."""
    if zone in UTC_NAMES:
        return "UTC"
    city = zone.rsplit("/", 1)[-1].replace("_", " ")
    if zone.startswith("Etc/"):
        return city  # "GMT+5": a fixed offset has no city to name
    return f"{city} time"


def _aware(at: datetime) -> datetime:
    """Storage keeps UTC; a moment read back without its offset is UTC."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def moment_words(at: datetime, zone: str, *, with_year: bool = False) -> str:
    """``at`` on the wall clock of ``zone``, naming the zone; ``with_year`` adds the year
    (for dates that may fall in another year than the reader expects)."""
    local = _aware(at).astimezone(ZoneInfo(zone))
    day = f"{DAYS[local.weekday()]} {MONTHS[local.month - 1]} {local.day}"
    if with_year:
        day += f", {local.year}"
    clock = f"{local.hour % 12 or 12}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'}"
    return f"{day}, {clock} {zone_words(zone)}"


def has_passed(at: datetime, now: datetime) -> bool:
    """Whether ``at`` is at or before ``now`` (compared as instants)."""
    return _aware(at) <= _aware(now)


def marked_moment(at: datetime, zone: str, now: datetime, *, with_year: bool = False) -> str:
    """:func:`moment_words`, followed by "(passed)" when the moment is not ahead of ``now``."""
    words = moment_words(at, zone, with_year=with_year)
    return f"{words} {PASSED}" if has_passed(at, now) else words
