"""Re-pairing (pure): the best allowed partner, the hard constraints, the reasons; and what
a withdrawal ends."""

from collections import Counter
from datetime import UTC, datetime

import pytest

from domain.applications import Application, ApplicationStatus, Role
from domain.enrolment import Enrolment
from domain.errors import DomainError
from domain.matching import MatchWeights, PairingRules, score_pair
from domain.offers import FreedSlot
from domain.pairing_rules import violations
from domain.pairs import Pair
from domain.rematch import rematch_offers
from domain.withdrawal import already_withdrawn, role_named, withdrawal
from tests.applicants import app, mentor

REF = datetime(2026, 12, 1, 18, tzinfo=UTC)
W = MatchWeights()
RULES = PairingRules()


ALL_AREAS = ("Technology", "Assessment", "Preservation")


def brute_force_mentor(
    mentee: Application, apps: list[Application], pairs: list[tuple[str, str]]
) -> tuple[str, float] | None:
    """Independently: the allowed mentor with room and the highest score."""
    load = Counter(m for m, _ in pairs)
    best = [
        (score_pair(a, mentee, W, REF).total, a.member_id)
        for a in apps
        if a.is_mentor and load[a.member_id] < (a.max_mentees or 0)
        if not violations(a, mentee, RULES)
    ]
    if not best:
        return None
    score, who = max(best)
    return who, score


def test_a_freed_mentee_gets_the_best_scoring_mentor_with_room() -> None:
    apps = [
        mentor("M1", areas=("Technology",), cap=2),
        mentor("M2", areas=("Technology", "Assessment"), cap=1),
        mentor("M3", areas=("Preservation",), cap=1),
        app("E1", areas=("Technology", "Assessment")),
        app("E2"),
    ]
    current = [("M2", "E2")]
    (offer,) = rematch_offers([FreedSlot("E1", Role.MENTEE)], current, apps, W, RULES, REF)
    expected = brute_force_mentor(apps[3], apps, current)
    assert expected is not None
    assert expected == (offer.mentor_id, offer.score)
    assert offer.mentor_id == "M1"
    assert offer.mentee_id == "E1" and offer.reason is None and offer.needed
    assert offer.explanation == score_pair(apps[0], apps[3], W, REF).explain()
    assert "shares Technology" in (offer.explanation or "")


@pytest.mark.parametrize(
    ("best", "why"),
    [
        (mentor("MX", areas=ALL_AREAS, institution="Elsewhere Library"), "same institution"),
        (mentor("MX", areas=ALL_AREAS, stage="student"), "career stage below the mentee's"),
        (mentor("MX", areas=ALL_AREAS, cap=1), "no free capacity"),
    ],
)
def test_the_best_scoring_mentor_is_skipped_when_a_hard_constraint_forbids_him(
    best: Application, why: str
) -> None:
    apps = [best, mentor("MOK", areas=("Technology",)), app("E1", areas=ALL_AREAS), app("E9")]
    current = [("MX", "E9")] if why == "no free capacity" else []
    slot = FreedSlot("E1", Role.MENTEE)
    (offer,) = rematch_offers([slot], current, apps, W, RULES, REF)
    assert offer.mentor_id == "MOK", why
    assert score_pair(best, apps[2], W, REF).total > (offer.score or 0)


def test_mentors_nobody_needed_in_the_proposal_are_candidates() -> None:
    idle = mentor("M9", areas=ALL_AREAS, cap=3)
    apps = [mentor("M1", cap=1), idle, app("E1", areas=ALL_AREAS), app("E2")]
    (offer,) = rematch_offers([FreedSlot("E1", Role.MENTEE)], [], apps, W, RULES, REF)
    assert offer.mentor_id == "M9"


