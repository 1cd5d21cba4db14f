"""``mentoring``: the committee's command line (SPEC's contract), assembled from one
module per sub-app; ``main`` turns refusals and usage errors into one line on stderr (and
one JSON document on stdout with ``--json``).

Exit codes: 0 done or already done, 1 refused by the program's rules (one line on
stderr, never a traceback), 2 usage.
"""

import sys
from collections.abc import Callable
from importlib import import_module
from typing import NoReturn

import typer
from sqlalchemy.exc import OperationalError, ProgrammingError
from typer._click.exceptions import ClickException  # Typer's own Click, which it raises

from domain.errors import DomainError
from flows.cli.support import emit, err

# name -> (module, attribute): a sub-app (a Typer) or a command (a function), in the
# order ``mentoring --help`` lists them. Only the one a command line names is imported, so
# ``mentoring notifications deliver`` does not load the solver, plotly or Prefect.
PARTS: dict[str, tuple[str, str]] = {
    "db": ("flows.cli.operations", "db_app"),
    "cycle": ("flows.cli.cycle", "cycle_app"),
    "members": ("flows.cli.members", "members_app"),
    "applications": ("flows.cli.applications", "applications_app"),
    "pairings": ("flows.cli.pairings", "pairings_app"),
    "notifications": ("flows.cli.notifications", "notifications_app"),
    "tasks": ("flows.cli.tasks", "tasks_app"),
    "assessment": ("flows.cli.assessment", "assessment_app"),
    "repairing": ("flows.cli.rematch", "repairing_app"),
    "pairs": ("flows.cli.pairs", "pairs_app"),
    "serve": ("flows.serve", "serve_command"),
    "portal": ("flows.cli.portal", "portal_command"),
    "demo": ("flows.cli.operations", "demo"),
    "tick": ("flows.cli.operations", "tick"),
    "audit": ("flows.cli.audit", "audit"),
}


HELP = (
    "Run the Core Mentoring Program's annual cycle: call for applications → pairing → "
    "orientation → six months of mentoring (December–June) → assessment."
)


def _program() -> None:
    """The program itself does nothing: each command does its part."""


def build_app(args: list[str] | None = None) -> typer.Typer:
    """The command line with every part, or only the one ``args`` names first."""
    app = typer.Typer(
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        rich_markup_mode="rich",
    )
    # A callback keeps one loaded command a subcommand (``mentoring audit 2026``), where
    # Typer would otherwise make a lone command the whole program.
    app.callback(help=HELP)(_program)
    named = args[0] if args and args[0] in PARTS else None
    for name, (module, attribute) in PARTS.items():
        if named not in (None, name):
            continue
        part = getattr(import_module(module), attribute)
        if isinstance(part, typer.Typer):
            app.add_typer(part, name=name)
        else:
            app.command(name)(part)
    return app


def __getattr__(name: str) -> typer.Typer:
    """``flows.cli.app.app``: the whole command line, for tests and documentation."""
    if name == "app":
        return build_app()
    raise AttributeError(name)


def main(loaded: Callable[[], None] = lambda: None) -> None:
    """Entry point: every failure ends in one clear line on stderr (``error: …``) and the
    contract's exit code (1 refused, 2 usage), never a traceback; with ``--json`` among the
    arguments, the same line is also printed as one JSON document on stdout
    (``{"error": line, "exit": code}``).

    Usage errors keep Click's usual message (usage, the help hint and the error) on stderr.
    ``loaded`` is called once the command's modules are imported, before it runs.
    """
    args = sys.argv[1:]
    as_json = "--json" in args
    try:
        code = _run(args, loaded)
    except DomainError as refusal:
        from flows.cli.hints import hint_for  # only after a refusal: it loads the seal book

        _fail(f"error: {refusal}{hint_for(refusal)}", 1, as_json)
    except (OperationalError, ProgrammingError) as failure:
        _fail(_database_trouble(failure), 1, as_json)
    except _prefect_stack_error() as trouble:
        _fail(f"error: {trouble}", 1, as_json)
    except ClickException as usage:
        from typer.rich_utils import rich_format_error

        rich_format_error(usage)
        _fail(f"error: {usage.format_message()}", usage.exit_code, as_json, said=True)
    except typer.Abort:
        _fail("Aborted!", 1, as_json)
    sys.exit(code)


def _run(args: list[str], loaded: Callable[[], None]) -> int:
    """Run the command line; its exit code (a refusal or usage error is raised)."""
    app = build_app(args)
    loaded()
    code = app(args=args, standalone_mode=False)
    return code if isinstance(code, int) else 0


def _prefect_stack_error() -> type[Exception]:
    """The Prefect stack's error class, imported only once something has gone wrong (an
    ``except`` clause is evaluated only when an exception reaches it), so commands that
    never start Prefect do not load its module."""
    from flows.prefect_server import PrefectStackError

    return PrefectStackError


def _fail(line: str, code: int, as_json: bool, *, said: bool = False) -> NoReturn:
    """Exit ``code`` after ``line`` on stderr (unless Click ``said`` it already), and on
    stdout as ``{"error": line, "exit": code}`` with ``--json``."""
    line = " ".join(line.splitlines())
    if not said:
        err.print(line, markup=False, highlight=False)
    if as_json:
        emit({"error": line, "exit": code}, True, lambda: None)
    sys.exit(code)


def _database_trouble(failure: OperationalError | ProgrammingError) -> str:
    """The driver's first line, and which database (password hidden)."""
    from infra import db
    from infra.settings import Settings

    lines = str(failure.orig).strip().splitlines()
    reason = lines[0] if lines else type(failure.orig).__name__
    where = db.redacted(Settings.from_env().database_url)
    return (
        f"error: the database at {where} cannot be used: {reason} — is it reachable, and has "
        "`mentoring db upgrade` been run?"
    )
