"""``mentoring notifications``: deliver the queued mail, list what was sent or failed."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from flows.cli.support import JsonOption, PlainTable, YearOption, emit, err, out, uow
from flows.signals import stop_on_signals
from flows.usecases import notifications as notification_cases

notifications_app = typer.Typer(
    help="Mail to participants and the committee.", no_args_is_help=True
)


@notifications_app.command("deliver")
def notifications_deliver(as_json: JsonOption = False) -> None:
    """Send every queued message; safe to run again, and beside another delivery.

    SMTP from MENTORING_SMTP_*, or .eml files in the mail folder when no server is set.
    Each message is claimed before it is sent, so two deliveries at once never send the
    same one. Exits 1 when the server could not be used, naming it and why; Ctrl-C lets
    the messages in flight finish and leaves the rest for the next run."""
    with stop_on_signals(pass_on=False) as stop, _progress_bar(shown=not as_json) as progress:
        counts = notification_cases.deliver(uow(), progress=progress, stop=stop)
    emit(
        counts.as_dict(),
        as_json,
        lambda: out.print(
            f"sent {counts.sent}, failed {counts.failed}, still pending {counts.pending}"
            + (" (see `mentoring notifications list --failed`)" if counts.failed else "")
        ),
    )
    if counts.blocked:
        err.print(f"error: {counts.blocked}; the messages not sent stay queued")
        raise typer.Exit(1)
    if counts.halted and not stop.is_set():
        err.print(f"note: {counts.halted}; the messages not sent stay queued for the next run")
    if stop.is_set():
        err.print("stopped: the messages not sent stay queued for the next delivery")
        raise typer.Exit(130)


@contextmanager
def _progress_bar(*, shown: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr while the block runs, gone after it; with ``--json``
    none at all, nor its module loaded, so a delivery run by a script starts sooner."""
    if not shown:
        yield None
        return
    from rich.progress import MofNCompleteColumn, Progress

    with Progress(
        *Progress.get_default_columns(), MofNCompleteColumn(), console=err, transient=True
    ) as bar:
        job = bar.add_task("delivering", total=None)
        yield lambda done, total: bar.update(job, completed=done, total=total)


@notifications_app.command("list")
def notifications_list(
    year: YearOption = None,
    failed: Annotated[bool, typer.Option("--failed", help="Only messages that failed.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Queued, sent and failed messages, with the server's answer for failures."""
    rows = notification_cases.list_messages(uow(), year=year, failed_only=failed)

    def human() -> None:
        table = PlainTable("id", "kind", "to", "status", "server's answer")
        for r in rows:
            table.add_row(str(r.id), r.kind, r.to_address, r.status, r.last_error or "")
        out.print(table)

    emit({"messages": [r.as_dict() for r in rows]}, as_json, human)
