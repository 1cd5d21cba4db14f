"""What the daily tick queues besides transitions: reminders, the midpoint check, and
the committee's digest of tasks coming due or overdue. Every message is keyed by its
period, so ticking twice on a day (or catching up a missed week) queues each once."""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.cycle import Cycle
from domain.cycle_states import CycleEvent, CycleState
from domain.notifications import MessageKind, OutgoingMessage
from flows.usecases.effects import Mailer, pair_list, roles_by_member
from infra import outbox, tasks
from infra.tables import ApplicationRow, AssessmentResponseRow, TaskRow

K = MessageKind
DEADLINE_NOTICE = timedelta(days=7)
MIDPOINT = timedelta(days=91)
SURVEY_REMINDERS = {"14d": timedelta(days=14), "3d": timedelta(days=3)}
DUE_SOON = timedelta(days=7)


def queue_reminders(session: Session, cycle: Cycle, now: datetime) -> int:
    """Queue whatever reminders are due for ``cycle`` at ``now``; returns how many are new."""
    mailer = Mailer(session, cycle)
    messages: list[OutgoingMessage | None] = []
    if cycle.state is CycleState.call_open:
        messages += _deadline_reminders(mailer, now)
    if cycle.state is CycleState.active:
        messages += _checkins(mailer, now)
    if cycle.state is CycleState.ended:
        messages += _survey_reminders(mailer, now)
    messages += _committee_digest(mailer, now)
    return outbox.enqueue(session, [m for m in messages if m is not None], now)


def _deadline_reminders(mailer: Mailer, now: datetime) -> list[OutgoingMessage | None]:
    closes = mailer.cycle.calendar.due_at(CycleEvent.close_applications)
    assert closes is not None
    if not closes - DEADLINE_NOTICE <= now < closes:
        return []
    context: dict[str, Any] = {"apply_url": mailer.program.apply_url, "deadline": closes.date()}
    applied = set(
        mailer.session.scalars(
            select(ApplicationRow.member_id).where(ApplicationRow.cycle_year == mailer.cycle.year)
        )
    )
    return mailer.to_core_members(
        K.application_deadline_reminder, "final-week", on=now.date(), excluding=applied, **context
    )


def _checkins(mailer: Mailer, now: datetime) -> list[OutgoingMessage | None]:
    begins = mailer.cycle.calendar.due_at(CycleEvent.start_mentoring)
    assert begins is not None
    local = now.astimezone(mailer.cycle.calendar.tz)
    out: list[OutgoingMessage | None] = []
    pairs = pair_list(mailer.session, mailer.cycle.year)
    monthly = (local.year, local.month) != (begins.year, begins.month)
    midpoint = now >= begins + MIDPOINT
    for mentor, mentee in pairs:
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
                        respond_by=(begins + MIDPOINT + timedelta(days=14)).date(),
                    )
                )
    return out


def _survey_reminders(mailer: Mailer, now: datetime) -> list[OutgoingMessage | None]:
    closes = mailer.cycle.calendar.due_at(CycleEvent.complete_assessment)
    assert closes is not None
    due = [label for label, before in SURVEY_REMINDERS.items() if closes - before <= now < closes]
    if not due:
        return []
    answered = set(
        mailer.session.scalars(
            select(AssessmentResponseRow.member_id).where(
                AssessmentResponseRow.cycle_year == mailer.cycle.year
            )
        )
    )
    participants = roles_by_member(pair_list(mailer.session, mailer.cycle.year))
    return [
        mailer.to_member(
            K.assessment_reminder,
            m,
            due[-1],
            survey_url=mailer.program.survey_url,
            closes_on=(closes - timedelta(days=1)).date(),
        )
        for m in sorted(participants)
        if m not in answered
    ]


def _committee_digest(mailer: Mailer, now: datetime) -> list[OutgoingMessage | None]:
    """One notice listing committee tasks due within a week, one listing newly overdue tasks."""
    year = mailer.cycle.year
    upcoming = [
        t for t in tasks.open_due_before(mailer.session, now + DUE_SOON) if t.cycle_year == year
    ]
    soon = [
        t
        for t in upcoming
        if t.due_at >= now and t.audience == "committee" and t.reminded_at is None
    ]
    overdue = [t for t in upcoming if t.due_at < now and t.overdue_flagged_at is None]
    out: list[OutgoingMessage | None] = []
    for notice, batch, stamp in (
        ("tasks_due", soon, "reminded_at"),
        ("tasks_overdue", overdue, "overdue_flagged_at"),
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
        for task in batch:
            setattr(task, stamp, now)
    return out


def _line(task: TaskRow) -> str:
    who = f" ({task.member_id})" if task.member_id else ""
    return f"{task.title}{who}, due {task.due_at:%Y-%m-%d}"
