"""The committee's matching settings for a cycle: the criteria's weights and whether mentor
and mentee may work at the same institution."""

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from domain.errors import DomainError
from domain.matching import MatchWeights
from domain.values import actor_name
from flows.usecases.clock import utcnow
from infra.uow import UnitOfWork


@dataclass(frozen=True)
class MatchingSettings:
    """The ``matching`` settings as they now stand (weights set so far, the institution
    rule if it was ever set)."""

    weights: dict[str, float]
    allow_same_institution: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        if self.allow_same_institution is None:
            return {"weights": dict(self.weights)}
        return {
            "weights": dict(self.weights),
            "allow_same_institution": self.allow_same_institution,
        }


def set_matching(
    uow: UnitOfWork,
    year: int,
    *,
    actor: str,
    weights: dict[str, float],
    allow_same_institution: bool | None,
    now: datetime | None = None,
) -> MatchingSettings:
    """Change this cycle's weights or institution rule (validated, audited)."""
    now = now or utcnow()
    actor = actor_name(actor)
    known = {f.name for f in fields(MatchWeights)}
    unknown = sorted(set(weights) - known)
    if unknown:
        raise DomainError(
            f"unknown weight(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    with uow:
        merged_weights = {**uow.settings.weight_values(year), **weights}
        MatchWeights(**merged_weights)
        values: dict[str, Any] = {"weights": merged_weights}
        if allow_same_institution is not None:
            values["allow_same_institution"] = allow_same_institution
        section = uow.settings.update(year, "matching", values)
        uow.audit.append(
            kind="matching_settings",
            cycle_year=year,
            at=now,
            actor=actor,
            fields=values,
        )
        uow.commit()
    return MatchingSettings(section["weights"], section.get("allow_same_institution"))
