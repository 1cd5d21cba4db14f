"""The survey's rules and figures, on answers whose totals are known by hand."""

from datetime import UTC, datetime, timedelta

import pytest

from domain.assessment import (
    InvalidResponse,
    SurveyResponse,
    SurveyRole,
    compare,
    parse_response_row,
    summarize,
)

JULY = datetime(2027, 7, 6, 15, tzinfo=UTC)
ROW = {
    "submitted_at": "2027-07-06T10:00",
    "member_id": "C100001",
    "role": "mentee",
    "overall": "4",
    "goals_met": "5",
    "would_recommend": "yes",
    "will_continue": "no",
    "comments": "  Very   useful. ",
}


def answer(
    member: str,
    role: str,
    overall: int,
    goals: int,
    recommend: bool,
    cont: bool,
    comments: str = "",
    minutes: int = 0,
) -> SurveyResponse:
    return SurveyResponse(
        submitted_at=JULY + timedelta(minutes=minutes),
        member_id=member,
        role=SurveyRole(role),
        overall=overall,
        goals_met=goals,
        would_recommend=recommend,
        will_continue=cont,
        comments=comments,
    )


def test_a_canonical_row_reads_in_the_committee_zone_with_comments_tidied() -> None:
    response = parse_response_row(ROW, default_tz="America/Chicago")
    assert response.submitted_at.utcoffset() == timedelta(hours=-5)
    assert (response.role, response.overall, response.goals_met) == (SurveyRole.MENTEE, 4, 5)
    assert (response.would_recommend, response.will_continue) == (True, False)
    assert response.comments == "Very useful."


def test_comments_may_span_lines_and_are_kept_on_one() -> None:
    row = {**ROW, "comments": "Very useful.\r\n\tWould join again."}
    assert parse_response_row(row, default_tz="UTC").comments == "Very useful. Would join again."


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("overall", "6", "overall '6' is not allowed; use a whole number from 1 to 5"),
        ("goals_met", "four", "goals_met 'four' is not allowed; use a whole number from 1 to 5"),
        ("role", "both", "role 'both' is not allowed; use mentor or mentee"),
        ("would_recommend", "maybe", "would_recommend 'maybe' is not allowed; use yes or no"),
        ("will_continue", "", "will_continue is empty; every response needs one"),
        ("member_id", " ", "member_id is empty"),
        ("submitted_at", "July 6", "submitted_at 'July 6' is not an ISO 8601 date-time"),
        ("member_id", "C10\n0001", "member_id 'C10\\n0001' contains a line break (U+000A)"),
        ("member_id", "C" * 65, "member_id is 65 characters long; keep it to 64"),
        ("comments", "useful\x00", "comments 'useful\\x00' contains a NUL character (U+0000)"),
        ("comments", "c" * 4001, "comments is 4,001 characters long; keep it to 4,000"),
    ],
)
def test_a_bad_value_is_refused_naming_field_value_and_what_is_allowed(
    field: str, value: str, words: str
) -> None:
    with pytest.raises(InvalidResponse) as refused:
        parse_response_row({**ROW, field: value}, default_tz="America/Chicago")
    assert words in refused.value.reason
    assert refused.value.field_name == field
    assert refused.value.reason.count(".") <= 1


def test_yes_no_and_roles_are_read_whatever_their_case() -> None:
    row = {**ROW, "role": "Mentor", "would_recommend": "NO", "will_continue": "Yes"}
    response = parse_response_row(row, default_tz="UTC")
    assert (response.role, response.would_recommend, response.will_continue) == (
        SurveyRole.MENTOR,
        False,
        True,
    )


