"""Shared plumbing for the ``mentoring`` command line: output, errors, the shared argument
types, and how a moment typed by the committee is read.

Every command follows the same conventions: ``--json`` prints one JSON document on stdout
and nothing else; refusals are raised as domain errors and reach ``flows.cli.app.main``,
which prints one line and exits 1.
"""

import functools
import inspect
import json
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.console import Console

from domain.calendar import DEFAULT_TIMEZONE, zone
from domain.cycle_states import DESCRIPTIONS, FORWARD_EVENTS, CycleEvent
from flows.usecases import cycles as cycle_cases
from infra.uow import UnitOfWork

out = Console()
err = Console(stderr=True, soft_wrap=True)


def uow() -> UnitOfWork:
    """A unit of work on the database the settings name (``MENTORING_DATABASE_URL``)."""
    return UnitOfWork.from_settings()


def emit(data: Any, as_json: bool, human: Callable[[], None]) -> None:
    """``--json``: one JSON document on stdout and nothing else; otherwise ``human()``."""
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    else:
        human()


def cycle_zone(year: int) -> ZoneInfo:
    """The time zone of cycle ``year``: the committee's zone for that cycle."""
    return zone(cycle_cases.describe(uow(), year).timezone)


def default_zone() -> ZoneInfo:
    """The committee's default time zone, for commands that name no cycle."""
    return zone(DEFAULT_TIMEZONE)


def parse_when(text: str | None, naive_zone: Callable[[], ZoneInfo]) -> datetime | None:
    """An ISO datetime from the command line.

    One without an offset is read in ``naive_zone()`` (the cycle's zone, or the committee's
    default zone where no cycle is named), never in UTC or the machine's zone; the zone is
    looked up only when needed, after the text has been checked.
    """
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError as error:
        raise typer.BadParameter(f"{text!r} is not an ISO datetime (2026-10-01T07:00)") from error
    return value if value.tzinfo else value.replace(tzinfo=naive_zone())


JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document instead.")]
Year = Annotated[int, typer.Argument(help="The cycle's year: the year its call opens (August).")]
Actor = Annotated[str, typer.Option("--actor", help="Who does this (recorded in the audit log).")]
OptionalActor = Annotated[str, typer.Option("--actor", help="Who does this (default: you).")]
ImportActor = Annotated[str, typer.Option("--actor", help="Who imports (audited).")]
Reason = Annotated[str, typer.Option("--reason", help="Why (recorded in the audit log).")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Validate only; write nothing.")]
CsvFile = Annotated[
    Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="The CSV file.")
]


def print_rejected(rejected: list[dict[str, object]]) -> None:
    """The refused lines of an import, each with its line number and reason."""
    for r in rejected:
        out.print(f"[red]line {r['line']}[/red]: {r['reason']}", highlight=False, soft_wrap=True)


def with_milestone_options(func: Callable[..., None]) -> Callable[..., None]:
    """Add ``--open-call DATE`` … ``--complete-assessment DATE`` to a command.

    The command receives them gathered as ``milestones: dict[CycleEvent, str]``.
    """
    signature = inspect.signature(func)
    params = [p for p in signature.parameters.values() if p.name != "milestones"]
    for event in FORWARD_EVENTS:
        option = typer.Option(
            f"--{event.value.replace('_', '-')}",
            metavar="DATE",
            help=f"{DESCRIPTIONS[event]} Date (YYYY-MM-DD) or ISO datetime, in the cycle's "
            "time zone unless an offset is given.",
            rich_help_panel="Milestones",
        )
        params.append(
            inspect.Parameter(
                event.value,
                inspect.Parameter.KEYWORD_ONLY,
                default=None,
                annotation=Annotated[str | None, option],
            )
        )

    @functools.wraps(func)
    def wrapper(**kwargs: Any) -> None:
        milestones = {
            event: value
            for event in FORWARD_EVENTS
            if (value := kwargs.pop(event.value, None)) is not None
        }
        func(milestones=milestones, **kwargs)

    wrapper.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    del wrapper.__wrapped__
    return wrapper


def event_help() -> str:
    """The events in the committee's words, for ``cycle advance --help``."""
    return "\n\n".join(f"[bold]{e}[/bold]: {DESCRIPTIONS[e]}" for e in CycleEvent)
