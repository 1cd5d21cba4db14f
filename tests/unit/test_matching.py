from collections import Counter
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp

from domain import matching_solver
from domain.applications import Application, Area, CareerStage, Role
from domain.matching import (
    MatchWeights,
    PairingProposal,
    PairingRuleError,
    PairingRules,
    best_repairing,
    candidate_edges,
    propose_pairings,
    score_pair,
    waiting_list,
)
from domain.matching_matrix import build_matrix
from domain.matching_score import InvalidWeights, goal_terms
from tests.applicants import app, mentor

REF = datetime(2026, 12, 1, 18, tzinfo=UTC)
NO_RULES = PairingRules()
W = MatchWeights()


def propose(
    apps: list[Application], rules: PairingRules = NO_RULES, weights: MatchWeights = W
) -> PairingProposal:
    return propose_pairings(apps, weights, rules, REF)


def pairs_of(proposal: PairingProposal) -> set[tuple[str, str]]:
    return {(p.mentor_id, p.mentee_id) for p in proposal.pairs}


def reason_for(proposal: PairingProposal, member_id: str, role: Role) -> str:
    [found] = [u for u in proposal.unmatched if u.member_id == member_id and u.role is role]
    return found.reason


# --- scoring -------------------------------------------------------------------------------


def test_explanation_names_shared_areas_and_their_points() -> None:
    m = mentor("M1", areas=("Technology", "Leadership & Management", "Preservation"))
    e = app("E1", areas=("Leadership & Management", "Technology", "Assessment"))
    breakdown = score_pair(m, e, W, REF)
    assert breakdown.points("areas") == 30
    assert breakdown.explain().startswith("shares Leadership & Management and Technology (+30); ")


def test_explanation_covers_every_criterion_and_sums_to_the_total() -> None:
    m = mentor("M1", zone="America/New_York", goals="systems migration", library="public")
    e = app("E1", stage="student", goals="leading a systems migration", library="academic")
    breakdown = score_pair(m, e, W, REF)
    text = breakdown.explain()
    assert "goals meet the mentor's expertise in migration and system (+13.33)" in text
    assert "mentor is 3 stages ahead (senior career → student) (+10)" in text
    assert "different library types (public, academic) (+0)" in text
    assert "1 h apart (+13.75)" in text
    assert breakdown.total == pytest.approx(sum(c.points for c in breakdown.contributions))
    assert breakdown.total == pytest.approx(15 + 13.33 + 10 + 0 + 13.75)


def test_a_career_gap_of_one_or_two_stages_scores_more_than_the_same_stage() -> None:
    e = app("E1", stage="early")
    by_stage = {s: score_pair(mentor("M", stage=s), e, W, REF).total for s in ("early", "mid")}
    two_ahead = score_pair(mentor("M", stage="senior"), e, W, REF).total
    assert by_stage["mid"] == two_ahead > by_stage["early"]


def test_closer_time_zones_score_more_and_distance_wraps_around_the_day() -> None:
    e = app("E1", zone="Pacific/Honolulu")
    near = score_pair(mentor("M", zone="America/Anchorage"), e, W, REF).points("time_zone")
    far = score_pair(mentor("M", zone="Europe/London"), e, W, REF).points("time_zone")
    assert near > far
    auckland = app("E2", zone="Pacific/Auckland")  # UTC+13 in December, 23 h from Honolulu
    wrapped = score_pair(mentor("M", zone="Pacific/Honolulu"), auckland, W, REF)
    assert wrapped.points("time_zone") == pytest.approx(15 * 11 / 12)


def test_same_library_type_adds_its_weight() -> None:
    same = score_pair(mentor("M", library="school"), app("E", library="school"), W, REF)
    assert same.points("library_type") == 10
    assert "both in school libraries" in same.explain()


def test_goal_terms_ignore_case_stop_words_and_plural_s() -> None:
    assert goal_terms("Leading the Systems migrations, and MORE") == {
        "leading",
        "system",
        "migration",
    }


