"""``mentoring tasks``: the cycle's deadlines and follow-up tasks."""

from typing import Annotated

import typer
from rich.text import Text

from flows.cli.support import Actor, JsonOption, PlainTable, Year, emit, out, say, uow
from flows.usecases import followups as followup_cases

tasks_app = typer.Typer(help="Deadlines and follow-up tasks.", no_args_is_help=True)


@tasks_app.command("list")
def tasks_list(
    year: Year,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only overdue tasks.")] = False,
    as_json: JsonOption = False,
) -> None:
    """The cycle's deadlines and follow-up tasks, for the committee and participants."""
    rows = followup_cases.list_tasks(uow(), year, overdue_only=overdue)

    def human() -> None:
        table = PlainTable("id", "due", "for", "task", "status")
        for r in rows:
            status = (
                Text(f"done ({r.done_by})")
                if r.done_at
                else (Text("overdue", style="red") if r.overdue else Text("open"))
            )
            who = r.audience + (f" {r.member_id}" if r.member_id else "")
            table.add_row(str(r.id), r.due_at.isoformat()[:10], who, r.title, status)
        out.print(table)

    emit({"tasks": [r.as_dict() for r in rows]}, as_json, human)


@tasks_app.command("done")
def tasks_done(
    task_id: Annotated[int, typer.Argument(help="The task's id (from `tasks list`).")],
    actor: Actor,
) -> None:
    """Mark a task done."""
    say(followup_cases.mark_done(uow(), task_id, actor=actor))
