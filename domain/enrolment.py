"""A member's application for one cycle as the program keeps it: what they applied with,
and where it stands (active or withdrawn, late or on time)."""

from dataclasses import dataclass
from datetime import datetime

from domain.applications import Application, ApplicationStatus


@dataclass(frozen=True)
class Enrolment:
    """The stored application and its standing in the cycle."""

    cycle_year: int
    application: Application
    status: ApplicationStatus
    late: bool
    imported_at: datetime
    withdrawn_at: datetime | None

    @property
    def member_id(self) -> str:
        return self.application.member_id

    @property
    def role(self) -> str:
        return str(self.application.role)
