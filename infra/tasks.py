"""Follow-up tasks and deadlines in the database."""

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.followups import TaskSpec
from infra.outbox import insert_new
from infra.tables import TaskRow


def add(session: Session, specs: Iterable[TaskSpec], year: int, now: datetime) -> int:
    """Create tasks not created before (by key); returns how many are new."""
    rows = [
        {
            "key": t.key,
            "cycle_year": year,
            "audience": t.audience,
            "member_id": t.member_id,
            "title": t.title,
            "due_at": t.due_at,
            "created_at": now,
        }
        for t in specs
    ]
    return insert_new(session, TaskRow, rows)


def of_cycle(session: Session, year: int) -> Sequence[TaskRow]:
    return session.scalars(
        select(TaskRow).where(TaskRow.cycle_year == year).order_by(TaskRow.due_at, TaskRow.id)
    ).all()


def open_due_before(session: Session, moment: datetime) -> Sequence[TaskRow]:
    """Open tasks falling due before ``moment`` (overdue ones included), earliest first."""
    return session.scalars(
        select(TaskRow)
        .where(TaskRow.done_at.is_(None), TaskRow.due_at <= moment)
        .order_by(TaskRow.due_at, TaskRow.id)
    ).all()
