"""When the program's reminders fall due, and the dates its messages promise.

Every rule reads the cycle's calendar, so moving a milestone moves what depends on it:
the call's last-week reminder, the monthly check-ins and the midpoint check, the survey's
reminders and closing day, and how long an unpaired mentee stays on the waiting list.
"""

from collections.abc import Mapping
from datetime import date, datetime, timedelta

from domain.calendar import CycleCalendar
from domain.cycle_states import CycleEvent

DEADLINE_NOTICE = timedelta(days=7)
"""Core members who have not applied are reminded in the call's last week."""

MIDPOINT = timedelta(days=91)
"""The midpoint check goes out 13 weeks into mentoring."""

MIDPOINT_ANSWER_WITHIN = timedelta(days=14)
"""The midpoint check asks for an answer within two weeks of going out."""

SURVEY_REMINDERS: Mapping[str, timedelta] = {"14d": timedelta(days=14), "3d": timedelta(days=3)}
"""Reminders to answer the survey, named for how long before complete_assessment they go."""

SURVEY_CLOSES_BEFORE = timedelta(days=1)
"""The survey's last day is the day before complete_assessment."""

WAITING_LIST_FOR = timedelta(days=31)
"""A mentee left unpaired stays on the waiting list a month into mentoring."""

DUE_SOON = timedelta(days=7)
"""The committee's digest lists its tasks falling due within a week."""


def deadline_reminder_window(calendar: CycleCalendar) -> tuple[datetime, datetime]:
    """From a week before the call closes until it closes (the end excluded)."""
    closes = calendar.milestone(CycleEvent.close_applications)
    return closes - DEADLINE_NOTICE, closes


def deadline_reminder_due(calendar: CycleCalendar, now: datetime) -> bool:
    starts, closes = deadline_reminder_window(calendar)
    return starts <= now < closes


def checkin_month_due(calendar: CycleCalendar, now: datetime) -> bool:
    """Monthly check-ins go out in every month but the one mentoring starts in (local)."""
    begins = calendar.milestone(CycleEvent.start_mentoring)
    local = now.astimezone(calendar.tz)
    return (local.year, local.month) != (begins.year, begins.month)


def midpoint(calendar: CycleCalendar) -> datetime:
    return calendar.milestone(CycleEvent.start_mentoring) + MIDPOINT


def midpoint_due(calendar: CycleCalendar, now: datetime) -> bool:
    return now >= midpoint(calendar)


def midpoint_respond_by(calendar: CycleCalendar) -> date:
    return (midpoint(calendar) + MIDPOINT_ANSWER_WITHIN).date()


def survey_closes_on(calendar: CycleCalendar) -> date:
    """The survey's last day, as the invitation and its reminders say it."""
    return (calendar.milestone(CycleEvent.complete_assessment) - SURVEY_CLOSES_BEFORE).date()


def survey_reminders_due(calendar: CycleCalendar, now: datetime) -> list[str]:
    """The survey reminders whose time has come and whose survey is still open, earliest
    first; the last one names the reminder to send (each goes once, by its name)."""
    closes = calendar.milestone(CycleEvent.complete_assessment)
    return [label for label, before in SURVEY_REMINDERS.items() if closes - before <= now < closes]


def waiting_list_until(calendar: CycleCalendar) -> date:
    """Until when an unpaired mentee may still be paired from the waiting list."""
    return calendar.milestone(CycleEvent.start_mentoring).date() + WAITING_LIST_FOR


def due_soon_until(now: datetime) -> datetime:
    """The committee's digest covers open tasks falling due before this moment."""
    return now + DUE_SOON