def test_weights_are_settable_and_bad_weights_are_refused() -> None:
    heavy = MatchWeights(shared_area=40)
    assert score_pair(mentor("M"), app("E"), heavy, REF).points("areas") == 40
    with pytest.raises(InvalidWeights, match="shared_area"):
        MatchWeights(shared_area=-1)
    with pytest.raises(InvalidWeights, match="goals"):
        MatchWeights(goals=float("nan"))


# --- hard constraints ----------------------------------------------------------------------


def test_a_mentor_is_never_at_an_earlier_career_stage_than_the_mentee() -> None:
    proposal = propose([mentor("M1", stage="mid"), app("E1", stage="senior")])
    assert proposal.pairs == []
    assert reason_for(proposal, "E1", Role.MENTEE) == "no mentor at or above senior career applied"


def test_same_career_stage_is_allowed() -> None:
    assert pairs_of(propose([mentor("M1", stage="mid"), app("E1", stage="mid")])) == {("M1", "E1")}


def test_colleagues_are_not_paired_unless_the_committee_allows_it() -> None:
    apps = [mentor("M1", institution="Prairie State"), app("E1", institution=" prairie state ")]
    proposal = propose(apps)
    assert proposal.pairs == []
    assert reason_for(proposal, "E1", Role.MENTEE) == (
        "no mentor outside  prairie state  at or above early career applied"
    )
    allowed = propose(apps, PairingRules(allow_same_institution=True))
    assert pairs_of(allowed) == {("M1", "E1")}


def test_a_mentor_takes_no_more_mentees_than_offered() -> None:
    apps = [mentor("M1", cap=2)] + [app(f"E{i}", minute=i) for i in range(4)]
    proposal = propose(apps)
    assert len(proposal.pairs) == 2
    assert all(p.mentor_id == "M1" for p in proposal.pairs)
    waiting = [u for u in proposal.unmatched if u.role is Role.MENTEE]
    assert len(waiting) == 2
    assert all("no mentor with free capacity" in u.reason for u in waiting)


def test_a_mentee_has_one_mentor() -> None:
    apps = [mentor("M1", cap=3), mentor("M2", cap=3), app("E1")]
    proposal = propose(apps)
    assert Counter(p.mentee_id for p in proposal.pairs) == {"E1": 1}


def test_a_both_applicant_mentors_and_is_mentored_but_never_by_themselves() -> None:
    both = app("B1", role="both", stage="mid", cap=1, institution="Hub")
    apps = [both, mentor("M1", stage="senior"), app("E1", stage="early")]
    assert pairs_of(propose(apps)) == {("M1", "B1"), ("B1", "E1")}


def test_a_lone_both_applicant_stays_unpaired_in_both_roles() -> None:
    proposal = propose([app("B1", role="both", stage="mid", cap=2)])
    assert proposal.pairs == []
    assert {u.role for u in proposal.unmatched} == {Role.MENTOR, Role.MENTEE}


def test_a_blocked_pair_is_never_proposed() -> None:
    apps = [mentor("M1"), app("E1")]
    proposal = propose(apps, PairingRules(blocked=frozenset({("M1", "E1")})))
    assert proposal.pairs == []
    assert "is blocked" in reason_for(proposal, "E1", Role.MENTEE)


def test_a_fixed_pair_is_kept_even_when_another_set_scores_more() -> None:
    good = mentor("M1", areas=("Technology", "Preservation"), cap=1)
    weak = mentor("M2", areas=("Assessment",), cap=1)
    e1 = app("E1", areas=("Technology", "Preservation"))
    free = propose([good, weak, e1])
    assert pairs_of(free) == {("M1", "E1")}
    forced = propose([good, weak, e1], PairingRules(fixed=frozenset({("M2", "E1")})))
    assert pairs_of(forced) == {("M2", "E1")}
    assert forced.pairs[0].fixed


def test_a_fixed_pair_breaking_a_hard_constraint_is_refused() -> None:
    apps = [mentor("M1", stage="early"), app("E1", stage="senior")]
    with pytest.raises(PairingRuleError, match=r"fixed pair M1 → E1 breaks.*earlier career stage"):
        propose(apps, PairingRules(fixed=frozenset({("M1", "E1")})))


