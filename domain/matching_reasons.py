"""Why an applicant was left unpaired, in words the committee can act on.

In an optimal proposal an unpaired mentee's allowed mentors are all full, and an unpaired
mentor's compatible mentees are all paired elsewhere (otherwise adding the pair would raise
the score or the number of pairs), so the reasons below only need to tell those cases apart
from "no one was ever compatible" and say which rule made it so.
"""

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from domain.applications import Application
from domain.matching_matrix import ScoreMatrix
from domain.pairing_rules import PairingRules, institution_key


@dataclass(frozen=True)
class WaitingEntry:
    """An unpaired mentee who could still be paired if a compatible mentor had room."""

    position: int
    mentee_id: str
    best_score: float
    best_mentor_id: str


def waiting_entries(matrix: ScoreMatrix, paired: NDArray[np.bool_]) -> list[WaitingEntry]:
    """Unpaired mentees with an allowed mentor, best available score first, then earliest."""
    columns = np.flatnonzero(~paired & (matrix.scores >= 0).any(axis=0))
    if columns.size == 0:
        return []
    block = matrix.scores[:, columns]
    best_rows = block.argmax(axis=0)
    best = block[best_rows, np.arange(columns.size)]
    order = np.lexsort((columns, -best.astype(np.int64)))
    return [
        WaitingEntry(
            position=position,
            mentee_id=matrix.mentees[int(columns[k])].member_id,
            best_score=int(best[k]) / 100,
            best_mentor_id=matrix.mentors[int(best_rows[k])].member_id,
        )
        for position, k in enumerate(order, start=1)
    ]


def _outside(app: Application, rules: PairingRules) -> str:
    return "" if rules.allow_same_institution else f"outside {app.institution} "


def _people(apps: list[Application], other: Application) -> tuple[NDArray[np.int64], ...]:
    rank = np.array([app.career_stage.rank for app in apps], dtype=np.int64)
    elsewhere = np.array([institution_key(app) != institution_key(other) for app in apps])
    not_self = np.array([app.member_id != other.member_id for app in apps])
    return rank, elsewhere.astype(np.int64), not_self.astype(np.int64)


def mentee_reason(
    matrix: ScoreMatrix, column: int, rules: PairingRules, position: int | None
) -> str:
    """Why the mentee in ``column`` has no mentor."""
    mentee = matrix.mentees[column]
    stage = f"at or above {mentee.career_stage.label}"
    if position is not None:
        return (
            f"no mentor with free capacity {_outside(mentee, rules)}{stage}; "
            f"on the waiting list at position {position}"
        )
    rank, elsewhere, not_self = _people(matrix.mentors, mentee)
    senior_enough = (rank >= mentee.career_stage.rank) & (not_self == 1)
    if not senior_enough.any():
        return f"no mentor {stage} applied"
    if not rules.allow_same_institution and not (senior_enough & (elsewhere == 1)).any():
        return f"no mentor {_outside(mentee, rules)}{stage} applied"
    return f"every mentor {_outside(mentee, rules)}{stage} is blocked for this mentee"


def mentor_reason(matrix: ScoreMatrix, row: int, rules: PairingRules) -> str:
    """Why the mentor in ``row`` mentors no one."""
    mentor = matrix.mentors[row]
    compatible = int(np.count_nonzero(matrix.scores[row] >= 0))
    if compatible:
        return (
            "capacity not needed: no compatible mentee left "
            f"(all {compatible} compatible mentees are paired with other mentors)"
        )
    stage = f"at or below {mentor.career_stage.label}"
    rank, elsewhere, not_self = _people(matrix.mentees, mentor)
    junior_enough = (rank <= mentor.career_stage.rank) & (not_self == 1)
    if not junior_enough.any():
        return f"no compatible mentee: no mentee {stage} applied"
    if not rules.allow_same_institution and not (junior_enough & (elsewhere == 1)).any():
        return f"no compatible mentee: no mentee {_outside(mentor, rules)}{stage} applied"
    return f"no compatible mentee: every mentee {_outside(mentor, rules)}{stage} is blocked"
