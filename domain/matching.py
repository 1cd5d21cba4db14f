"""Pairing mentors with mentees: candidates, the optimal proposal, the waiting list, repairs.

Hard constraints (never broken): nobody mentors themselves (a ``both`` applicant is a mentor
in one pair and a mentee in another), a mentor takes at most ``max_mentees``, a mentee has
one mentor, mentor and mentee work at different institutions unless the committee allows
it, the mentor's career stage is not below the mentee's, blocked pairs never, fixed pairs
always. Within them the proposal maximises the total score, then the number of pairs; see
:mod:`domain.matching_solver` for how and why.
"""

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from domain.applications import Application, Role
from domain.matching_matrix import ScoreMatrix, build_matrix
from domain.matching_reasons import WaitingEntry, mentee_reason, mentor_reason, waiting_entries
from domain.matching_score import MatchWeights, ScoreBreakdown, score_pair
from domain.matching_solver import solve
from domain.pairing_rules import PairingRuleError, PairingRules, violations

__all__ = [
    "CandidateEdge",
    "Candidates",
    "MatchWeights",
    "PairingProposal",
    "PairingRuleError",
    "PairingRules",
    "ProposedPair",
    "ScoreBreakdown",
    "Unmatched",
    "WaitingEntry",
    "best_repairing",
    "candidate_edges",
    "propose_pairings",
    "score_pair",
    "waiting_list",
]


@dataclass(frozen=True)
class CandidateEdge:
    """A pair the hard constraints allow, with its score."""

    mentor_id: str
    mentee_id: str
    score: float


@dataclass(frozen=True)
class Candidates:
    """Every allowed pair, and how many mentees each mentor offered to take."""

    capacities: dict[str, int]
    edges: list[CandidateEdge]


@dataclass(frozen=True)
class ProposedPair:
    """One pair of the proposal; ``fixed`` when the committee set it by hand."""

    mentor_id: str
    mentee_id: str
    score: float
    breakdown: ScoreBreakdown
    fixed: bool = False


@dataclass(frozen=True)
class Unmatched:
    """An applicant left unpaired in one role (``mentor`` or ``mentee``), and why."""

    member_id: str
    role: Role
    reason: str


@dataclass(frozen=True)
class PairingProposal:
    """The optimal pairing set the committee reviews before approving it."""

    pairs: list[ProposedPair]
    unmatched: list[Unmatched]
    total_score: float


def candidate_edges(
    apps: Iterable[Application], weights: MatchWeights, rules: PairingRules, ref: datetime
) -> Candidates:
    """Every (mentor, mentee) pair the hard constraints allow, scored."""
    matrix = build_matrix(apps, weights, rules, ref)
    rows, columns = np.nonzero(matrix.scores >= 0)
    edges = [
        CandidateEdge(
            matrix.mentors[i].member_id, matrix.mentees[j].member_id, int(matrix.scores[i, j]) / 100
        )
        for i, j in zip(rows.tolist(), columns.tolist(), strict=True)
    ]
    capacities = {app.member_id: int(app.max_mentees or 0) for app in matrix.mentors}
    return Candidates(capacities, edges)


def _fixed_pairs(matrix: ScoreMatrix, rules: PairingRules) -> list[tuple[int, int]]:
    """Rows and columns of the committee's fixed pairs, refusing any that break a rule."""
    rows, columns = matrix.mentor_index(), matrix.mentee_index()
    found: list[tuple[int, int]] = []
    for mentor_id, mentee_id in sorted(rules.fixed):
        label = f"fixed pair {mentor_id} → {mentee_id}"
        if mentor_id not in rows:
            raise PairingRuleError(f"{label}: {mentor_id} has no mentor application")
        if mentee_id not in columns:
            raise PairingRuleError(f"{label}: {mentee_id} has no mentee application")
        i, j = rows[mentor_id], columns[mentee_id]
        broken = violations(matrix.mentors[i], matrix.mentees[j], rules)
        if broken:
            raise PairingRuleError(f"{label} breaks a hard constraint: {'; '.join(broken)}")
        found.append((i, j))
    _refuse_overfull(matrix, found)
    return found


def _refuse_overfull(matrix: ScoreMatrix, fixed: list[tuple[int, int]]) -> None:
    mentors_of = Counter(j for _, j in fixed)
    for j, count in mentors_of.items():
        if count > 1:
            raise PairingRuleError(
                f"mentee {matrix.mentees[j].member_id} is fixed to {count} mentors; "
                "a mentee has one mentor"
            )
    for i, count in Counter(i for i, _ in fixed).items():
        if count > matrix.capacity[i]:
            raise PairingRuleError(
                f"{count} pairs are fixed for {matrix.mentors[i].member_id}, "
                f"above their capacity of {matrix.capacity[i]} mentees"
            )