def test_a_mentor_who_lost_a_mentee_gets_the_best_waiting_mentee() -> None:
    apps = [
        mentor("M1", areas=("Technology", "Assessment"), cap=2),
        app("E1", areas=("Technology", "Assessment")),
        app("E2", areas=("Technology", "Assessment", "Preservation"), minute=1),
        app("W1", areas=("Technology",), minute=2),
        app("W2", areas=("Technology", "Assessment"), minute=3),
        app("W3", areas=("Technology", "Assessment"), institution="M1 University", minute=4),
        app("W4", areas=ALL_AREAS, stage="senior", minute=5),
    ]
    current = [("M1", "E2")]
    (offer,) = rematch_offers(
        [FreedSlot("M1", Role.MENTOR)], current, apps, W, RULES, REF, ended=[("M1", "E1")]
    )
    # E1 (the ended pair) and E2 (paired) are not offered; W3 is at M1's institution; W4
    # shares as much but is at M1's own career stage (fewer points): W2 is the best.
    assert (offer.mentor_id, offer.mentee_id) == ("M1", "W2")
    assert offer.score == score_pair(apps[0], apps[4], W, REF).total


def test_a_dissolved_pair_is_never_offered_again() -> None:
    apps = [mentor("M1", areas=ALL_AREAS), mentor("M2"), app("E1", areas=ALL_AREAS)]
    slot = FreedSlot("E1", Role.MENTEE)
    (offer,) = rematch_offers([slot], [], apps, W, RULES, REF, ended=[("M1", "E1")])
    assert offer.mentor_id == "M2"


def test_two_offers_never_compete_for_one_free_place() -> None:
    apps = [
        mentor("M1", areas=ALL_AREAS, cap=1),
        mentor("M2", cap=1),
        app("E1", areas=ALL_AREAS),
        app("E2", areas=ALL_AREAS, minute=1),
    ]
    slots = [FreedSlot("E1", Role.MENTEE), FreedSlot("E2", Role.MENTEE)]
    first, second = rematch_offers(slots, [], apps, W, RULES, REF)
    assert (first.mentor_id, second.mentor_id) == ("M1", "M2")


def test_free_places_are_served_before_mentees_and_reserve_their_mentee() -> None:
    apps = [mentor("M1", areas=ALL_AREAS, cap=1), app("E1", areas=ALL_AREAS), app("E2")]
    mentee_slot, place = FreedSlot("E2", Role.MENTEE), FreedSlot("M1", Role.MENTOR)
    for_e2, for_m1 = rematch_offers([mentee_slot, place], [], apps, W, RULES, REF)
    assert (for_m1.mentor_id, for_m1.mentee_id) == ("M1", "E1")
    assert for_e2.pair is None and for_e2.needed
    assert for_e2.reason == (
        "no mentor with free capacity outside Elsewhere Library at or above early career; "
        "on the waiting list at position 1"
    )


def test_no_candidate_says_why_in_the_proposals_words() -> None:
    apps = [mentor("M1", stage="early"), app("E1", stage="senior")]
    (offer,) = rematch_offers([FreedSlot("E1", Role.MENTEE)], [], apps, W, RULES, REF)
    assert offer.pair is None and offer.needed
    assert offer.reason == "no mentor at or above senior career applied"
    (place,) = rematch_offers([FreedSlot("M1", Role.MENTOR)], [], apps, W, RULES, REF)
    assert place.reason == "no compatible mentee: no mentee at or below early career applied"


def test_a_mentor_whose_compatible_mentees_are_all_paired_is_told_so() -> None:
    apps = [mentor("M1", cap=2), mentor("M2"), app("E1")]
    (offer,) = rematch_offers([FreedSlot("M1", Role.MENTOR)], [("M2", "E1")], apps, W, RULES, REF)
    assert offer.reason == "no compatible mentee is waiting: all 1 compatible mentees are paired"


