"""The committee's pairing rules, and every mentor × mentee score computed at once.

The matrix is what the solver works on: at 10,000 applicants it has ~25 million cells, so it
is filled with numpy (installed with scipy) chunk by chunk, in the same integer hundredths
of a point as :func:`domain.matching_score.score_pair`, and kept as int32 (-1 = not allowed).
"""

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from domain.applications import Application, Area, LibraryType
from domain.matching_score import (
    TIME_ZONE_HORIZON_MINUTES,
    MatchWeights,
    mentee_terms,
    mentor_terms,
    utc_offset_minutes,
)
from domain.pairing_rules import PairingRuleError, PairingRules, institution_key

NOT_ALLOWED = -1
_CHUNK_CELLS = 1_000_000
_POPCOUNT = np.array([bin(mask).count("1") for mask in range(1 << len(Area))], dtype=np.int64)
_AREA_BIT = {area: 1 << index for index, area in enumerate(Area)}
_LIBRARY_CODE = {kind: index for index, kind in enumerate(LibraryType)}


def _ordered(apps: Iterable[Application]) -> list[Application]:
    return sorted(apps, key=lambda app: (app.submitted_at, app.member_id))


@dataclass
class _Features:
    """Per-applicant columns the matrix is computed from."""

    areas: NDArray[np.int64]
    rank: NDArray[np.int64]
    library: NDArray[np.int64]
    institution: NDArray[np.int64]
    offset: NDArray[np.int64]
    terms: sparse.csr_array
    term_count: NDArray[np.int64]


def _codes(values: Iterable[str], codes: dict[str, int]) -> list[int]:
    return [codes.setdefault(value, len(codes)) for value in values]


def _features(
    people: Sequence[Application],
    terms: list[list[int]],
    vocabulary: int,
    institutions: dict[str, int],
    ref: datetime,
) -> _Features:
    rows = [i for i, words in enumerate(terms) for _ in words]
    cols = [code for words in terms for code in words]
    return _Features(
        areas=np.array([sum(_AREA_BIT[a] for a in p.areas) for p in people], dtype=np.int64),
        rank=np.array([p.career_stage.rank for p in people], dtype=np.int64),
        library=np.array([_LIBRARY_CODE[p.library_type] for p in people], dtype=np.int64),
        institution=np.array(
            _codes((institution_key(p) for p in people), institutions), dtype=np.int64
        ),
        offset=np.array([utc_offset_minutes(p.time_zone, ref) for p in people], dtype=np.int64),
        terms=sparse.csr_array(
            (np.ones(len(rows), dtype=np.int64), (rows, cols)), shape=(len(people), vocabulary)
        ),
        term_count=np.array([len(words) for words in terms], dtype=np.int64),
    )


@dataclass
class ScoreMatrix:
    """Mentors (rows) × mentees (columns), both in order of submission."""

    mentors: list[Application]
    mentees: list[Application]
    capacity: NDArray[np.int64]
    scores: NDArray[np.int32]

    def mentor_index(self) -> dict[str, int]:
        """Row of each mentor id."""
        return {app.member_id: i for i, app in enumerate(self.mentors)}

    def mentee_index(self) -> dict[str, int]:
        """Column of each mentee id."""
        return {app.member_id: j for j, app in enumerate(self.mentees)}


def _score_rows(m: _Features, e: _Features, rows: slice, w: MatchWeights) -> NDArray[np.int64]:
    gap = m.rank[rows, None] - e.rank[None, :]
    career = np.array([w.career_cents(g) for g in range(-3, 4)], dtype=np.int64)[gap + 3]
    shared = _POPCOUNT[m.areas[rows, None] & e.areas[None, :]]
    overlap = (m.terms[rows] @ e.terms.T).toarray()
    with np.errstate(divide="ignore", invalid="ignore"):
        goals = np.where(e.term_count > 0, w.cents("goals") * overlap / e.term_count, 0.0)
    distance = np.abs(m.offset[rows, None] - e.offset[None, :]) % 1440
    distance = np.minimum(distance, 1440 - distance)
    horizon = np.maximum(0, TIME_ZONE_HORIZON_MINUTES - distance)
    time_zone = np.rint(w.cents("time_zone") * horizon / TIME_ZONE_HORIZON_MINUTES)
    library = (m.library[rows, None] == e.library[None, :]) * w.cents("same_library_type")
    total: NDArray[np.int64] = (
        shared * w.cents("shared_area")
        + np.rint(goals).astype(np.int64)
        + career
        + time_zone.astype(np.int64)
        + library
    )
    total[gap < 0] = NOT_ALLOWED
    return total


def _refuse_duplicates(apps: list[Application]) -> None:
    counts = Counter(app.member_id for app in apps)
    twice = sorted(member_id for member_id, count in counts.items() if count > 1)
    if twice:
        raise PairingRuleError(
            f"member(s) {', '.join(twice)} have more than one application; keep one each"
        )


def build_matrix(
    apps: Iterable[Application], weights: MatchWeights, rules: PairingRules, ref: datetime
) -> ScoreMatrix:
    """Score every mentor for every mentee; cells breaking a hard constraint hold -1."""
    ordered = _ordered(apps)
    _refuse_duplicates(ordered)
    mentors = [app for app in ordered if app.is_mentor]
    mentees = [app for app in ordered if app.is_mentee]
    codes: dict[str, int] = {}
    mentor_codes = [_codes(mentor_terms(app), codes) for app in mentors]
    mentee_codes = [_codes(mentee_terms(app), codes) for app in mentees]
    institutions: dict[str, int] = {}
    m = _features(mentors, mentor_codes, len(codes), institutions, ref)
    e = _features(mentees, mentee_codes, len(codes), institutions, ref)
    scores = np.empty((len(mentors), len(mentees)), dtype=np.int32)
    step = max(1, _CHUNK_CELLS // max(1, len(mentees)))
    for start in range(0, len(mentors), step):
        rows = slice(start, start + step)
        block = _score_rows(m, e, rows, weights)
        if not rules.allow_same_institution:
            block[m.institution[rows, None] == e.institution[None, :]] = NOT_ALLOWED
        scores[rows] = block
    column = {app.member_id: j for j, app in enumerate(mentees)}
    for i, mentor in enumerate(mentors):
        if mentor.member_id in column:
            scores[i, column[mentor.member_id]] = NOT_ALLOWED
    row = {app.member_id: i for i, app in enumerate(mentors)}
    for mentor_id, mentee_id in rules.blocked:
        if mentor_id in row and mentee_id in column:
            scores[row[mentor_id], column[mentee_id]] = NOT_ALLOWED
    capacity = np.array([app.max_mentees or 0 for app in mentors], dtype=np.int64)
    return ScoreMatrix(mentors, mentees, capacity, scores)
