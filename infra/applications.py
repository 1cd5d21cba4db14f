"""Application rows ↔ the domain's :class:`Application`."""

from domain.applications import Application, Area, CareerStage, LibraryType, Role
from infra.tables import ApplicationRow


def application_of(row: ApplicationRow) -> Application:
    return Application(
        submitted_at=row.submitted_at,
        member_id=row.member_id,
        email=row.email,
        role=Role(row.role),
        areas=frozenset(Area(a) for a in row.areas.split(";") if a),
        career_stage=CareerStage(row.career_stage),
        institution=row.institution,
        library_type=LibraryType(row.library_type),
        time_zone=row.time_zone,
        goals=row.goals,
        max_mentees=row.max_mentees,
    )
