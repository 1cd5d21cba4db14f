"""Re-pairing after a pair dissolves: the best new partner for whoever was left short.

A withdrawal, or the committee ending a pair that does not work, leaves a *slot* open: a
mentee without a mentor, or a mentor with a place free. For each slot the committee is
offered the best partner the program's own rules allow — scores and hard constraints come
from :mod:`domain.matching` (``best_repairing``, ``violations``, the score matrix and its
reasons), never recomputed here. A freed mentee may get any mentor with room left
(including mentors nobody needed in the proposal); a freed mentor may get any mentee still
waiting. The dissolved pair itself is never offered again.

Free places are served first, each taking the best-scoring mentee still waiting (the
waiting list's own rule: whoever gains most when a place frees up); then each mentee left
without a mentor gets the best mentor with a place nobody was promised. Within each kind
slots are served in the order given, and every offer reserves its candidate, so two open
offers never compete for the same mentee or the same free place.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from domain.applications import Application, Role
from domain.matching import MatchWeights, PairingRules, ProposedPair, best_repairing
from domain.matching_matrix import ScoreMatrix, build_matrix
from domain.matching_reasons import mentee_reason, mentor_reason, waiting_entries
from domain.offers import FreedSlot

Pair = tuple[str, str]


@dataclass(frozen=True)
class RematchOffer:
    """The best new pair for one slot, or why there is none.

    ``needed`` is False when the slot closed on its own (the member withdrew, or already
    has the partner they lacked); ``reason`` then says so.
    """

    slot: FreedSlot
    pair: ProposedPair | None
    reason: str | None = None
    needed: bool = True

    @property
    def mentor_id(self) -> str | None:
        """The offered pair's mentor, if there is a candidate."""
        return self.pair.mentor_id if self.pair else None

    @property
    def mentee_id(self) -> str | None:
        """The offered pair's mentee, if there is a candidate."""
        return self.pair.mentee_id if self.pair else None

    @property
    def score(self) -> float | None:
        """The offered pair's score in points."""
        return self.pair.score if self.pair else None

    @property
    def explanation(self) -> str | None:
        """Which criteria contributed what, as in the proposal."""
        return self.pair.breakdown.explain() if self.pair else None


def with_ended(rules: PairingRules, ended: Iterable[Pair]) -> PairingRules:
    """The committee's rules, with every dissolved pair blocked from being offered again."""
    return PairingRules(
        allow_same_institution=rules.allow_same_institution,
        fixed=rules.fixed,
        blocked=frozenset(rules.blocked) | frozenset(ended),
    )


@dataclass
class _Book:
    """Who is paired now (approved pairs) and who is promised to an earlier offer."""

    people: dict[str, Application]
    current: list[Pair]
    reserved: list[Pair] = field(default_factory=list)

    def load(self, mentor_id: str, *, with_reserved: bool) -> int:
        pairs = self.current + self.reserved if with_reserved else self.current
        return sum(1 for m, _ in pairs if m == mentor_id)

    def mentor_of(self, mentee_id: str, *, with_reserved: bool) -> str | None:
        pairs = self.current + self.reserved if with_reserved else self.current
        return next((m for m, e in pairs if e == mentee_id), None)


def _closed(slot: FreedSlot, book: _Book) -> str | None:
    """Why the slot needs no partner any more, if it does not."""
    app = book.people.get(slot.member_id)
    wanted = app is not None and (app.is_mentor if slot.role is Role.MENTOR else app.is_mentee)
    if app is None or not wanted:
        return f"{slot.member_id} no longer takes part as a {slot.role}"
    if slot.role is Role.MENTEE:
        mentor = book.mentor_of(slot.member_id, with_reserved=False)
        return f"{slot.member_id} already has a mentor ({mentor})" if mentor else None
    load = book.load(slot.member_id, with_reserved=False)
    capacity = app.max_mentees or 0
    if load >= capacity:
        return f"{slot.member_id} has no free place left ({load} of {capacity} mentees paired)"
    return None


def _promised(slot: FreedSlot, book: _Book) -> str | None:
    """Why an earlier offer already took what this slot would need."""
    if slot.role is Role.MENTEE:
        mentor = book.mentor_of(slot.member_id, with_reserved=True)
        return f"already offered to mentor {mentor} in an earlier offer" if mentor else None
    capacity = book.people[slot.member_id].max_mentees or 0
    if book.load(slot.member_id, with_reserved=True) >= capacity:
        return "the free place is already offered to another mentee in an earlier offer"
    return None


def _no_candidate(slot: FreedSlot, book: _Book, matrix: ScoreMatrix, rules: PairingRules) -> str:
    """Why nobody fits, in the proposal's own words for unmatched applicants."""
    taken = {e for _, e in book.current + book.reserved}
    paired = np.array([app.member_id in taken for app in matrix.mentees], dtype=bool)
    if slot.role is Role.MENTEE:
        column = matrix.mentee_index()[slot.member_id]
        positions = {w.mentee_id: w.position for w in waiting_entries(matrix, paired)}
        return mentee_reason(matrix, column, rules, positions.get(slot.member_id))
    row = matrix.mentor_index()[slot.member_id]
    compatible = int(np.count_nonzero(matrix.scores[row] >= 0))
    if compatible:
        return f"no compatible mentee is waiting: all {compatible} compatible mentees are paired"
    return mentor_reason(matrix, row, rules)


def rematch_offers(
    slots: Sequence[FreedSlot],
    current_pairs: Iterable[Pair],
    apps: Iterable[Application],
    weights: MatchWeights,
    rules: PairingRules,
    ref: datetime,
    *,
    ended: Iterable[Pair] = (),
) -> list[RematchOffer]:
    """One offer per slot (in the order given): the best allowed partner still free, or why
    there is none; free places are served before mentees (see the module's docstring).

    ``current_pairs`` are the active (mentor_id, mentee_id) pairs after the dissolution;
    ``apps`` the active applications (everyone not in a current pair is on the waiting
    list); ``ended`` the dissolved pairs, never offered again.
    """
    people = list(apps)
    book = _Book({app.member_id: app for app in people}, list(current_pairs))
    allowed = with_ended(rules, ended)
    matrix: ScoreMatrix | None = None
    offers: dict[int, RematchOffer] = {}
    order = sorted(range(len(slots)), key=lambda k: (slots[k].role is Role.MENTEE, k))
    for k in order:
        slot = slots[k]
        closed = _closed(slot, book)
        if closed:
            offers[k] = RematchOffer(slot, None, closed, needed=False)
            continue
        promised = _promised(slot, book)
        if promised:
            offers[k] = RematchOffer(slot, None, promised)
            continue
        pairs = book.current + book.reserved
        best = best_repairing(slot.member_id, pairs, people, weights, allowed, ref, role=slot.role)
        if best is None:
            matrix = matrix or build_matrix(people, weights, allowed, ref)
            offers[k] = RematchOffer(slot, None, _no_candidate(slot, book, matrix, allowed))
            continue
        book.reserved.append((best.mentor_id, best.mentee_id))
        offers[k] = RematchOffer(slot, best)
    return [offers[k] for k in range(len(slots))]