def test_a_fixed_pair_that_is_also_blocked_is_refused() -> None:
    pair = ("M1", "E1")
    rules = PairingRules(fixed=frozenset({pair}), blocked=frozenset({pair}))
    with pytest.raises(PairingRuleError, match="blocked"):
        propose([mentor("M1"), app("E1")], rules)


def test_fixed_pairs_beyond_a_mentors_capacity_are_refused() -> None:
    rules = PairingRules(fixed=frozenset({("M1", "E1"), ("M1", "E2")}))
    with pytest.raises(PairingRuleError, match="above their capacity of 1"):
        propose([mentor("M1", cap=1), app("E1"), app("E2")], rules)


def test_a_mentee_fixed_to_two_mentors_is_refused() -> None:
    rules = PairingRules(fixed=frozenset({("M1", "E1"), ("M2", "E1")}))
    with pytest.raises(PairingRuleError, match="E1 is fixed to 2 mentors"):
        propose([mentor("M1"), mentor("M2"), app("E1")], rules)


def test_a_fixed_pair_naming_someone_without_an_application_is_refused() -> None:
    with pytest.raises(PairingRuleError, match="X9 has no mentee application"):
        propose([mentor("M1"), app("E1")], PairingRules(fixed=frozenset({("M1", "X9")})))


def test_two_applications_from_one_member_are_refused() -> None:
    with pytest.raises(PairingRuleError, match="E1 have more than one application"):
        propose([mentor("M1"), app("E1"), app("E1", minute=5)])


# --- optimality ----------------------------------------------------------------------------


def test_maximises_the_total_score_where_greedy_would_not() -> None:
    m1 = mentor("M1", areas=("Technology", "Assessment"), library="public")
    m2 = mentor("M2", areas=("Technology",), stage="early")
    e1 = app("E1", areas=("Technology", "Assessment"), library="public", stage="early")
    e2 = app("E2", areas=("Technology", "Assessment"), library="school", stage="senior")
    best_edge = score_pair(m1, e1, W, REF).total
    assert best_edge > score_pair(m1, e2, W, REF).total  # greedy would take M1-E1 first ...
    proposal = propose([m1, m2, e1, e2])  # ... and leave E2, whom only M1 may mentor, alone
    assert pairs_of(proposal) == {("M1", "E2"), ("M2", "E1")}
    assert proposal.total_score > best_edge


def test_pairs_as_many_mentees_as_possible_when_scores_tie() -> None:
    zero = MatchWeights(0, 0, 0, 0, 0, 0, 0)
    apps = [mentor("M1"), mentor("M2"), app("E1"), app("E2")]
    proposal = propose(apps, weights=zero)
    assert proposal.total_score == 0
    assert len(proposal.pairs) == 2


def test_total_score_is_the_sum_of_pair_scores() -> None:
    apps = [mentor(f"M{i}", cap=2, minute=i) for i in range(3)] + [
        app(f"E{i}", areas=(list(Area)[i % 7].value,), minute=i) for i in range(7)
    ]
    proposal = propose(apps)
    assert proposal.total_score == pytest.approx(sum(p.score for p in proposal.pairs))
    assert all(p.score == p.breakdown.total for p in proposal.pairs)


# --- unmatched, waiting list, repairs --------------------------------------------------------


def test_a_mentor_without_need_is_told_capacity_was_not_needed() -> None:
    apps = [mentor("M1", areas=("Technology",)), mentor("M2", areas=("Assessment",)), app("E1")]
    proposal = propose(apps)
    assert pairs_of(proposal) == {("M1", "E1")}
    assert reason_for(proposal, "M2", Role.MENTOR).startswith(
        "capacity not needed: no compatible mentee left"
    )


def test_a_mentor_with_no_compatible_mentee_is_told_why() -> None:
    proposal = propose([mentor("M1", stage="early"), app("E1", stage="mid")])
    assert reason_for(proposal, "M1", Role.MENTOR) == (
        "no compatible mentee: no mentee at or below early career applied"
    )


