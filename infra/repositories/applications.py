"""Applications: a member's one application per cycle, replaced by a repeat, marked on
withdrawal."""

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.applications import (
    AREA_SEPARATOR,
    Application,
    ApplicationStatus,
    Area,
    CareerStage,
    InvalidApplication,
    LibraryType,
    Role,
)
from domain.enrolment import Enrolment
from domain.values import known_time_zone, shown
from infra.repositories.stored import IN_THE_DATABASE, UnusableStoredValue
from infra.tables import ApplicationRow


def application_of(row: ApplicationRow) -> Application:
    """The stored application; one whose values the domain refuses (a row edited by hand)
    is refused naming its cycle and member."""
    if not known_time_zone(row.time_zone):
        raise _unusable(row, f"time_zone {shown(row.time_zone)} is not an IANA time zone name")
    try:
        return Application(
            submitted_at=row.submitted_at,
            member_id=row.member_id,
            email=row.email,
            role=Role(row.role),
            areas=frozenset(Area(a) for a in row.areas.split(AREA_SEPARATOR) if a),
            career_stage=CareerStage(row.career_stage),
            institution=row.institution,
            library_type=LibraryType(row.library_type),
            time_zone=row.time_zone,
            goals=row.goals,
            max_mentees=row.max_mentees,
        )
    except (ValueError, InvalidApplication) as refused:
        raise _unusable(row, str(refused)) from None


def _enrolment(row: ApplicationRow) -> Enrolment:
    try:
        status = ApplicationStatus(row.status)
    except ValueError as refused:
        raise _unusable(row, str(refused)) from None
    return Enrolment(
        row.cycle_year,
        application_of(row),
        status,
        row.late,
        row.imported_at,
        row.withdrawn_at,
    )


def _unusable(row: ApplicationRow, problem: str) -> UnusableStoredValue:
    return UnusableStoredValue(
        row.cycle_year,
        "applications",
        f"application of member {row.member_id}",
        f"cannot be used: {problem}",
        f"{IN_THE_DATABASE}, or import the member's application again",
    )


_CHUNK = 500
"""Member ids per ``IN (…)`` when reading the rows an import replaces."""


class ApplicationRepository:
    """The cycle's applications, active or all; storing and withdrawing them."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _rows(self, year: int) -> list[ApplicationRow]:
        return list(
            self.session.scalars(
                select(ApplicationRow)
                .where(ApplicationRow.cycle_year == year)
                .order_by(ApplicationRow.id)
            )
        )

    def active(self, year: int) -> list[Application]:
        """The applications the next proposal pairs (withdrawn ones left out)."""
        return [application_of(r) for r in self._rows(year) if r.status == ApplicationStatus.active]

    def all(self, year: int) -> list[Enrolment]:
        return [_enrolment(r) for r in self._rows(year)]

    def get(self, year: int, member_id: str) -> Enrolment | None:
        row = self._find(year, member_id)
        return _enrolment(row) if row else None

    def member_ids(self, year: int) -> set[str]:
        """Everyone who applied to the cycle, withdrawn or not."""
        return set(
            self.session.scalars(
                select(ApplicationRow.member_id).where(ApplicationRow.cycle_year == year)
            )
        )

    def roles(self, year: int) -> dict[str, str]:
        return {r.member_id: r.role for r in self._rows(year)}

    def store(
        self,
        year: int,
        apps: Iterable[Application],
        closes: datetime,
        now: datetime,
        source: str = "import",
    ) -> list[str]:
        """Insert or replace each application, noting through what it came (``import`` or
        ``site``); returns the members whose earlier one was replaced. Only the rows of
        these members are read (one on the site, however many the cycle holds)."""
        apps = list(apps)
        existing = self._of_members(year, [a.member_id for a in apps])
        replaced = []
        for app in apps:
            values = {
                "submitted_at": app.submitted_at,
                "email": app.email,
                "role": str(app.role),
                "areas": AREA_SEPARATOR.join(sorted(str(a) for a in app.areas)),
                "career_stage": str(app.career_stage),
                "institution": app.institution,
                "library_type": str(app.library_type),
                "time_zone": app.time_zone,
                "goals": app.goals,
                "max_mentees": app.max_mentees,
                "status": ApplicationStatus.active,
                "late": app.submitted_at > closes,
                "imported_at": now,
                "withdrawn_at": None,
                "source": source,
            }
            row = existing.get(app.member_id)
            if row is None:
                self.session.add(ApplicationRow(cycle_year=year, member_id=app.member_id, **values))
            else:
                replaced.append(app.member_id)
                for name, value in values.items():
                    setattr(row, name, value)
        self.session.flush()
        return replaced

    def _of_members(self, year: int, member_ids: list[str]) -> dict[str, ApplicationRow]:
        found: dict[str, ApplicationRow] = {}
        for start in range(0, len(member_ids), _CHUNK):
            chunk = member_ids[start : start + _CHUNK]
            found.update(
                (r.member_id, r)
                for r in self.session.scalars(
                    select(ApplicationRow).where(
                        ApplicationRow.cycle_year == year, ApplicationRow.member_id.in_(chunk)
                    )
                )
            )
        return found

    def sources(self, year: int) -> dict[str, str]:
        """Through what each member's application came: ``import`` or ``site``."""
        query = select(ApplicationRow.member_id, ApplicationRow.source).where(
            ApplicationRow.cycle_year == year
        )
        return {member_id: source for member_id, source in self.session.execute(query)}

    def of_member(self, member_id: str) -> list[Enrolment]:
        """Every application the member made, cycle by cycle (oldest first)."""
        return [
            _enrolment(r)
            for r in self.session.scalars(
                select(ApplicationRow)
                .where(ApplicationRow.member_id == member_id)
                .order_by(ApplicationRow.cycle_year)
            )
        ]

    def source_of(self, year: int, member_id: str) -> str | None:
        row = self._find(year, member_id)
        return row.source if row else None

    def withdraw(self, year: int, member_id: str, staying: Role | None, now: datetime) -> None:
        """Mark the member withdrawn; ``staying`` is the one role a ``both`` participant
        keeps (a mentee takes no mentees)."""
        row = self._find(year, member_id)
        assert row is not None, f"{member_id} has no application in cycle {year}"
        row.withdrawn_at = now
        if staying is None:
            row.status = ApplicationStatus.withdrawn
            return
        row.role = str(staying)
        if staying is Role.MENTEE:
            row.max_mentees = None

    def _find(self, year: int, member_id: str) -> ApplicationRow | None:
        return self.session.scalars(
            select(ApplicationRow).where(
                ApplicationRow.cycle_year == year, ApplicationRow.member_id == member_id
            )
        ).one_or_none()
