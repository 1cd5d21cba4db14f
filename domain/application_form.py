"""The site's application form: its fields, its choices, and every problem in one answer.

The form posts the application CSV's columns that a member chooses (``role``, ``areas``,
``career_stage``, ``library_type``, ``time_zone``, ``goals``, ``max_mentees``); the
others (``submitted_at``, ``member_id``, ``email``, ``institution``) come from the roster
and the clock. Validation is the CSV intake's own (:func:`parse_application_row`), which
stops at a line's first problem; to show every problem beside its field at once, a field
found wrong is set aside (a neutral value in its place) and the row read again. The site
shows each problem in the form's own words (:func:`in_form_words`): the field named as
the form labels it, never as the CSV's column.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import available_timezones

from domain.applications import (
    AREA_SEPARATOR,
    MAX_MENTEES_LIMIT,
    Application,
    Area,
    CareerStage,
    InvalidApplication,
    LibraryType,
    Role,
    parse_application_row,
)
from domain.members import Member
from domain.values import known_time_zone, shown

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

FIELD_LABELS: Mapping[str, str] = {
    "role": "Do you want to be a mentor, a mentee, or both?",
    "areas": "Which of Core's areas do you want to work on?",
    "career_stage": "Where are you in your career?",
    "library_type": "What kind of library do you work in?",
    "time_zone": "Your time zone",
    "goals": "What do you hope to gain from the program, or to offer?",
    "max_mentees": "If you mentor: how many mentees can you take on?",
}
"""Each field's label (or its group's legend) as the form shows it."""

WHEN_EMPTY: Mapping[str, str] = {
    "role": "Choose whether you want to be a mentor, a mentee, or both",
    "areas": "Choose at least one of Core's areas you want to work on",
    "career_stage": "Choose where you are in your career",
    "library_type": "Choose what kind of library you work in",
    "time_zone": "Choose your time zone",
    "max_mentees": (
        f"Enter how many mentees you can take on, from 1 to {MAX_MENTEES_LIMIT}: "
        "a mentor (or a member who is both) takes at least one"
    ),
}
"""What the form says when a field it needs was left empty."""

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


def in_form_words(problem: FieldProblem, form: FormValues) -> FieldProblem:
    """The intake's refusal of a field (worded for a CSV line: its column, its value) as
    the form says it: the field named by its label, the value as the member gave it. The
    rule that refused it stays the intake's; only the words change. A problem of the
    whole form is left as it is."""
    name = problem.field
    if name not in FIELD_LABELS:
        return problem
    value = _areas(form.get(name)) if name == "areas" else _text(form.get(name))
    return FieldProblem(name, _words(name, problem.message, value.strip(), _text(form.get("role"))))


def _words(name: str, reason: str, value: str, role: str) -> str:
    label = FIELD_LABELS[name]
    if not value and name in WHEN_EMPTY:
        return WHEN_EMPTY[name]
    if name == "max_mentees":
        if role.strip().casefold() == Role.MENTEE.value:
            return (
                f"Leave “{label}” empty when you apply as a mentee only, or choose mentor or both"
            )
        return f"Enter a whole number from 1 to {MAX_MENTEES_LIMIT} for “{label}”"
    if name == "goals":
        said = reason.removeprefix(f"{name} ").removeprefix(f"{shown(value)} ")
        return f"Your answer to “{label}” {said}"
    sent = "one of the areas sent" if name == "areas" else shown(value)
    return f"Choose from the list for “{label}”: {sent} is not one of its choices"


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
