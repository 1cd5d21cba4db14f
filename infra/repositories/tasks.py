"""Follow-up tasks and deadlines."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from domain.followups import TaskAudience, TaskSpec
from domain.tasks import Task
from infra.repositories.keyed_rows import insert_new
from infra.repositories.outbox import ones
from infra.seal_book import BY_NAME, SealBook
from infra.tables import ID_RANGE, TaskRow


@dataclass(frozen=True)
class TaskGroup:
    """The tasks for one audience falling due at one moment, counted at a moment."""

    audience: TaskAudience
    due_at: datetime
    title: str
    created: int
    done: int
    overdue: int


def _task(row: TaskRow) -> Task:
    return Task(
        row.id,
        row.key,
        row.cycle_year,
        TaskAudience(row.audience),
        row.member_id,
        row.title,
        row.due_at,
        row.created_at,
        row.done_at,
        row.done_by,
        row.reminded_at,
        row.overdue_flagged_at,
    )


TASKS = BY_NAME["tasks"]


class TaskRepository:
    """Create tasks once (by key), list them, mark them done or reminded."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, specs: Iterable[TaskSpec], year: int, now: datetime) -> int:
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
        return insert_new(self.session, TaskRow, rows)

    def get(self, task_id: int) -> Task | None:
        row = self.session.get(TaskRow, task_id) if task_id in ID_RANGE else None
        return _task(row) if row else None

    def of_cycle(self, year: int) -> list[Task]:
        return [
            _task(r)
            for r in self.session.scalars(
                select(TaskRow)
                .where(TaskRow.cycle_year == year)
                .order_by(TaskRow.due_at, TaskRow.id)
            )
        ]

    def open_of_cycle(self, year: int) -> list[Task]:
        return [
            _task(r)
            for r in self.session.scalars(
                select(TaskRow).where(TaskRow.cycle_year == year, TaskRow.done_at.is_(None))
            )
        ]

    def open_due_before(self, year: int, moment: datetime) -> list[Task]:
        """The cycle's open tasks falling due before ``moment`` (overdue ones included),
        earliest first."""
        return [
            _task(r)
            for r in self.session.scalars(
                select(TaskRow)
                .where(
                    TaskRow.cycle_year == year,
                    TaskRow.done_at.is_(None),
                    TaskRow.due_at <= moment,
                )
                .order_by(TaskRow.due_at, TaskRow.id)
            )
        ]

    def mark_done(self, task_ids: Sequence[int], by: str, now: datetime) -> None:
        if task_ids:
            self._sealing(task_ids)
            self.session.execute(
                update(TaskRow)
                .where(TaskRow.id.in_(task_ids))
                .values(done_at=now, done_by=by)
                .execution_options(synchronize_session=False)
            )
            self._forget(task_ids)

    def mark_reminded(self, task_ids: Sequence[int], now: datetime) -> None:
        """The committee was told these are coming due."""
        self._stamp(task_ids, reminded_at=now)

    def mark_overdue_flagged(self, task_ids: Sequence[int], now: datetime) -> None:
        """The committee was told these are overdue."""
        self._stamp(task_ids, overdue_flagged_at=now)

    def counts_by_due_date(
        self, year: int, at: datetime, as_of: datetime | None = None
    ) -> list[TaskGroup]:
        """Created, done and overdue tasks at ``at``, grouped by audience and due date."""
        done = (
            and_(TaskRow.done_at.is_not(None), TaskRow.done_at <= at)
            if as_of is not None
            else TaskRow.done_at.is_not(None)
        )
        not_done = (
            or_(TaskRow.done_at.is_(None), TaskRow.done_at > at)
            if as_of is not None
            else TaskRow.done_at.is_(None)
        )
        query = (
            select(
                TaskRow.audience,
                TaskRow.due_at,
                func.min(TaskRow.title),
                func.count(),
                func.sum(ones(done)),
                func.sum(ones(and_(not_done, TaskRow.due_at < at))),
            )
            .where(TaskRow.cycle_year == year)
            .group_by(TaskRow.audience, TaskRow.due_at)
            .order_by(TaskRow.due_at, TaskRow.audience)
        )
        if as_of is not None:
            query = query.where(TaskRow.created_at <= as_of)
        return [
            TaskGroup(
                TaskAudience(audience),
                due_at,
                title,
                int(created),
                int(n_done or 0),
                int(overdue or 0),
            )
            for audience, due_at, title, created, n_done, overdue in self.session.execute(
                query
            ).all()
        ]

    def _stamp(self, task_ids: Sequence[int], **values: datetime) -> None:
        if task_ids:
            self._sealing(task_ids)
            self.session.execute(
                update(TaskRow)
                .where(TaskRow.id.in_(task_ids))
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            self._forget(task_ids)

    def _sealing(self, task_ids: Sequence[int]) -> None:
        """Check these tasks against their seals, and have them sealed after the update."""
        self.session.flush()
        keys = [
            (k,) for k in self.session.scalars(select(TaskRow.key).where(TaskRow.id.in_(task_ids)))
        ]
        book = SealBook.of(self.session)
        book.check(self.session, TASKS, keys)
        book.note(TASKS, keys)

    def _forget(self, task_ids: Sequence[int]) -> None:
        """Loaded rows of these tasks are stale now: let the next read see the update."""
        for row in list(self.session.identity_map.values()):
            if isinstance(row, TaskRow) and row.id in task_ids:
                self.session.expire(row)
