"""Applications to the mentoring program: the vocabulary, field validation and eligibility.

Validation is field by field so that an import can tell the committee, line by line, which
value was wrong and what would have been accepted.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum, StrEnum
from typing import TypeVar
from zoneinfo import ZoneInfo

from domain.errors import DomainError
from domain.members import Member
from domain.values import (
    GOALS_MAX,
    INSTITUTION_MAX,
    InvalidValue,
    email_address,
    free_text,
    moment_in_range,
    single_line,
    time_zone_name,
    valid_member_id,
)

APPLICATION_FIELDS: tuple[str, ...] = (
    "submitted_at",
    "member_id",
    "email",
    "role",
    "areas",
    "career_stage",
    "institution",
    "library_type",
    "time_zone",
    "goals",
    "max_mentees",
)
MAX_MENTEES_LIMIT = 5
AREA_SEPARATOR = ";"
_E = TypeVar("_E", bound=Enum)


class Role(StrEnum):
    """How a member takes part: ``both`` mentors in one pair and is mentored in another."""

    MENTOR = "mentor"
    MENTEE = "mentee"
    BOTH = "both"


class Area(StrEnum):
    """Core's areas of work, spelled exactly as the application form lists them."""

    ACCESS_EQUITY = "Access & Equity"
    ASSESSMENT = "Assessment"
    BUILDINGS_OPERATIONS = "Buildings & Operations"
    LEADERSHIP_MANAGEMENT = "Leadership & Management"
    METADATA_COLLECTIONS = "Metadata & Collections"
    PRESERVATION = "Preservation"
    TECHNOLOGY = "Technology"


class CareerStage(StrEnum):
    """Career stages, ordered: a mentor is never at an earlier stage than their mentee."""

    STUDENT = "student"
    EARLY = "early"
    MID = "mid"
    SENIOR = "senior"

    @property
    def rank(self) -> int:
        """Position in the career ladder, 0 for students."""
        return _STAGE_ORDER.index(self)

    @property
    def label(self) -> str:
        """Words for explanations ("at or above mid career")."""
        return "student" if self is CareerStage.STUDENT else f"{self.value} career"

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, CareerStage):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, CareerStage):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, CareerStage):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, CareerStage):
            return NotImplemented
        return self.rank >= other.rank


_STAGE_ORDER = tuple(CareerStage)


class LibraryType(StrEnum):
    """The kind of library a member works in."""

    ACADEMIC = "academic"
    PUBLIC = "public"
    SCHOOL = "school"
    SPECIAL = "special"
    CONSORTIUM = "consortium"
    VENDOR = "vendor"
    OTHER = "other"


class ApplicationStatus(StrEnum):
    """An application stays ``active`` until its member withdraws from the whole program (a
    ``both`` applicant giving up one role stays active in the other)."""

    active = "active"
    withdrawn = "withdrawn"


class InvalidApplication(DomainError):
    """An application row refused by field validation; ``reason`` is one sentence."""

    def __init__(self, reason: str, field_name: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field_name = field_name


@dataclass(frozen=True)
class Application:
    """One member's application for one cycle, already validated."""

    submitted_at: datetime
    member_id: str
    email: str
    role: Role
    areas: frozenset[Area]
    career_stage: CareerStage
    institution: str
    library_type: LibraryType
    time_zone: str
    goals: str
    max_mentees: int | None

    def __post_init__(self) -> None:
        if self.submitted_at.tzinfo is None:
            raise InvalidApplication("submitted_at must carry a time zone", "submitted_at")
        shown = "" if self.max_mentees is None else str(self.max_mentees)
        _check_max_mentees(self.role, self.max_mentees, shown)

    @property
    def is_mentor(self) -> bool:
        """Mentors and ``both`` applicants offer mentoring."""
        return self.role in (Role.MENTOR, Role.BOTH)

    @property
    def is_mentee(self) -> bool:
        """Mentees and ``both`` applicants ask for a mentor."""
        return self.role in (Role.MENTEE, Role.BOTH)


def _allowed(values: list[str]) -> str:
    return ", ".join(values[:-1]) + f" or {values[-1]}"


def _choice(enum: type[_E], name: str, raw: str) -> _E:
    wanted = raw.strip().casefold()
    for member in enum:
        if str(member.value).casefold() == wanted:
            return member
    allowed = _allowed([str(member.value) for member in enum])
    raise InvalidApplication(f"{name} {raw.strip()!r} is not allowed; use {allowed}", name)


def _parse_areas(raw: str) -> frozenset[Area]:
    names = [part.strip() for part in raw.split(AREA_SEPARATOR) if part.strip()]
    allowed = f"one or more of {_allowed([a.value for a in Area])}, separated by ';'"
    if not names:
        raise InvalidApplication(f"areas is empty; list {allowed}", "areas")
    by_name = {area.value.casefold(): area for area in Area}
    unknown = [name for name in names if name.casefold() not in by_name]
    if unknown:
        listed = ", ".join(repr(name) for name in unknown)
        raise InvalidApplication(f"areas {listed} is not a Core area; list {allowed}", "areas")
    return frozenset(by_name[name.casefold()] for name in names)


def _checked(value: str, check: Callable[[str], str]) -> str:
    """Run a boundary check from :mod:`domain.values`, reporting it as this row's refusal."""
    try:
        return check(value)
    except InvalidValue as refused:
        raise InvalidApplication(refused.reason, refused.field) from None


def _parse_submitted_at(raw: str, default_tz: str) -> datetime:
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidApplication(
            f"submitted_at {raw.strip()!r} is not an ISO 8601 date-time; "
            "use one such as 2026-08-01T17:21",
            "submitted_at",
        ) from None
    try:
        moment_in_range(moment, "submitted_at")
    except InvalidValue as refused:
        raise InvalidApplication(refused.reason, refused.field) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(default_tz))


