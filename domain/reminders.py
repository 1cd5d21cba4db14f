"""When the program's reminders fall due, and the dates its messages promise.

Every rule reads the cycle's calendar, so moving a milestone moves what depends on it:
the call's last-week reminder, the monthly check-ins and the midpoint check, the survey's
reminders and closing day, and how long an unpaired mentee stays on the waiting list.

Catching up is safe: a notice about a moment (a deadline, a session, a survey's close, an
answer's due day) goes only while that moment is still ahead, however late the milestone
that sends it fires; :func:`still_ahead` is that rule.
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


def still_ahead(moment: datetime, now: datetime) -> bool:
    """Whether a notice about ``moment`` is still worth sending at ``now``: only before it."""
    return now < moment


def call_closes(calendar: CycleCalendar) -> datetime:
    """When applications close: the call for applications and its reminder are about it."""
    return calendar.milestone(CycleEvent.close_applications)


def survey_closes(calendar: CycleCalendar) -> datetime:
    """When the survey stops taking answers: its invitation and reminders are about it."""
    return calendar.milestone(CycleEvent.complete_assessment)


def deadline_reminder_window(calendar: CycleCalendar) -> tuple[datetime, datetime]:
    """From a week before the call closes until it closes (the end excluded)."""
    closes = call_closes(calendar)
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
    """From the midpoint until its answer falls due: a check asking for an answer by a day
    already come is not sent (catching up after the tick missed those weeks)."""
    starts = midpoint(calendar)
    return starts <= now and still_ahead(starts + MIDPOINT_ANSWER_WITHIN, now)


def midpoint_respond_by(calendar: CycleCalendar) -> date:
    return (midpoint(calendar) + MIDPOINT_ANSWER_WITHIN).date()


def survey_closes_on(calendar: CycleCalendar) -> date:
    """The survey's last day, as the invitation and its reminders say it."""
    return (survey_closes(calendar) - SURVEY_CLOSES_BEFORE).date()


def survey_reminders_due(calendar: CycleCalendar, now: datetime) -> list[str]:
    """The survey reminders whose time has come and whose survey is still open, earliest
    first; the last one names the reminder to send (each goes once, by its name)."""
    closes = survey_closes(calendar)
    return [label for label, before in SURVEY_REMINDERS.items() if closes - before <= now < closes]


def waiting_list_until(calendar: CycleCalendar) -> date:
    """Until when an unpaired mentee may still be paired from the waiting list."""
    return calendar.milestone(CycleEvent.start_mentoring).date() + WAITING_LIST_FOR


def due_soon_until(now: datetime) -> datetime:
    """The committee's digest covers open tasks falling due before this moment."""
    return now + DUE_SOON
