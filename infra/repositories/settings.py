"""The committee's per-cycle settings, kept as one JSON document per cycle.

The document is written only through checked use cases, but a row edited by hand can hold
a setting the domain refuses; reading it then names the cycle, the section and the
problem (:mod:`infra.repositories.stored`) rather than failing wherever it is used.
"""

from dataclasses import fields
from typing import Any

from sqlalchemy.orm import Session

from domain.errors import DomainError
from domain.matching_score import InvalidWeights, MatchWeights
from domain.program import ProgramDetails
from infra.repositories.stored import IN_THE_DATABASE, UnusableStoredValue
from infra.seal_book import BY_NAME, SealBook
from infra.tables import CycleSettingsRow

SETTINGS = BY_NAME["cycle_settings"]

_WEIGHTS = frozenset(f.name for f in fields(MatchWeights))
_PROGRAM = frozenset(f.name for f in fields(ProgramDetails))


class SettingsRepository:
    """Sections of a cycle's settings: ``matching`` (weights, institution rule) and
    ``program`` (orientation, links, the call list)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def section(self, year: int, name: str) -> dict[str, Any]:
        """One section as stored; a row changed outside the program is refused
        (:class:`infra.seal_book.SealBroken`), so no mail goes to an address slipped in."""
        SealBook.of(self.session).check(self.session, SETTINGS, [(year,)])
        row = self.session.get(CycleSettingsRow, year)
        return dict(_sections(row, name).get(name, {})) if row else {}

    def update(self, year: int, name: str, values: dict[str, Any]) -> dict[str, Any]:
        """Merge ``values`` into one section; returns the section as it now stands."""
        row = self.session.get(CycleSettingsRow, year)
        if row is None:
            row = CycleSettingsRow(cycle_year=year, settings={})
            self.session.add(row)
        sections = _sections(row, name)
        merged = {**sections.get(name, {}), **values}
        row.settings = {**sections, name: merged}
        return merged

    def weight_values(self, year: int) -> dict[str, float]:
        """The weights set so far, by name; a stored document that is no table of numbers
        by the matching's weight names is refused."""
        stored = self.section(year, "matching").get("weights", {})
        problem = _weights_problem(stored)
        if problem is not None:
            raise UnusableStoredValue(
                year, "cycle_settings.matching", "matching weights", problem, IN_THE_DATABASE
            )
        return dict(stored)

    def weights(self, year: int) -> MatchWeights:
        try:
            return MatchWeights(**self.weight_values(year))
        except InvalidWeights as refused:
            raise UnusableStoredValue(
                year,
                "cycle_settings.matching",
                "matching weights",
                f"cannot be used: {refused}",
                f"set them again with `mentoring pairings settings {year}`",
            ) from None

    def allow_same_institution(self, year: int) -> bool:
        allowed = self.section(year, "matching").get("allow_same_institution", False)
        if not isinstance(allowed, bool):
            raise UnusableStoredValue.value(
                year,
                "cycle_settings.matching",
                "rule allow_same_institution",
                allowed,
                "is not true or false",
                f"set it again with `mentoring pairings settings {year}`",
            )
        return allowed

    def program(self, year: int) -> ProgramDetails:
        """The program details as messages use them (an orientation time is read in the
        cycle's zone where it is used)."""
        stored = self.section(year, "program")
        try:
            return ProgramDetails.from_settings(stored)
        except DomainError as refused:
            settable = not set(stored) - _PROGRAM
            raise UnusableStoredValue(
                year,
                "cycle_settings.program",
                "program details",
                f"cannot be used: {refused}",
                f"set them again with `mentoring cycle program {year}`"
                if settable
                else IN_THE_DATABASE,
            ) from None


def _sections(row: CycleSettingsRow, name: str) -> dict[str, Any]:
    """The row's sections, refusing a document or section that is not a JSON object."""
    sections = row.settings
    if not isinstance(sections, dict) or not isinstance(sections.get(name, {}), dict):
        raise UnusableStoredValue(
            row.cycle_year,
            "cycle_settings.settings",
            "settings",
            f"are not a table of sections holding a table {name}",
            IN_THE_DATABASE,
        )
    return sections


def _weights_problem(stored: object) -> str | None:
    if not isinstance(stored, dict):
        return "are not a table of weights"
    unknown = sorted(set(stored) - _WEIGHTS)
    if unknown:
        return f"name unknown weight(s) {', '.join(map(str, unknown))}"
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in stored.values()):
        return "are not all numbers"
    return None