def test_waiting_list_orders_unpaired_mentees_by_best_available_score() -> None:
    m1 = mentor("M1", areas=("Technology", "Assessment", "Preservation"), cap=1)
    best = app("E1", areas=("Technology", "Assessment", "Preservation"), minute=3)
    second = app("E2", areas=("Technology", "Assessment"), minute=1)
    third = app("E3", areas=("Technology",), minute=2)
    apps = [m1, best, second, third]
    proposal = propose(apps)
    assert pairs_of(proposal) == {("M1", "E1")}
    waiting = waiting_list(proposal, apps, W, NO_RULES, REF)
    assert [(w.position, w.mentee_id, w.best_mentor_id) for w in waiting] == [
        (1, "E2", "M1"),
        (2, "E3", "M1"),
    ]
    assert waiting[0].best_score > waiting[1].best_score
    assert reason_for(proposal, "E3", Role.MENTEE) == (
        "no mentor with free capacity outside Elsewhere Library at or above early career; "
        "on the waiting list at position 2"
    )


def test_a_freed_mentor_is_offered_the_best_waiting_mentee() -> None:
    m1 = mentor("M1", areas=("Technology", "Assessment"), cap=1)
    apps = [m1, app("E1", areas=("Technology",)), app("E2", areas=("Technology", "Assessment"))]
    repair = best_repairing("M1", [], apps, W, NO_RULES, REF)
    assert repair is not None
    assert (repair.mentor_id, repair.mentee_id) == ("M1", "E2")
    assert repair.score == score_pair(m1, apps[2], W, REF).total
    with pytest.raises(PairingRuleError, match="M1 has no free capacity"):
        best_repairing("M1", [("M1", "E2")], apps, W, NO_RULES, REF)


def test_no_repair_is_offered_when_nobody_compatible_is_free() -> None:
    apps = [mentor("M1", stage="early"), app("E1", stage="senior")]
    assert best_repairing("E1", [], apps, W, NO_RULES, REF) is None


def test_a_freed_mentee_is_offered_the_best_mentor_with_room() -> None:
    full = mentor("M1", areas=("Technology",), cap=1)
    room = mentor("M2", areas=("Assessment",), cap=2)
    colleague = mentor("M3", areas=("Technology",), cap=1, institution="Elsewhere Library")
    apps = [full, room, colleague, app("E1"), app("E2")]
    repair = best_repairing("E2", [("M1", "E1")], apps, W, NO_RULES, REF)
    assert repair is not None
    assert (repair.mentor_id, repair.mentee_id) == ("M2", "E2")


def test_repairing_a_both_applicant_needs_the_freed_role() -> None:
    apps = [app("B1", role="both", stage="mid", cap=1, institution="Hub"), mentor("M1"), app("E1")]
    with pytest.raises(PairingRuleError, match="applied as both"):
        best_repairing("B1", [], apps, W, NO_RULES, REF)
    as_mentee = best_repairing("B1", [], apps, W, NO_RULES, REF, role=Role.MENTEE)
    assert as_mentee is not None and as_mentee.mentor_id == "M1"
    as_mentor = best_repairing("B1", [], apps, W, NO_RULES, REF, role=Role.MENTOR)
    assert as_mentor is not None and as_mentor.mentee_id == "E1"


def test_candidates_list_every_allowed_pair_with_its_score_and_capacities() -> None:
    apps = [mentor("M1", cap=2), mentor("M2", stage="early"), app("E1"), app("E2", stage="mid")]
    rules = PairingRules(blocked=frozenset({("M1", "E2")}))
    candidates = candidate_edges(apps, W, rules, REF)
    assert candidates.capacities == {"M1": 2, "M2": 1}
    edges = {(e.mentor_id, e.mentee_id): e.score for e in candidates.edges}
    assert set(edges) == {("M1", "E1"), ("M2", "E1")}
    assert edges[("M1", "E1")] == score_pair(apps[0], apps[2], W, REF).total


# --- property: never a broken rule, always the optimum -------------------------------------

INSTITUTIONS = ("North", "South", "East")
ZONES = ("America/Chicago", "America/New_York", "Europe/London", "Pacific/Honolulu")
WORDS = ("systems", "migration", "leadership", "metadata", "grants", "budget", "coaching")


