"""When reminders fall due and the dates messages promise, read from the cycle's calendar."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.calendar import CycleCalendar, milestone_at
from domain.cycle_states import CycleEvent
from domain.errors import CalendarError
from domain.reminders import (
    checkin_month_due,
    deadline_reminder_due,
    deadline_reminder_window,
    due_soon_until,
    midpoint,
    midpoint_due,
    midpoint_respond_by,
    survey_closes_on,
    survey_reminders_due,
    waiting_list_until,
)

CHICAGO = ZoneInfo("America/Chicago")
CAL = CycleCalendar.default(2026)


def local(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, sec: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, sec, tzinfo=CHICAGO)


def test_the_deadline_reminder_goes_in_the_call_s_last_week() -> None:
    closes = local(2026, 9, 30, 23, 59, 59)
    assert deadline_reminder_window(CAL) == (closes - timedelta(days=7), closes)
    assert not deadline_reminder_due(CAL, local(2026, 9, 23, 23, 59, 58))
    assert deadline_reminder_due(CAL, local(2026, 9, 23, 23, 59, 59))
    assert deadline_reminder_due(CAL, local(2026, 9, 30, 23, 59, 58))
    assert not deadline_reminder_due(CAL, closes)


def test_checkins_skip_the_month_mentoring_starts_in_the_committee_s_zone() -> None:
    assert not checkin_month_due(CAL, local(2026, 12, 15, 12))
    assert not checkin_month_due(CAL, datetime(2027, 1, 1, 5, 59, tzinfo=UTC))
    assert checkin_month_due(CAL, datetime(2027, 1, 1, 6, 0, tzinfo=UTC))
    assert checkin_month_due(CAL, local(2027, 5, 1, 9))


def test_the_midpoint_is_13_weeks_into_mentoring_with_two_weeks_to_answer() -> None:
    assert midpoint(CAL) == local(2026, 12, 1) + timedelta(days=91) == local(2027, 3, 2)
    assert not midpoint_due(CAL, local(2027, 3, 1, 23, 59))
    assert midpoint_due(CAL, local(2027, 3, 2))
    assert midpoint_respond_by(CAL) == date(2027, 3, 16)


def test_the_survey_closes_the_day_before_the_assessment_completes() -> None:
    assert survey_closes_on(CAL) == date(2027, 7, 31)


@pytest.mark.parametrize(
    ("now", "due"),
    [
        (local(2027, 7, 17, 23, 59), []),
        (local(2027, 7, 18), ["14d"]),
        (local(2027, 7, 28, 23, 59), ["14d"]),
        (local(2027, 7, 29), ["14d", "3d"]),
        (local(2027, 7, 31, 23, 59), ["14d", "3d"]),
        (local(2027, 8, 1), []),
    ],
    ids=str,
)
def test_survey_reminders_fall_due_14_and_3_days_before_the_close(
    now: datetime, due: list[str]
) -> None:
    assert survey_reminders_due(CAL, now) == due


def test_an_unpaired_mentee_waits_a_month_into_mentoring() -> None:
    assert waiting_list_until(CAL) == date(2027, 1, 1)


def test_moving_a_milestone_moves_what_depends_on_it() -> None:
    moved = CAL.with_changes(
        {
            CycleEvent.start_mentoring: milestone_at(
                CycleEvent.start_mentoring, date(2026, 12, 8), CHICAGO
            ),
            CycleEvent.complete_assessment: milestone_at(
                CycleEvent.complete_assessment, date(2027, 8, 15), CHICAGO
            ),
        }
    )
    assert waiting_list_until(moved) == date(2027, 1, 8)
    assert midpoint_respond_by(moved) == date(2027, 3, 23)
    assert survey_closes_on(moved) == date(2027, 8, 14)


def test_the_committee_digest_looks_a_week_ahead() -> None:
    now = datetime(2027, 1, 4, 12, tzinfo=UTC)
    assert due_soon_until(now) == now + timedelta(days=7)


def test_a_rule_on_a_missing_milestone_says_which() -> None:
    with pytest.raises(CalendarError, match="start_mentoring has no milestone date"):
        waiting_list_until(CycleCalendar("America/Chicago"))
