"""Tasks and deadlines: listing them, marking them done."""

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from domain.errors import DomainError
from flows.usecases.clock import utcnow
from infra import audit_log, cycles, tasks
from infra.tables import TaskRow
from infra.uow import UnitOfWork


def task_view(row: TaskRow, now: datetime) -> dict[str, Any]:
    return {
        "id": row.id,
        "key": row.key,
        "audience": row.audience,
        "member_id": row.member_id,
        "title": row.title,
        "due_at": row.due_at.isoformat(),
        "done_at": row.done_at.isoformat() if row.done_at else None,
        "done_by": row.done_by,
        "overdue": row.done_at is None and row.due_at < now,
    }


def list_tasks(
    uow: UnitOfWork, year: int, *, overdue_only: bool = False, now: datetime | None = None
) -> list[dict[str, Any]]:
    now = now or utcnow()
    with uow:
        cycles.load_row(uow.session, year)
        views = [task_view(t, now) for t in tasks.of_cycle(uow.session, year)]
    return [v for v in views if v["overdue"]] if overdue_only else views


def mark_done(uow: UnitOfWork, task_id: int, *, actor: str, now: datetime | None = None) -> str:
    """Mark a task done (audited); doing it twice says so and changes nothing."""
    now = now or utcnow()
    with uow:
        row = _task(uow.session, task_id)
        if row.done_at is not None:
            return f"task {task_id} was already done by {row.done_by}"
        row.done_at, row.done_by = now, actor
        audit_log.append(
            uow.session,
            kind="task_done",
            cycle_year=row.cycle_year,
            at=now,
            actor=actor,
            fields={"task": row.key, "title": row.title},
            touched=("tasks",),
        )
        uow.commit()
        return f"task {task_id} done: {row.title}"


def _task(session: Session, task_id: int) -> TaskRow:
    row = session.get(TaskRow, task_id)
    if row is None:
        raise DomainError(f"there is no task {task_id}; see `mentoring tasks list YEAR`")
    return row
