"""Follow-up tasks: the first meeting within two weeks, and a re-paired pair's tasks."""

from datetime import timedelta

from domain.calendar import CycleCalendar
from domain.cycle_states import CycleEvent, CycleState
from domain.followups import (
    FIRST_MEETING_WITHIN,
    TaskAudience,
    first_meeting_due,
    repaired_pair_tasks,
    tasks_for,
)

CAL = CycleCalendar.default(2026)


def test_pairs_meet_within_two_weeks_of_mentoring_s_start() -> None:
    assert timedelta(days=14) == FIRST_MEETING_WITHIN
    (first, *checkins) = tasks_for(CycleEvent.start_mentoring, 2026, CAL, [("M1", "E1")])
    assert first.key == "2026/start_mentoring/first-meeting/M1/E1"
    assert first.due_at == CAL.milestone(CycleEvent.start_mentoring) + timedelta(days=14)
    assert first.audience is TaskAudience.participant and first.member_id == "E1"
    assert [c.due_at.strftime("%Y-%m-%d") for c in checkins] == [
        "2026-12-31",
        "2027-01-31",
        "2027-02-28",
        "2027-03-31",
        "2027-04-30",
        "2027-05-31",
        "2027-06-30",
    ]


def test_a_repaired_pair_gets_the_checkins_ahead_and_a_first_meeting_from_approval() -> None:
    now = CAL.milestone(CycleEvent.start_mentoring) + timedelta(days=75)  # 2027-02-14
    specs = repaired_pair_tasks(2026, CAL, CycleState.active, "M1", "E2", now)
    *checkins, first = specs
    assert [c.key for c in checkins] == [
        f"2026/start_mentoring/check-in/{month}/M1/E2"
        for month in ("2027-02", "2027-03", "2027-04", "2027-05", "2027-06")
    ]
    assert first.key == "2026/repairing/first-meeting/M1/E2"
    assert first.title == "First meeting of M1 and E2"
    assert first.due_at == first_meeting_due(now) == now + timedelta(days=14)
    assert (first.audience, first.member_id) == (TaskAudience.participant, "E2")


def test_before_mentoring_starts_a_repaired_pair_waits_for_its_start() -> None:
    now = CAL.milestone(CycleEvent.start_orientation)
    for state in (CycleState.paired, CycleState.orientation):
        assert repaired_pair_tasks(2026, CAL, state, "M1", "E2", now) == []


def test_committee_tasks_are_the_committee_s() -> None:
    (review,) = tasks_for(CycleEvent.open_call, 2026, CAL)
    assert review.audience is TaskAudience.committee