def _check_max_mentees(role: Role, value: int | None, raw: str) -> None:
    if role is Role.MENTEE and value is not None:
        raise InvalidApplication(
            f"max_mentees {raw!r} must be empty for a mentee; only mentor and both take mentees",
            "max_mentees",
        )
    if role is not Role.MENTEE and value is None:
        raise InvalidApplication(
            f"max_mentees is empty; role {role.value} needs a whole number "
            f"from 1 to {MAX_MENTEES_LIMIT}",
            "max_mentees",
        )
    if value is not None and not 1 <= value <= MAX_MENTEES_LIMIT:
        raise InvalidApplication(
            f"max_mentees {raw!r} is out of range; "
            f"use a whole number from 1 to {MAX_MENTEES_LIMIT}",
            "max_mentees",
        )


def _parse_max_mentees(raw: str, role: Role) -> int | None:
    text = raw.strip()
    if text and not text.isdigit():
        allowed = (
            "it must be empty for a mentee"
            if role is Role.MENTEE
            else f"use a whole number from 1 to {MAX_MENTEES_LIMIT}"
        )
        raise InvalidApplication(
            f"max_mentees {text!r} is not a whole number; {allowed}", "max_mentees"
        )
    value = int(text) if text else None
    _check_max_mentees(role, value, text)
    return value


def _required(row: Mapping[str, str], name: str) -> str:
    value = (row.get(name) or "").strip()
    if not value:
        raise InvalidApplication(f"{name} is empty; every application needs one", name)
    return value


def parse_application_row(row: Mapping[str, str], *, default_tz: str) -> Application:
    """Validate one canonical application row; naive timestamps are read in ``default_tz``.

    Fields are checked in column order, so the first problem on a line is the one reported.
    Text that reaches mail, a column or a calendar is bounded and free of control
    characters (:mod:`domain.values`); ``goals`` may span lines, and is kept on one.
    """
    submitted_at = _parse_submitted_at(_required(row, "submitted_at"), default_tz)
    member_id = _checked(_required(row, "member_id"), valid_member_id)
    email = _checked(_required(row, "email"), lambda v: email_address(v, "email"))
    role = _choice(Role, "role", _required(row, "role"))
    areas = _parse_areas(row.get("areas") or "")
    career_stage = _choice(CareerStage, "career_stage", _required(row, "career_stage"))
    institution = _checked(
        _required(row, "institution"), lambda v: single_line(v, "institution", INSTITUTION_MAX)
    )
    library_type = _choice(LibraryType, "library_type", _required(row, "library_type"))
    time_zone = _checked(_required(row, "time_zone"), lambda v: time_zone_name(v, "time_zone"))
    goals = _checked(row.get("goals") or "", lambda v: free_text(v, "goals", GOALS_MAX))
    return Application(
        submitted_at=submitted_at,
        member_id=member_id,
        email=email,
        role=role,
        areas=areas,
        career_stage=career_stage,
        institution=institution,
        library_type=library_type,
        time_zone=time_zone,
        goals=" ".join(goals.split()),
        max_mentees=_parse_max_mentees(row.get("max_mentees") or "", role),
    )


@dataclass(frozen=True)
class Eligibility:
    """Whether an application may enter the cycle; warnings do not refuse it."""

    ok: bool
    reason: str | None = None
    warnings: tuple[str, ...] = field(default=())


def _refusals(app: Application, member: Member, call_opens: datetime) -> list[str]:
    refusals = []
    if app.email.strip().casefold() != member.email.strip().casefold():
        refusals.append(
            f"email {app.email} does not match the roster email for member {app.member_id}"
        )
    submitted_on = app.submitted_at.astimezone(call_opens.tzinfo).date()
    if not member.is_core_member(submitted_on):
        refusals.append(
            f"not a current Core member when applying on {submitted_on.isoformat()}: "
            f"membership expired {member.membership_expires.isoformat()}"
        )
    if app.submitted_at < call_opens:
        refusals.append(
            f"submitted {_stamp(app.submitted_at, call_opens)}, before the call opened "
            f"{_stamp(call_opens, call_opens)}"
        )
    return refusals


def _stamp(moment: datetime, zone_of: datetime) -> str:
    return moment.astimezone(zone_of.tzinfo).strftime("%Y-%m-%d %H:%M %Z")


def check_eligibility(
    app: Application,
    member: Member | None,
    *,
    call_opens: datetime,
    call_closes: datetime,
    program_ends: date,
    allow_late: bool = False,
) -> Eligibility:
    """Refuse unknown members, non-members, mismatched emails and applications out of the call.

    ``call_opens``/``call_closes`` are aware datetimes; dates in messages use their zone.
    """
    if member is None:
        return Eligibility(False, f"member id {app.member_id} is not on the Core roster")
    if call_opens.tzinfo is None or call_closes.tzinfo is None:
        raise ValueError("call_opens and call_closes must be aware datetimes")
    refusals = _refusals(app, member, call_opens)
    warnings: list[str] = []
    if app.submitted_at > call_closes:
        late = (
            f"submitted {_stamp(app.submitted_at, call_opens)}, after the call closed "
            f"{_stamp(call_closes, call_opens)}"
        )
        if allow_late:
            warnings.append(f"{late}; accepted as a late application")
        else:
            refusals.append(f"{late}; late applications need the committee's approval")
    if not refusals and member.membership_expires < program_ends:
        warnings.append(
            f"membership expires {member.membership_expires.isoformat()}, "
            f"before the program ends {program_ends.isoformat()}"
        )
    if refusals:
        return Eligibility(False, "; ".join(refusals), tuple(warnings))
    return Eligibility(True, None, tuple(warnings))