def _solve_free(matrix: ScoreMatrix, fixed: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Optimal pairs among everyone the fixed pairs leave free, in matrix indices."""
    taken = np.zeros(len(matrix.mentees), dtype=bool)
    capacity = matrix.capacity.copy()
    for i, j in fixed:
        taken[j] = True
        capacity[i] -= 1
    free = np.flatnonzero(~taken)
    scores = matrix.scores if free.size == taken.size else matrix.scores[:, free]
    solution = solve(scores, capacity)
    chosen = zip(solution.mentor.tolist(), free[solution.mentee].tolist(), strict=True)
    return [(int(i), int(j)) for i, j in chosen]


def _pair(
    matrix: ScoreMatrix, i: int, j: int, weights: MatchWeights, ref: datetime, fixed: bool
) -> ProposedPair:
    mentor, mentee = matrix.mentors[i], matrix.mentees[j]
    breakdown = score_pair(mentor, mentee, weights, ref)
    return ProposedPair(mentor.member_id, mentee.member_id, breakdown.total, breakdown, fixed)


def _unmatched(
    matrix: ScoreMatrix, chosen: Sequence[tuple[int, int]], rules: PairingRules
) -> list[Unmatched]:
    paired = np.zeros(len(matrix.mentees), dtype=bool)
    paired[[j for _, j in chosen]] = True
    positions = {e.mentee_id: e.position for e in waiting_entries(matrix, paired)}
    result = [
        Unmatched(
            app.member_id,
            Role.MENTEE,
            mentee_reason(matrix, j, rules, positions.get(app.member_id)),
        )
        for j, app in enumerate(matrix.mentees)
        if not paired[j]
    ]
    busy = {i for i, _ in chosen}
    result += [
        Unmatched(app.member_id, Role.MENTOR, mentor_reason(matrix, i, rules))
        for i, app in enumerate(matrix.mentors)
        if i not in busy
    ]
    return result


def propose_pairings(
    apps: Iterable[Application], weights: MatchWeights, rules: PairingRules, ref: datetime
) -> PairingProposal:
    """The optimal pairing set: maximum total score, then as many mentees paired as possible.

    Raises :class:`PairingRuleError` when a fixed pair breaks a hard constraint or a capacity,
    or a member has two applications.
    """
    matrix = build_matrix(apps, weights, rules, ref)
    fixed = _fixed_pairs(matrix, rules)
    chosen = fixed + _solve_free(matrix, fixed)
    by_hand = set(fixed)
    pairs = [_pair(matrix, i, j, weights, ref, (i, j) in by_hand) for i, j in chosen]
    pairs.sort(key=lambda pair: (pair.mentor_id, pair.mentee_id))
    total = sum(pair.breakdown.total_cents for pair in pairs) / 100
    return PairingProposal(pairs, _unmatched(matrix, chosen, rules), total)


def waiting_list(
    proposal: PairingProposal,
    apps: Iterable[Application],
    weights: MatchWeights,
    rules: PairingRules,
    ref: datetime,
) -> list[WaitingEntry]:
    """Unpaired mentees who have an allowed mentor, best possible score first.

    The score is the best over every allowed mentor (they are all full in an optimal
    proposal), so the first on the list gains most when a place frees up.
    """
    matrix = build_matrix(apps, weights, rules, ref)
    paired_ids = {pair.mentee_id for pair in proposal.pairs}
    paired = np.array([app.member_id in paired_ids for app in matrix.mentees], dtype=bool)
    return waiting_entries(matrix, paired)


def _freed_role(app: Application, role: Role | None) -> Role:
    if role in (Role.MENTOR, Role.MENTEE):
        return role
    if role is None and app.role is not Role.BOTH:
        return app.role
    raise PairingRuleError(
        f"{app.member_id} applied as both; say whether the freed role is mentor or mentee"
    )


def best_repairing(
    member_id: str,
    current_pairs: Iterable[tuple[str, str]],
    apps: Iterable[Application],
    weights: MatchWeights,
    rules: PairingRules,
    ref: datetime,
    *,
    role: Role | None = None,
) -> ProposedPair | None:
    """The best new pair for someone freed when a pair dissolved, or None if there is none.

    A freed mentee gets the best allowed mentor with room left; a mentor with room gets the
    best allowed mentee still unpaired (the head of the waiting list for that mentor).
    ``current_pairs`` are (mentor_id, mentee_id) after the dissolved pair was removed.
    """
    people = {app.member_id: app for app in apps}
    if member_id not in people:
        raise PairingRuleError(f"{member_id} has no application in this cycle")
    freed = people[member_id]
    pairs = list(current_pairs)
    load = Counter(mentor_id for mentor_id, _ in pairs)
    paired = {mentee_id for _, mentee_id in pairs}
    if _freed_role(freed, role) is Role.MENTEE:
        if member_id in paired:
            raise PairingRuleError(f"{member_id} already has a mentor")
        options = [
            (app, freed)
            for app in people.values()
            if app.is_mentor and load[app.member_id] < (app.max_mentees or 0)
        ]
    else:
        if load[member_id] >= (freed.max_mentees or 0):
            raise PairingRuleError(f"{member_id} has no free capacity")
        options = [
            (freed, app) for app in people.values() if app.is_mentee and app.member_id not in paired
        ]
    return _best_option(options, weights, rules, ref)


def _best_option(
    options: list[tuple[Application, Application]],
    weights: MatchWeights,
    rules: PairingRules,
    ref: datetime,
) -> ProposedPair | None:
    allowed = [(m, e) for m, e in options if not violations(m, e, rules)]
    scored = [(score_pair(m, e, weights, ref), m, e) for m, e in allowed]
    if not scored:
        return None
    best, mentor, mentee = min(
        scored,
        key=lambda s: (
            -s[0].total_cents,
            s[1].submitted_at,
            s[2].submitted_at,
            s[1].member_id,
            s[2].member_id,
        ),
    )
    return ProposedPair(mentor.member_id, mentee.member_id, best.total, best)
