"""The deadlines and follow-up tasks each transition sets in motion, with their due dates."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.calendar import CycleCalendar
from domain.cycle_states import CycleEvent

COMMITTEE = "committee"
PARTICIPANT = "participant"


@dataclass(frozen=True)
class TaskSpec:
    """A task to create; ``key`` makes creating it twice a no-op."""

    key: str
    audience: str
    title: str
    due_at: datetime
    member_id: str | None = None


def _due(calendar: CycleCalendar, event: CycleEvent) -> datetime:
    at = calendar.due_at(event)
    assert at is not None, f"{event} has no milestone"
    return at


def month_ends(start: datetime, end: datetime) -> list[datetime]:
    """The last moment of each calendar month that begins on or after ``start`` and ends
    by ``end`` (the monthly check-ins of the mentoring months)."""
    out: list[datetime] = []
    month = start.replace(day=1, hour=23, minute=59, second=59, microsecond=0)
    while True:
        month = (month + timedelta(days=32)).replace(day=1)
        last = month - timedelta(days=1)
        if last > end:
            return out
        out.append(last)


def tasks_for(
    event: CycleEvent,
    year: int,
    calendar: CycleCalendar,
    pairs: Sequence[tuple[str, str]] = (),
    participants: Sequence[str] = (),
) -> list[TaskSpec]:
    """Tasks created when ``event`` fires: the committee's next job, the participants'."""
    k = f"{year}/{event}"
    if event is CycleEvent.open_call:
        return [
            TaskSpec(
                f"{k}/review",
                COMMITTEE,
                "Review applications as they arrive",
                _due(calendar, CycleEvent.close_applications) + timedelta(days=7),
            )
        ]
    if event is CycleEvent.close_applications:
        return [
            TaskSpec(
                f"{k}/approve",
                COMMITTEE,
                "Approve the pairing set",
                _due(calendar, CycleEvent.announce_pairings),
            )
        ]
    if event is CycleEvent.announce_pairings:
        return [
            TaskSpec(
                f"{k}/orientation",
                COMMITTEE,
                "Hold the training/orientation session",
                _due(calendar, CycleEvent.start_orientation) + timedelta(days=7),
            )
        ]
    if event is CycleEvent.start_mentoring:
        return _mentoring_tasks(k, calendar, pairs)
    if event is CycleEvent.end_mentoring:
        closes = _due(calendar, CycleEvent.complete_assessment)
        return [TaskSpec(f"{k}/compile", COMMITTEE, "Compile the program assessment", closes)] + [
            TaskSpec(
                f"{k}/survey/{m}", PARTICIPANT, "Answer the program assessment survey", closes, m
            )
            for m in sorted(set(participants))
        ]
    return []


def _mentoring_tasks(
    k: str, calendar: CycleCalendar, pairs: Sequence[tuple[str, str]]
) -> list[TaskSpec]:
    begins, ends = (
        _due(calendar, CycleEvent.start_mentoring),
        _due(calendar, CycleEvent.end_mentoring),
    )
    tasks = []
    for mentor, mentee in pairs:
        tasks.append(
            TaskSpec(
                f"{k}/first-meeting/{mentor}/{mentee}",
                PARTICIPANT,
                f"First meeting of {mentor} and {mentee}",
                begins + timedelta(days=14),
                mentee,
            )
        )
        tasks.extend(
            TaskSpec(
                f"{k}/check-in/{end:%Y-%m}/{mentor}/{mentee}",
                PARTICIPANT,
                f"{end:%B %Y} check-in of {mentor} and {mentee}",
                end,
                mentee,
            )
            for end in month_ends(begins, ends)
        )
    return tasks
