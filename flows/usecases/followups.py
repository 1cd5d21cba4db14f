"""Tasks and deadlines: listing them, marking them done."""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.errors import CycleNotFound, DomainError
from domain.followups import TaskAudience
from domain.tasks import Task
from domain.values import actor_name
from flows.usecases.clock import utcnow
from infra.uow import UnitOfWork


@dataclass(frozen=True)
class TaskView:
    """One task as the committee's task list shows it, overdue or not at a moment."""

    id: int
    key: str
    audience: TaskAudience
    member_id: str | None
    title: str
    due_at: datetime
    done_at: datetime | None
    done_by: str | None
    overdue: bool

    @classmethod
    def of(cls, task: Task, now: datetime) -> "TaskView":
        return cls(
            task.id,
            task.key,
            task.audience,
            task.member_id,
            task.title,
            task.due_at,
            task.done_at,
            task.done_by,
            task.is_overdue(now),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "key": self.key,
            "audience": str(self.audience),
            "member_id": self.member_id,
            "title": self.title,
            "due_at": self.due_at.isoformat(),
            "done_at": self.done_at.isoformat() if self.done_at else None,
            "done_by": self.done_by,
            "overdue": self.overdue,
        }


def list_tasks(
    uow: UnitOfWork, year: int, *, overdue_only: bool = False, now: datetime | None = None
) -> list[TaskView]:
    """The cycle's tasks by due date (only the overdue ones, if asked)."""
    now = now or utcnow()
    with uow:
        if not uow.cycles.exists(year):
            raise CycleNotFound.for_year(year)
        views = [TaskView.of(t, now) for t in uow.tasks.of_cycle(year)]
    return [v for v in views if v.overdue] if overdue_only else views


def mark_done(uow: UnitOfWork, task_id: int, *, actor: str, now: datetime | None = None) -> str:
    """Mark a task done (audited); doing it twice says so and changes nothing."""
    now = now or utcnow()
    actor = actor_name(actor)
    with uow:
        task = uow.tasks.get(task_id)
        if task is None:
            raise DomainError(f"there is no task {task_id}; the cycle's task list gives the ids")
        if task.done_at is not None:
            return f"task {task_id} was already done by {task.done_by}"
        uow.tasks.mark_done([task_id], actor, now)
        uow.audit.append(
            kind="task_done",
            cycle_year=task.cycle_year,
            at=now,
            actor=actor,
            fields={"task": task.key, "title": task.title},
        )
        uow.commit()
        return f"task {task_id} done: {task.title}"


def close_tasks(
    uow: UnitOfWork,
    year: int,
    keys: Collection[str],
    *,
    actor: str,
    done_by: str,
    because: str,
    now: datetime,
) -> list[Task]:
    """Mark done the cycle's open tasks among ``keys``, the work they asked for being done
    (``because`` says which), each audited as a task marked done is; returns them.
    Called inside that work's unit of work, so both commit together."""
    wanted = set(keys)
    done = sorted(
        (t for t in uow.tasks.open_of_cycle(year) if t.key in wanted), key=lambda t: t.key
    )
    uow.tasks.mark_done([t.id for t in done], done_by, now)
    for task in done:
        uow.audit.append(
            kind="task_done",
            cycle_year=year,
            at=now,
            actor=actor,
            fields={"task": task.key, "title": task.title, "by": because},
        )
    return done
