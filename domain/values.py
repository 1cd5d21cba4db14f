"""Checks for values that end up in a mail header, an ICS property, a file name or a column.

Each check runs where a value enters the program, so that SQLite and PostgreSQL see the
same values: PostgreSQL refuses a string longer than its column or holding a NUL, while
SQLite stores both. The bounds below are the column sizes (``infra.tables``) or, for text
columns, a generous limit; infra can check its columns against them.

A check returns the value without surrounding whitespace, or raises :class:`InvalidValue`
with one sentence naming the field and what is wrong. Emptiness is left to the caller,
which knows whether the value is required (``actor_name`` excepted: an actor always is).
"""

import unicodedata
from datetime import datetime
from functools import cache
from urllib.parse import urlsplit
from zoneinfo import available_timezones

from domain.errors import DomainError, MissingValue

MEMBER_ID_MAX = 64
NAME_MAX = 200
EMAIL_MAX = 320
INSTITUTION_MAX = 300
TIME_ZONE_MAX = 64
ACTOR_MAX = 200
SUBJECT_MAX = 300
WEB_LINK_MAX = 2000
MOMENT_MAX = 64
GOALS_MAX = 4000
COMMENTS_MAX = 4000
REASON_MAX = 2000
FIRST_CYCLE_YEAR = 2000
LAST_CYCLE_YEAR = 2100

_FREE_TEXT_BREAKS = frozenset("\n\r\t\u2028\u2029")
_NOT_ZONES = frozenset({"Factory", "localtime"})
_WEB_SCHEMES = ("http", "https")
_SHOWN_MAX = 40


class InvalidValue(DomainError):
    """A value refused at the boundary; ``field`` names it, ``reason`` is one sentence."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


def shown(value: str) -> str:
    """The value quoted for a message, cut short so a refusal stays one readable line."""
    if len(value) <= _SHOWN_MAX:
        return repr(value)
    return repr(value[:_SHOWN_MAX]) + "…"


def _is_control(char: str) -> bool:
    """C0, DEL, C1, line/paragraph separators and lone surrogates (not storable as UTF-8)."""
    return unicodedata.category(char) in ("Cc", "Zl", "Zp", "Cs")


def _describe(char: str) -> str:
    if char == "\x00":
        return f"a NUL character (U+{ord(char):04X})"
    if char in "\n\r\x0b\x0c\x85\u2028\u2029":
        return f"a line break (U+{ord(char):04X})"
    if char == "\t":
        return "a tab (U+0009)"
    return f"a control character (U+{ord(char):04X})"


def _check_length(value: str, field: str, max_length: int) -> None:
    if len(value) > max_length:
        raise InvalidValue(
            field, f"{field} is {len(value):,} characters long; keep it to {max_length:,}"
        )


def single_line(value: str, field: str, max_length: int) -> str:
    """One line of text (a name, an id): no control character at all, at most
    ``max_length`` characters."""
    text = value.strip()
    for char in text:
        if _is_control(char):
            raise InvalidValue(
                field,
                f"{field} {shown(text)} contains {_describe(char)}; "
                "it must be a single line of plain text",
            )
    _check_length(text, field, max_length)
    return text


def valid_member_id(value: str, field: str = "member_id") -> str:
    """A member id as the roster gives it: one token (no space, no ``/``), at most
    ``MEMBER_ID_MAX`` characters, since it names the member's messages and tasks."""
    text = single_line(value, field, MEMBER_ID_MAX)
    if any(char.isspace() or char == "/" for char in text):
        raise InvalidValue(
            field,
            f"{field} {shown(text)} holds a space or a '/'; a member id is one word "
            "such as C100007",
        )
    return text


