"""The deadlines and follow-up tasks each transition sets in motion, with their due dates."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from domain.calendar import CycleCalendar
from domain.cycle_states import CycleEvent, CycleState

FIRST_MEETING_WITHIN = timedelta(days=14)
"""A new pair meets within two weeks: of mentoring's start, or of a re-pairing's approval."""

HELD_NOTICE_ANSWER_WITHIN = timedelta(days=2)
"""Invitations held back for a session already begun need the committee's answer soon."""


class TaskAudience(StrEnum):
    """Whose task it is; the values are what the task list stores."""

    committee = "committee"
    participant = "participant"


COMMITTEE = TaskAudience.committee
PARTICIPANT = TaskAudience.participant


@dataclass(frozen=True)
class TaskSpec:
    """A task to create; ``key`` makes creating it twice a no-op."""

    key: str
    audience: TaskAudience
    title: str
    due_at: datetime
    member_id: str | None = None


def survey_task_key(year: int, member_id: str) -> str:
    """The participant's "answer the survey" task, closed when their answer is imported."""
    return f"{year}/{CycleEvent.end_mentoring}/survey/{member_id}"


def orientation_held_key(year: int) -> str:
    """The committee's task to answer for orientation invitations not sent."""
    return f"{year}/{CycleEvent.start_orientation}/invitations-not-sent"


def orientation_held_task(year: int, title: str, now: datetime) -> TaskSpec:
    """Ask the committee to set a new session (which sends the invitations and closes the
    task) or to confirm that none go (by marking it done)."""
    return TaskSpec(orientation_held_key(year), COMMITTEE, title, now + HELD_NOTICE_ANSWER_WITHIN)


def first_meeting_due(since: datetime) -> datetime:
    """When a pair formed at ``since`` should have met for the first time."""
    return since + FIRST_MEETING_WITHIN


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
                calendar.milestone(CycleEvent.close_applications) + timedelta(days=7),
            )
        ]
    if event is CycleEvent.close_applications:
        return [
            TaskSpec(
                f"{k}/approve",
                COMMITTEE,
                "Approve the pairing set",
                calendar.milestone(CycleEvent.announce_pairings),
            )
        ]
    if event is CycleEvent.announce_pairings:
        return [
            TaskSpec(
                f"{k}/orientation",
                COMMITTEE,
                "Hold the training/orientation session",
                calendar.milestone(CycleEvent.start_orientation) + timedelta(days=7),
            )
        ]
    if event is CycleEvent.start_mentoring:
        return _mentoring_tasks(k, calendar, pairs)
    if event is CycleEvent.end_mentoring:
        closes = calendar.milestone(CycleEvent.complete_assessment)
        return [TaskSpec(f"{k}/compile", COMMITTEE, "Compile the program assessment", closes)] + [
            TaskSpec(
                survey_task_key(year, m),
                PARTICIPANT,
                "Answer the program assessment survey",
                closes,
                m,
            )
            for m in sorted(set(participants))
        ]
    return []


def _mentoring_tasks(
    k: str, calendar: CycleCalendar, pairs: Sequence[tuple[str, str]]
) -> list[TaskSpec]:
    begins, ends = (
        calendar.milestone(CycleEvent.start_mentoring),
        calendar.milestone(CycleEvent.end_mentoring),
    )
    tasks = []
    for mentor, mentee in pairs:
        tasks.append(
            TaskSpec(
                f"{k}/first-meeting/{mentor}/{mentee}",
                PARTICIPANT,
                f"First meeting of {mentor} and {mentee}",
                first_meeting_due(begins),
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


def repaired_pair_tasks(
    year: int,
    calendar: CycleCalendar,
    state: CycleState,
    mentor_id: str,
    mentee_id: str,
    now: datetime,
) -> list[TaskSpec]:
    """Once mentoring has begun, a re-paired pair gets the check-ins still ahead and a first
    meeting within two weeks of the approval; before that, mentoring's start brings them."""
    if state is not CycleState.active:
        return []
    ahead = [
        spec
        for spec in _mentoring_tasks(
            f"{year}/{CycleEvent.start_mentoring}", calendar, [(mentor_id, mentee_id)]
        )
        if "/first-meeting/" not in spec.key and spec.due_at > now
    ]
    return [
        *ahead,
        TaskSpec(
            f"{year}/repairing/first-meeting/{mentor_id}/{mentee_id}",
            PARTICIPANT,
            f"First meeting of {mentor_id} and {mentee_id}",
            first_meeting_due(now),
            mentee_id,
        ),
    ]
