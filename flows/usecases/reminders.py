"""What the daily tick queues besides transitions: reminders, the midpoint check, and
the committee's digest of tasks coming due or overdue. Every message is keyed by its
period, so ticking twice on a day (or catching up a missed week) queues each once."""

from datetime import datetime
from typing import Any

from domain.cycle import Cycle
from domain.cycle_states import CycleEvent, CycleState
from domain.followups import TaskAudience
from domain.notifications import MessageKind, OutgoingMessage
from domain.reminders import (
    checkin_month_due,
    deadline_reminder_due,
    due_soon_until,
    midpoint_due,
    midpoint_respond_by,
    survey_closes_on,
    survey_reminders_due,
)
from domain.tasks import Task
from flows.usecases.effects import Mailer, pair_list, roles_by_member
from infra.uow import UnitOfWork

K = MessageKind


def queue_reminders(uow: UnitOfWork, cycle: Cycle, now: datetime) -> int:
    """Queue whatever reminders are due for ``cycle`` at ``now``; returns how many are new.

    ``uow`` must already be entered; the caller commits.
    """
    mailer = Mailer(uow, cycle)
    messages: list[OutgoingMessage | None] = []
    if cycle.state is CycleState.call_open:
        messages += _deadline_reminders(mailer, now)
    if cycle.state is CycleState.active:
        messages += _checkins(mailer, now)
    if cycle.state is CycleState.ended:
        messages += _survey_reminders(mailer, now)
    messages += _committee_digest(mailer, now)
    return uow.outbox.enqueue([m for m in messages if m is not None], now)


def _deadline_reminders(mailer: Mailer, now: datetime) -> list[OutgoingMessage | None]:
    """In the call's last week, to the Core members who have not applied yet."""
    if not deadline_reminder_due(mailer.cycle.calendar, now):
        return []
    context: dict[str, Any] = {
        "apply_url": mailer.program.apply_url,
        "deadline": mailer.date(CycleEvent.close_applications),
    }
    applied = mailer.uow.applications.member_ids(mailer.cycle.year)
    return mailer.to_core_members(
        K.application_deadline_reminder, "final-week", on=now.date(), excluding=applied, **context
    )


def _checkins(mailer: Mailer, now: datetime) -> list[OutgoingMessage | None]:
    """The month's check-in and, once it is due, the midpoint check, to both partners."""
    calendar = mailer.cycle.calendar
    local = now.astimezone(calendar.tz)
    monthly = checkin_month_due(calendar, now)
    midpoint = midpoint_due(calendar, now)
    out: list[OutgoingMessage | None] = []
    for mentor, mentee in pair_list(mailer.uow, mailer.cycle.year):
        for me, partner in ((mentor, mentee), (mentee, mentor)):
            name = mailer.name(partner)
            if monthly:
                out.append(
                    mailer.to_member(
                        K.checkin_reminder,
                        me,
                        f"{local:%Y-%m}-{partner}",
                        partner_name=name,
                        period=f"{local:%B %Y}",
                        checkin_url=mailer.program.checkin_url,
                    )
                )
            if midpoint:
                out.append(
                    mailer.to_member(
                        K.midpoint_check,
                        me,
                        f"midpoint-{partner}",
                        partner_name=name,
                        checkin_url=mailer.program.checkin_url,
                        respond_by=midpoint_respond_by(calendar),
                    )
                )
    return out


def _survey_reminders(mailer: Mailer, now: datetime) -> list[OutgoingMessage | None]:
    """The latest survey reminder due, to each participant who has not answered."""
    due = survey_reminders_due(mailer.cycle.calendar, now)
    if not due:
        return []
    year = mailer.cycle.year
    answered = mailer.uow.responses.respondents(year)
    participants = roles_by_member(pair_list(mailer.uow, year))
    return [
        mailer.to_member(
            K.assessment_reminder,
            m,
            due[-1],
            survey_url=mailer.program.survey_url,
            closes_on=survey_closes_on(mailer.cycle.calendar),
        )
        for m in sorted(participants)
        if m not in answered
    ]


def _committee_digest(mailer: Mailer, now: datetime) -> list[OutgoingMessage | None]:
    """One notice listing committee tasks due within a week, one listing newly overdue tasks;
    each task is stamped so it is listed once."""
    tasks = mailer.uow.tasks
    upcoming = tasks.open_due_before(mailer.cycle.year, due_soon_until(now))
    soon = [
        t
        for t in upcoming
        if t.due_at >= now and t.audience is TaskAudience.committee and t.reminded_at is None
    ]
    overdue = [t for t in upcoming if t.due_at < now and t.overdue_flagged_at is None]
    out: list[OutgoingMessage | None] = []
    for notice, batch, stamp in (
        ("tasks_due", soon, tasks.mark_reminded),
        ("tasks_overdue", overdue, tasks.mark_overdue_flagged),
    ):
        if not batch:
            continue
        out.append(
            mailer.to_address(
                K.committee_notice,
                "committee",
                mailer.program.committee_email,
                "Mentoring committee",
                f"{notice}-{now:%Y-%m-%d}",
                notice=notice,
                items=[_line(t) for t in batch],
            )
        )
        stamp([t.id for t in batch], now)
    return out


def _line(task: Task) -> str:
    who = f" ({task.member_id})" if task.member_id else ""
    return f"{task.title}{who}, due {task.due_at:%Y-%m-%d}"