def moment_in_range(moment: datetime, field: str) -> datetime:
    """A moment the program can store and compare: its year within a year of the cycles'
    range (a date such as 9999-12-31T23:59-12:00 has no UTC instant at all)."""
    if not FIRST_CYCLE_YEAR - 1 <= moment.year <= LAST_CYCLE_YEAR + 1:
        raise InvalidValue(
            field,
            f"{field} {moment.isoformat()!r} is not a date the program can have; use one "
            f"between {FIRST_CYCLE_YEAR - 1} and {LAST_CYCLE_YEAR + 1}",
        )
    return moment


def free_text(value: str, field: str, max_length: int) -> str:
    """Text that may run over several lines (line breaks and tabs allowed) but holds no
    other control character, NUL included, and at most ``max_length`` characters."""
    text = value.strip()
    for char in text:
        if _is_control(char) and char not in _FREE_TEXT_BREAKS:
            raise InvalidValue(
                field,
                f"{field} {shown(text)} contains {_describe(char)}; only line breaks "
                "and tabs may stand between its words",
            )
    _check_length(text, field, max_length)
    return text


def email_address(value: str, field: str) -> str:
    """A bare ASCII mailbox (``name@example.org``) that mail delivery will accept: no
    display name, no quoted local part, a domain with a dot, at most 320 characters."""
    text = value.strip()
    if not text:
        raise InvalidValue(field, f"{field} is empty; give an email address")
    _check_length(text, field, EMAIL_MAX)
    # imported here: it compiles large patterns, and most commands check no address
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(text, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as err:
        detail = "; ".join(part[:1].lower() + part[1:] for part in str(err).rstrip(".").split(". "))
        raise InvalidValue(
            field, f"{field} {shown(text)} is not an email address ({detail})"
        ) from None
    if not text.isascii():
        raise InvalidValue(
            field,
            f"{field} {shown(text)} is not an email address the program can send to "
            "(use the ASCII form of its domain)",
        )
    return text


def web_link(value: str, field: str) -> str:
    """An absolute ``http``/``https`` address with a host, without spaces or control
    characters, at most 2,000 characters."""
    text = value.strip()
    refusal = f"{field} {shown(text)} is not a web link; use one such as https://example.org/page"
    if any(char.isspace() or _is_control(char) for char in text):
        raise InvalidValue(
            field,
            f"{field} {shown(text)} contains a space or a control character; a web link has none",
        )
    _check_length(text, field, WEB_LINK_MAX)
    try:
        parts = urlsplit(text)
        host, _ = parts.hostname, parts.port
    except ValueError:
        raise InvalidValue(field, refusal) from None
    if parts.scheme.lower() not in _WEB_SCHEMES or not host:
        raise InvalidValue(field, refusal)
    return text


@cache
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones()) - _NOT_ZONES


def known_time_zone(name: str) -> bool:
    """Whether ``name`` is an IANA zone (``America/Chicago``, ``UTC``), not a folder of
    them (``America``) nor a file that happens to sit among them."""
    return name in _known_zones()


def time_zone_name(value: str, field: str) -> str:
    """An IANA time zone name such as ``America/Chicago``."""
    text = value.strip()
    if not known_time_zone(text):
        raise InvalidValue(
            field,
            f"{field} {shown(text)} is not an IANA time zone name; use one such as America/Chicago",
        )
    return text


def cycle_year(year: int) -> int:
    """A year the program can have a cycle in (the year its call opens)."""
    if isinstance(year, bool) or not FIRST_CYCLE_YEAR <= year <= LAST_CYCLE_YEAR:
        raise InvalidValue(
            "year",
            f"year {year!r} is out of range; a cycle year runs from "
            f"{FIRST_CYCLE_YEAR} to {LAST_CYCLE_YEAR}",
        )
    return year


def actor_name(value: str) -> str:
    """Who did something, as the audit log records it: required, one line, ≤ 200 characters."""
    text = single_line(value, "actor", ACTOR_MAX)
    if not text:
        raise MissingValue("actor", "an actor is required: say who does this")
    return text


def reason_text(value: str) -> str:
    """Why something was done: free text of at most 2,000 characters (may be empty)."""
    return free_text(value, "reason", REASON_MAX)
