"""A follow-up task or deadline as the program keeps it."""

from dataclasses import dataclass
from datetime import datetime

from domain.followups import TaskAudience


@dataclass(frozen=True)
class Task:
    """Who a task is for, when it falls due, and whether (and by whom) it was done."""

    id: int
    key: str
    cycle_year: int
    audience: TaskAudience
    member_id: str | None
    title: str
    due_at: datetime
    created_at: datetime
    done_at: datetime | None = None
    done_by: str | None = None
    reminded_at: datetime | None = None
    overdue_flagged_at: datetime | None = None

    def is_overdue(self, now: datetime) -> bool:
        return self.done_at is None and self.due_at < now