PARTICIPANTS = {"mentor": {"A", "B", "X"}, "mentee": {"X", "C", "D", "E"}}
ANSWERS = [
    answer("A", "mentor", 5, 4, True, True, "Would do it again."),
    answer("B", "mentor", 3, 2, False, False),
    answer("X", "mentor", 4, 4, True, True, "as a mentor: fine"),
    answer("X", "mentee", 2, 3, True, False, "as a mentee: too short"),
    answer("C", "mentee", 4, 5, True, True, "Brilliant match"),
    answer("C", "mentee", 1, 1, False, False, "first try, replaced", minutes=-60),
    answer("Z", "mentee", 1, 1, False, False, "not a participant"),
    answer("D", "mentor", 1, 1, False, False, "D was a mentee, not a mentor"),
]


def test_the_response_rate_counts_a_both_participant_once_per_role() -> None:
    summary = summarize(ANSWERS, PARTICIPANTS)
    assert (summary.responses, summary.participants, summary.people) == (5, 7, 6)
    assert summary.response_rate == pytest.approx(5 / 7)
    mentor, mentee = summary.by_role["mentor"], summary.by_role["mentee"]
    assert (mentor.responses, mentor.participants, mentor.rate) == (3, 3, 1.0)
    assert (mentee.responses, mentee.participants, mentee.rate) == (2, 4, 0.5)


def test_distributions_means_and_shares_use_the_latest_answer_of_participants_only() -> None:
    summary = summarize(ANSWERS, PARTICIPANTS)
    assert summary.distributions["overall"] == {"1": 0, "2": 1, "3": 1, "4": 2, "5": 1}
    assert summary.distributions["goals_met"] == {"1": 0, "2": 1, "3": 1, "4": 2, "5": 1}
    assert summary.distributions["would_recommend"] == {"yes": 4, "no": 1}
    assert summary.distributions["will_continue"] == {"yes": 3, "no": 2}
    assert summary.means["overall"] == pytest.approx(18 / 5)
    assert summary.means["goals_met"] == pytest.approx(18 / 5)
    assert summary.shares["would_recommend"] == pytest.approx(0.8)
    assert summary.will_continue_share == pytest.approx(0.6)


def test_comments_are_sorted_and_carry_no_member_or_role() -> None:
    summary = summarize(ANSWERS, PARTICIPANTS)
    assert summary.comments == (
        "as a mentee: too short",
        "as a mentor: fine",
        "Brilliant match",
        "Would do it again.",
    )
    figures = summary.as_dict()
    assert figures["comments"] == list(summary.comments)
    flat = repr(figures)
    assert not any(f"'{member}'" in flat for member in ("A", "B", "C", "X", "Z"))


def test_nobody_in_a_role_gives_no_rate_rather_than_zero() -> None:
    summary = summarize([], {"mentor": set(), "mentee": {"C"}})
    assert summary.by_role["mentor"].rate is None
    assert summary.by_role["mentee"].rate == 0.0
    assert summary.means["overall"] is None and summary.will_continue_share is None
    assert summarize([], {}).response_rate is None


def test_the_trend_follows_each_question_across_cycles_in_year_order() -> None:
    later = summarize(ANSWERS, PARTICIPANTS)
    earlier = summarize(
        [answer("A", "mentor", 3, 3, True, False), answer("C", "mentee", 4, 4, False, True)],
        {"mentor": {"A"}, "mentee": {"C", "D", "E"}},
    )
    trend = compare({2026: later, 2025: earlier})
    assert trend.years == (2025, 2026)
    assert trend.series["response_rate"] == pytest.approx((0.5, 5 / 7))
    assert trend.series["overall"] == pytest.approx((3.5, 3.6))
    assert trend.series["would_recommend"] == pytest.approx((0.5, 0.8))
    assert trend.change("overall") == pytest.approx(0.1)
    assert trend.change("will_continue") == pytest.approx(0.1)
    assert trend.as_dict()["change"]["response_rate"] == pytest.approx(5 / 7 - 0.5, abs=1e-4)


def test_a_single_cycle_has_no_change_to_report() -> None:
    trend = compare({2026: summarize(ANSWERS, PARTICIPANTS)})
    assert trend.change("overall") is None
    assert trend.as_dict()["series"]["goals_met"] == [3.6]
