"""Shared plumbing for the ``mentoring`` command line: output, errors, the shared argument
types, and how a moment typed by the committee is read.

Every command follows the same conventions: ``--json`` prints one JSON document on stdout
and nothing else; refusals are raised as domain errors and reach ``flows.cli.app.main``,
which prints one line and exits 1. Human output stays short whatever the input's size: long
lists show a few items and a count, ``--json`` has them all.
"""

import functools
import inspect
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.console import Console, RenderableType
from rich.markup import escape
from rich.style import StyleType
from rich.table import Table
from rich.text import Text

from domain.calendar import DEFAULT_TIMEZONE, zone
from domain.cycle_states import DESCRIPTIONS, FORWARD_EVENTS, CycleEvent
from domain.values import InvalidValue, cycle_year

if TYPE_CHECKING:
    from infra.uow import UnitOfWork

# No emoji codes: a stored ":warning:" is shown as typed, as --json has it.
out = Console(emoji=False)
err = Console(stderr=True, soft_wrap=True, emoji=False)


def uow() -> "UnitOfWork":
    """A unit of work on the database the settings name (``MENTORING_DATABASE_URL``)."""
    from infra.uow import UnitOfWork  # loaded by the commands that open the database

    return UnitOfWork.from_settings()


def say(text: str) -> None:
    """Print ``text`` as it is: a stored value that looks like Rich markup (``[/x]``) is
    shown, not read as a tag (which would stop the command with a traceback)."""
    out.print(text, markup=False, highlight=False, soft_wrap=True)


class PlainTable(Table):
    """A table whose text cells are shown as they are, like :func:`say`."""

    def add_row(
        self,
        *renderables: RenderableType | None,
        style: StyleType | None = None,
        end_section: bool = False,
    ) -> None:
        cells = [Text(cell) if isinstance(cell, str) else cell for cell in renderables]
        super().add_row(*cells, style=style, end_section=end_section)


def emit(data: Any, as_json: bool, human: Callable[[], None]) -> None:
    """``--json``: one JSON document on stdout and nothing else; otherwise ``human()``."""
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    else:
        human()


def cycle_zone(year: int) -> ZoneInfo:
    """The time zone of cycle ``year``: the committee's zone for that cycle."""
    from flows.usecases import cycles as cycle_cases  # only the commands that read times

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


def checked_year(year: int) -> int:
    """A cycle year from the command line, in the program's range (a usage error if not)."""
    try:
        return cycle_year(year)
    except InvalidValue as refusal:
        raise typer.BadParameter(str(refusal)) from None


def _checked_year_if_given(year: int | None) -> int | None:
    return None if year is None else checked_year(year)


JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document instead.")]
Year = Annotated[
    int,
    typer.Argument(
        help="The cycle's year: the year its call opens (August).", callback=checked_year
    ),
]
YearOption = Annotated[
    int | None, typer.Option("--year", help="Only this cycle.", callback=_checked_year_if_given)
]
Actor = Annotated[str, typer.Option("--actor", help="Who does this (recorded in the audit log).")]
OptionalActor = Annotated[str, typer.Option("--actor", help="Who does this (default: you).")]
ImportActor = Annotated[str, typer.Option("--actor", help="Who imports (audited).")]
Reason = Annotated[str, typer.Option("--reason", help="Why (recorded in the audit log).")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Validate only; write nothing.")]
CsvFile = Annotated[
    Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="The CSV file.")
]


SHOWN_LINES = 10
SHOWN_NAMES = 5
ALL_IN_JSON = "--json lists them all"


def print_lines(
    entries: Sequence[Mapping[str, object]], text: str = "reason", style: str = "red"
) -> None:
    """An import's refused lines (or warnings), each with its line number and ``text``:
    the first few, then how many more."""
    for entry in entries[:SHOWN_LINES]:
        out.print(
            f"[{style}]line {entry['line']}[/{style}]: {escape(str(entry[text]))}",
            highlight=False,
            soft_wrap=True,
        )
    if len(entries) > SHOWN_LINES:
        out.print(f"… and {len(entries) - SHOWN_LINES:,} more; {ALL_IN_JSON}", highlight=False)


def print_rejected(rejected: Sequence[Mapping[str, object]]) -> None:
    """The refused lines of an import, each with its line number and reason (a few)."""
    print_lines(rejected)


def few(names: Sequence[str]) -> str:
    """The first few of ``names`` and how many more, for one line of human output."""
    shown = ", ".join(names[:SHOWN_NAMES])
    hidden = len(names) - SHOWN_NAMES
    return f"{shown} … and {hidden:,} more; {ALL_IN_JSON}" if hidden > 0 else shown


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
