"""Shared plumbing for the ``mentoring`` command line: output, errors, option helpers."""

import functools
import inspect
import json
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.console import Console

from domain.cycle_states import DESCRIPTIONS, FORWARD_EVENTS, CycleEvent

out = Console()
err = Console(stderr=True, soft_wrap=True)


def emit(data: Any, as_json: bool, human: Callable[[], None]) -> None:
    """``--json``: one JSON document on stdout and nothing else; otherwise ``human()``."""
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    else:
        human()


def parse_when(text: str | None) -> datetime | None:
    """An ISO datetime from the command line; a naive one is taken as UTC."""
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError as error:
        raise typer.BadParameter(f"{text!r} is not an ISO datetime (2026-10-01T07:00)") from error
    return value if value.tzinfo else value.replace(tzinfo=datetime.now().astimezone().tzinfo)


JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document instead.")]
Year = Annotated[int, typer.Argument(help="The cycle's year: the year its call opens (August).")]
Actor = Annotated[str, typer.Option("--actor", help="Who does this (recorded in the audit log).")]
OptionalActor = Annotated[str, typer.Option("--actor", help="Who does this (default: you).")]
ImportActor = Annotated[str, typer.Option("--actor", help="Who imports (audited).")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Validate only; write nothing.")]


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
            help=f"{DESCRIPTIONS[event]} Date (YYYY-MM-DD) or ISO datetime.",
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
