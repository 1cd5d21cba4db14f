"""The committee's per-cycle settings, kept as one JSON document per cycle."""

from typing import Any

from sqlalchemy.orm import Session

from domain.matching_score import MatchWeights
from domain.program import ProgramDetails
from infra.tables import CycleSettingsRow


class SettingsRepository:
    """Sections of a cycle's settings: ``matching`` (weights, institution rule) and
    ``program`` (orientation, links, the call list)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def section(self, year: int, name: str) -> dict[str, Any]:
        row = self.session.get(CycleSettingsRow, year)
        return dict(row.settings.get(name, {})) if row else {}

    def update(self, year: int, name: str, values: dict[str, Any]) -> dict[str, Any]:
        """Merge ``values`` into one section; returns the section as it now stands."""
        row = self.session.get(CycleSettingsRow, year)
        if row is None:
            row = CycleSettingsRow(cycle_year=year, settings={})
            self.session.add(row)
        merged = {**row.settings.get(name, {}), **values}
        row.settings = {**row.settings, name: merged}
        return merged

    def weights(self, year: int) -> MatchWeights:
        return MatchWeights(**self.section(year, "matching").get("weights", {}))

    def allow_same_institution(self, year: int) -> bool:
        return bool(self.section(year, "matching").get("allow_same_institution", False))

    def program(self, year: int) -> ProgramDetails:
        return ProgramDetails.from_settings(self.section(year, "program"))
