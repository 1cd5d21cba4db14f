"""The committee's per-cycle settings, kept as one JSON document per cycle."""

from typing import Any

from sqlalchemy.orm import Session

from infra.tables import CycleSettingsRow


def read(session: Session, year: int) -> dict[str, Any]:
    row = session.get(CycleSettingsRow, year)
    return dict(row.settings) if row else {}


def update(session: Session, year: int, section: str, values: dict[str, Any]) -> dict[str, Any]:
    """Merge ``values`` into one section (``matching``, ``orientation`` …); returns it."""
    row = session.get(CycleSettingsRow, year)
    if row is None:
        row = CycleSettingsRow(cycle_year=year, settings={})
        session.add(row)
    merged = {**row.settings.get(section, {}), **values}
    row.settings = {**row.settings, section: merged}
    return merged