@st.composite
def applicants(draw: st.DrawFn) -> list[Application]:
    count = draw(st.integers(1, 14))
    apps = []
    for index in range(count):
        role = draw(st.sampled_from(("mentor", "mentee", "mentee", "both")))
        apps.append(
            app(
                f"A{index}",
                role=role,
                stage=draw(st.sampled_from([s.value for s in CareerStage])),
                institution=draw(st.sampled_from(INSTITUTIONS)),
                areas=tuple(
                    draw(st.sets(st.sampled_from([a.value for a in Area]), min_size=1, max_size=3))
                ),
                library=draw(st.sampled_from(("academic", "public", "school"))),
                zone=draw(st.sampled_from(ZONES)),
                goals=" ".join(draw(st.lists(st.sampled_from(WORDS), max_size=3))),
                cap=draw(st.integers(1, 3)) if role != "mentee" else None,
                minute=draw(st.integers(0, 1000)),
            )
        )
    return apps


def allowed_in_test(m: Application, e: Application, rules: PairingRules) -> bool:
    """The hard constraints, written again independently of the implementation."""
    return (
        m.role in (Role.MENTOR, Role.BOTH)
        and e.role in (Role.MENTEE, Role.BOTH)
        and m.member_id != e.member_id
        and (rules.allow_same_institution or m.institution.lower() != e.institution.lower())
        and list(CareerStage).index(m.career_stage) >= list(CareerStage).index(e.career_stage)
        and (m.member_id, e.member_id) not in rules.blocked
    )


def optimum_by_milp(
    apps: list[Application], rules: PairingRules, weights: MatchWeights
) -> tuple[float, int]:
    """Best total (cents) and, among best totals, most pairs, from scipy's MILP on the LP."""
    edges = [
        (m, e, round(score_pair(m, e, weights, REF).total * 100))
        for m in apps
        for e in apps
        if allowed_in_test(m, e, rules)
    ]
    if not edges:
        return 0.0, 0
    people = sorted({a.member_id for a in apps})
    rows_m = [[1 if m.member_id == p else 0 for m, _, _ in edges] for p in people]
    rows_e = [[1 if e.member_id == p else 0 for _, e, _ in edges] for p in people]
    caps = [next((a.max_mentees or 0) for a in apps if a.member_id == p) for p in people]
    lower = [1 if (m.member_id, e.member_id) in rules.fixed else 0 for m, e, _ in edges]
    constraints = [
        LinearConstraint(np.array(rows_m), 0, caps),
        LinearConstraint(np.array(rows_e), 0, 1),
    ]
    scores = np.array([s for _, _, s in edges], dtype=float)
    integral = np.ones(len(edges))
    best = milp(-scores, constraints=constraints, bounds=Bounds(lower, 1), integrality=integral)
    assert best.success
    total = -best.fun
    most = milp(
        -np.ones(len(edges)),
        constraints=[*constraints, LinearConstraint(scores[None, :], total - 0.5, np.inf)],
        bounds=Bounds(lower, 1),
        integrality=integral,
    )
    return total, round(-most.fun)


