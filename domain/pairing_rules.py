"""The committee's hard constraints on pairs, apart from the solver (which is heavy to load):
who may never be paired, which pairs are fixed or blocked, and the words that say why."""

from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

from domain.applications import Application
from domain.errors import DomainError


class PairingRuleError(DomainError):
    """Fixed pairs or applications the pairing rules cannot honour."""


@dataclass(frozen=True)
class PairingRules:
    """Hard constraints the committee controls for a cycle: (mentor_id, mentee_id) pairs."""

    allow_same_institution: bool = False
    fixed: AbstractSet[tuple[str, str]] = field(default_factory=frozenset)
    blocked: AbstractSet[tuple[str, str]] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fixed", frozenset(self.fixed))
        object.__setattr__(self, "blocked", frozenset(self.blocked))


def institution_key(app: Application) -> str:
    """Institutions compare without case or surrounding spaces."""
    return " ".join(app.institution.casefold().split())


def same_institution(a: Application, b: Application) -> bool:
    """Whether two applicants work at the same institution."""
    return institution_key(a) == institution_key(b)


def violations(mentor: Application, mentee: Application, rules: PairingRules) -> list[str]:
    """Every hard constraint the pair would break, in words (capacity is checked elsewhere)."""
    found = []
    if not mentor.is_mentor:
        found.append(f"{mentor.member_id} did not apply as a mentor")
    if not mentee.is_mentee:
        found.append(f"{mentee.member_id} did not apply as a mentee")
    if mentor.member_id == mentee.member_id:
        found.append(f"{mentor.member_id} cannot mentor themselves")
    if not rules.allow_same_institution and same_institution(mentor, mentee):
        found.append(f"both are at {mentor.institution}")
    if mentor.career_stage < mentee.career_stage:
        found.append(
            f"the mentor ({mentor.career_stage.label}) is at an earlier career stage "
            f"than the mentee ({mentee.career_stage.label})"
        )
    if (mentor.member_id, mentee.member_id) in rules.blocked:
        found.append("the committee blocked this pair")
    return found