def test_a_slot_that_filled_or_whose_member_left_is_no_longer_needed() -> None:
    apps = [mentor("M1", cap=1), app("E1")]
    gone, paired, full = rematch_offers(
        [FreedSlot("E7", Role.MENTEE), FreedSlot("E1", Role.MENTEE), FreedSlot("M1", Role.MENTOR)],
        [("M1", "E1")],
        apps,
        W,
        RULES,
        REF,
    )
    assert not gone.needed and gone.reason == "E7 no longer takes part as a mentee"
    assert not paired.needed and paired.reason == "E1 already has a mentor (M1)"
    assert not full.needed and full.reason == "M1 has no free place left (1 of 1 mentees paired)"


def test_a_both_participant_is_repaired_in_the_role_that_was_freed() -> None:
    apps = [app("B1", role="both", stage="mid", cap=1, institution="Hub"), mentor("M1"), app("E1")]
    as_mentee, as_mentor = rematch_offers(
        [FreedSlot("B1", Role.MENTEE), FreedSlot("B1", Role.MENTOR)], [], apps, W, RULES, REF
    )
    assert (as_mentee.mentor_id, as_mentee.mentee_id) == ("M1", "B1")
    assert (as_mentor.mentor_id, as_mentor.mentee_id) == ("B1", "E1")


def test_a_slot_is_a_mentor_or_a_mentee_never_both() -> None:
    with pytest.raises(ValueError, match="mentor's or a mentee's"):
        FreedSlot("B1", Role.BOTH)


# --- what a withdrawal ends -------------------------------------------------------------------


def enrolment(
    role: str, *, withdrawn_at: datetime | None = None, status: str = "active"
) -> Enrolment:
    return Enrolment(
        2026,
        app("B1", role=role, cap=2),
        ApplicationStatus(status),
        False,
        REF,
        withdrawn_at,
    )


def pair(mentor_id: str, mentee_id: str) -> Pair:
    return Pair(1, 1, mentor_id, mentee_id, 50.0, "")


def test_a_both_participant_leaving_one_role_keeps_the_other_and_its_pairs() -> None:
    leaving = withdrawal(enrolment("both"), role_named("mentor"))
    assert (leaving.staying, leaving.withdrew_as, leaving.as_role) == (
        Role.MENTEE,
        "mentor",
        " as mentor",
    )
    assert leaving.ends(pair("B1", "E1")) and not leaving.ends(pair("M1", "B1"))
    assert leaving.left_behind(pair("B1", "E1")) == FreedSlot("E1", Role.MENTEE)


def test_withdrawing_from_the_program_ends_every_role_held() -> None:
    whole = withdrawal(enrolment("both"), None)
    assert (whole.staying, whole.withdrew_as, whole.as_role) == (None, "all", "")
    assert whole.ends(pair("B1", "E1")) and whole.ends(pair("M1", "B1"))
    assert whole.left_behind(pair("M1", "B1")) == FreedSlot("M1", Role.MENTOR)
    mentee = withdrawal(enrolment("mentee"), None)
    assert (mentee.staying, mentee.withdrew_as) == (None, "mentee")


def test_a_role_not_applied_for_is_refused_in_plain_words() -> None:
    with pytest.raises(DomainError) as refused:
        withdrawal(enrolment("mentee"), Role.MENTOR)
    assert str(refused.value) == (
        "B1 applied as mentee, not as mentor; withdraw them from the whole program instead"
    )
    with pytest.raises(DomainError, match="role 'both' is not allowed; use mentor or mentee"):
        role_named("both")


def test_a_withdrawal_recorded_before_is_nothing_to_do() -> None:
    gone = enrolment("mentee", withdrawn_at=REF, status="withdrawn")
    assert already_withdrawn(gone, None) == (
        "B1 already withdrew from cycle 2026 on 2026-12-01; nothing to do"
    )
    kept_mentee = enrolment("mentee", withdrawn_at=REF)
    assert already_withdrawn(kept_mentee, Role.MENTOR) == (
        "B1 already withdrew as mentor on 2026-12-01; nothing to do"
    )
    assert already_withdrawn(kept_mentee, None) is None
    assert already_withdrawn(enrolment("both"), Role.MENTOR) is None