@st.composite
def instances(draw: st.DrawFn) -> tuple[list[Application], PairingRules]:
    apps = draw(applicants())
    allow = draw(st.booleans())
    open_rules = PairingRules(allow_same_institution=allow)
    possible = sorted(
        (m.member_id, e.member_id) for m in apps for e in apps if allowed_in_test(m, e, open_rules)
    )
    blocked = draw(st.sets(st.sampled_from(possible), max_size=4)) if possible else set()
    left = [pair for pair in possible if pair not in blocked]
    wanted = draw(st.lists(st.sampled_from(left), max_size=2, unique=True)) if left else []
    capacity = {a.member_id: a.max_mentees or 0 for a in apps}
    fixed: set[tuple[str, str]] = set()
    for mentor_id, mentee_id in wanted:
        if capacity[mentor_id] > 0 and all(mentee_id != e for _, e in fixed):
            fixed.add((mentor_id, mentee_id))
            capacity[mentor_id] -= 1
    rules = PairingRules(allow, frozenset(fixed), frozenset(blocked))
    return apps, rules


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(), st.sampled_from([W, MatchWeights(0, 0, 0, 0, 0, 0, 0), MatchWeights(40, 5)]))
def test_proposal_keeps_every_hard_constraint_and_reaches_the_optimum(
    instance: tuple[list[Application], PairingRules], weights: MatchWeights
) -> None:
    apps, rules = instance
    proposal = propose(apps, rules, weights)
    by_id = {a.member_id: a for a in apps}
    load = Counter(p.mentor_id for p in proposal.pairs)
    assert all(load[m] <= (by_id[m].max_mentees or 0) for m in load)
    assert len({p.mentee_id for p in proposal.pairs}) == len(proposal.pairs)
    for pair in proposal.pairs:
        assert allowed_in_test(by_id[pair.mentor_id], by_id[pair.mentee_id], rules)
    assert rules.fixed <= pairs_of(proposal)
    best_cents, most_pairs = optimum_by_milp(apps, rules, weights)
    assert round(proposal.total_score * 100) == round(best_cents)
    assert len(proposal.pairs) == most_pairs
    paired = {p.mentee_id for p in proposal.pairs}
    unpaired = {u.member_id for u in proposal.unmatched if u.role is Role.MENTEE}
    assert unpaired == {a.member_id for a in apps if a.is_mentee} - paired


@settings(max_examples=60, deadline=None)
@given(applicants())
def test_the_score_matrix_agrees_with_score_pair_for_every_allowed_pair(
    apps: list[Application],
) -> None:
    matrix = build_matrix(apps, W, NO_RULES, REF)
    for i, m in enumerate(matrix.mentors):
        for j, e in enumerate(matrix.mentees):
            if allowed_in_test(m, e, NO_RULES):
                assert matrix.scores[i, j] == score_pair(m, e, W, REF).total_cents
            else:
                assert matrix.scores[i, j] == -1


@st.composite
def score_matrices(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    mentors, mentees = draw(st.integers(1, 8)), draw(st.integers(1, 12))
    cells = st.one_of(st.just(-1), st.integers(0, 30))
    flat = draw(st.lists(cells, min_size=mentors * mentees, max_size=mentors * mentees))
    capacity = draw(st.lists(st.integers(1, 3), min_size=mentors, max_size=mentors))
    scores = np.array(flat, dtype=np.int32).reshape(mentors, mentees)
    return scores, np.array(capacity, dtype=np.int64)


@settings(max_examples=150, deadline=None)
@given(score_matrices())
def test_the_sparse_start_and_its_optimality_proof_reach_the_lp_optimum(
    instance: tuple[np.ndarray, np.ndarray],
) -> None:
    """Force the large-instance path: one edge per mentee first, the rest by reduced cost."""
    scores, capacity = instance
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(matching_solver, "_SMALL_GRAPH", 0)
        patch.setattr(matching_solver, "_FIRST_PER_MENTEE", 1)
        patch.setattr(matching_solver, "_FIRST_PER_CAPACITY", 0)
        patch.setattr(matching_solver, "_ADDED_PER_MENTEE", 1)
        solution = matching_solver.solve(scores, capacity)
    chosen = scores[solution.mentor, solution.mentee]
    assert (chosen >= 0).all()
    assert (np.bincount(solution.mentor, minlength=capacity.size) <= capacity).all()
    assert len(set(solution.mentee.tolist())) == solution.mentee.size
    rows, cols = np.nonzero(scores >= 0)
    if rows.size == 0:
        assert solution.mentee.size == 0
        return
    weights = scores[rows, cols].astype(float)
    by_mentor = (rows[None, :] == np.arange(capacity.size)[:, None]).astype(float)
    by_mentee = (cols[None, :] == np.arange(scores.shape[1])[:, None]).astype(float)
    limits = [LinearConstraint(by_mentor, 0, capacity), LinearConstraint(by_mentee, 0, 1)]
    best = milp(-weights, constraints=limits, bounds=Bounds(0, 1))  # the LP relaxation
    assert int(chosen.sum()) == round(-best.fun)
