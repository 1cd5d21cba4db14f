"""Made-up applications for the pure pairing tests (matching, re-pairing)."""

from datetime import UTC, datetime, timedelta
from typing import Any

from domain.applications import Application, Area, CareerStage, LibraryType, Role

START = datetime(2026, 8, 1, tzinfo=UTC)


def app(
    member_id: str,
    role: str = "mentee",
    stage: str = "early",
    institution: str = "Elsewhere Library",
    areas: tuple[str, ...] = ("Technology",),
    library: str = "academic",
    zone: str = "America/Chicago",
    goals: str = "",
    cap: int | None = None,
    minute: int = 0,
) -> Application:
    """An application with harmless defaults; a mentor's capacity defaults to one."""
    role_ = Role(role)
    return Application(
        submitted_at=START + timedelta(minutes=minute),
        member_id=member_id,
        email=f"{member_id.lower()}@example.org",
        role=role_,
        areas=frozenset(Area(a) for a in areas),
        career_stage=CareerStage(stage),
        institution=institution,
        library_type=LibraryType(library),
        time_zone=zone,
        goals=goals,
        max_mentees=None if role_ is Role.MENTEE else (cap or 1),
    )


def mentor(member_id: str, **kwargs: Any) -> Application:
    """A senior mentor at an institution of their own unless told otherwise."""
    kwargs.setdefault("stage", "senior")
    kwargs.setdefault("institution", f"{member_id} University")
    return app(member_id, role="mentor", **kwargs)
