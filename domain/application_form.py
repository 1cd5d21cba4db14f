"""The site's application form: its fields, its choices, and every problem in one answer.

The form posts the application CSV's columns that a member chooses (``role``, ``areas``,
``career_stage``, ``library_type``, ``time_zone``, ``goals``, ``max_mentees``); the
others (``submitted_at``, ``member_id``, ``email``, ``institution``) come from the roster
and the clock. Validation is the CSV intake's own (:func:`parse_application_row`), which
stops at a line's first problem; to show every problem beside its field at once, a field
found wrong is set aside (a neutral value in its place) and the row read again.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import available_timezones

from domain.applications import (
    AREA_SEPARATOR,
    Application,
    Area,
    CareerStage,
    InvalidApplication,
    LibraryType,
    Role,
    parse_application_row,
)
from domain.members import Member
from domain.values import known_time_zone

FORM_FIELDS: tuple[str, ...] = (
    "role",
    "areas",
    "career_stage",
    "library_type",
    "time_zone",
    "goals",
    "max_mentees",
)
"""The fields a member fills in, named as the application CSV's columns."""

FormValues = Mapping[str, str | Sequence[str]]

CAREER_STAGE_WORDS: Mapping[CareerStage, str] = {
    CareerStage.STUDENT: "student",
    CareerStage.EARLY: "early (0–5 years)",
    CareerStage.MID: "mid (6–15 years)",
    CareerStage.SENIOR: "senior (16+ years)",
}
ROLE_WORDS: Mapping[Role, str] = {
    Role.MENTOR: "mentor",
    Role.MENTEE: "mentee",
    Role.BOTH: "both (a mentor in one pair, a mentee in another)",
}


@dataclass(frozen=True)
class FieldProblem:
    """A problem with the form: ``field`` names its field ("" for the whole form)."""

    field: str
    message: str


@dataclass(frozen=True)
class FormReading:
    """The application the form makes, or every problem found in it."""

    application: Application | None
    problems: list[FieldProblem] = field(default_factory=list)


def _text(value: str | Sequence[str] | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return value[-1] if value else ""


def _areas(value: str | Sequence[str] | None) -> str:
    if value is None or isinstance(value, str):
        return value or ""
    return AREA_SEPARATOR.join(v for v in value if v.strip())


def form_row(form: FormValues, member: Member, submitted_at: datetime) -> dict[str, str]:
    """The canonical application row of a form post: the member's choices, and the rest
    from the roster and the clock (whatever the form says about them is ignored)."""
    row = {name: _text(form.get(name)) for name in FORM_FIELDS if name != "areas"}
    row["areas"] = _areas(form.get("areas"))
    row.update(
        submitted_at=submitted_at.isoformat(),
        member_id=member.member_id,
        email=member.email,
        institution=member.institution,
    )
    return row


def _neutral(name: str, row: Mapping[str, str]) -> str:
    """A value that passes ``name``'s check without raising a problem in a later field."""
    if name == "role":
        return str(Role.MENTOR if row.get("max_mentees", "").strip() else Role.MENTEE)
    return {
        "areas": str(Area.TECHNOLOGY),
        "career_stage": str(CareerStage.MID),
        "library_type": str(LibraryType.OTHER),
        "time_zone": "UTC",
        "goals": "",
        "max_mentees": "1" if row.get("role", "").strip().casefold() != "mentee" else "",
    }.get(name, "")


def read_form(
    form: FormValues, member: Member, submitted_at: datetime, default_tz: str
) -> FormReading:
    """Every problem of the form, each named by its field (the roster's or the clock's
    fields are the whole form's), or the application it makes."""
    row = form_row(form, member, submitted_at)
    problems: list[FieldProblem] = []
    seen: set[str] = set()
    while True:
        try:
            application = parse_application_row(row, default_tz=default_tz)
        except InvalidApplication as bad:
            name = bad.field_name or ""
            problems.append(FieldProblem(name if name in FORM_FIELDS else "", bad.reason))
            if name not in FORM_FIELDS or name in seen:
                return FormReading(None, problems)
            seen.add(name)
            row[name] = _neutral(name, row)
            continue
        return FormReading(None if problems else application, problems)


def form_values(application: Application) -> dict[str, str | list[str]]:
    """An application as the form shows it, for editing."""
    return {
        "role": str(application.role),
        "areas": sorted(str(a) for a in application.areas),
        "career_stage": str(application.career_stage),
        "library_type": str(application.library_type),
        "time_zone": application.time_zone,
        "goals": application.goals,
        "max_mentees": "" if application.max_mentees is None else str(application.max_mentees),
    }


def zone_choices() -> list[str]:
    """Every IANA zone a form may offer, the Americas first, then by name."""
    zones = sorted(z for z in available_timezones() if known_time_zone(z))
    return sorted(zones, key=lambda z: (not z.startswith("America/"), z))
