"""``mentoring``: the committee's command line (SPEC's contract), assembled from one
module per sub-app; ``main`` turns refusals and usage errors into one line on stderr (and
one JSON document on stdout with ``--json``).

Exit codes: 0 done or already done, 1 refused by the program's rules (one line on
stderr, never a traceback), 2 usage.
"""

import sys
from typing import NoReturn

import typer
from sqlalchemy.exc import OperationalError, ProgrammingError
from typer._click.exceptions import ClickException  # Typer's own Click, which it raises

from domain.errors import DomainError
from flows.cli.applications import applications_app
from flows.cli.assessment import assessment_app
from flows.cli.audit import audit
from flows.cli.cycle import cycle_app
from flows.cli.hints import hint_for
from flows.cli.members import members_app
from flows.cli.notifications import notifications_app
from flows.cli.operations import db_app, demo, tick
from flows.cli.pairings import pairings_app
from flows.cli.rematch import repairing_app
from flows.cli.support import emit, err
from flows.cli.tasks import tasks_app
from flows.prefect_server import PrefectStackError
from flows.serve import serve_command
from infra import db
from infra.settings import Settings

app = typer.Typer(
    help="Run the Core Mentoring Program's annual cycle: call for applications → "
    "pairing → orientation → six months of mentoring (December–June) → assessment.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
app.add_typer(db_app, name="db")
app.add_typer(cycle_app, name="cycle")
app.add_typer(members_app, name="members")
app.add_typer(applications_app, name="applications")
app.add_typer(pairings_app, name="pairings")
app.add_typer(notifications_app, name="notifications")
app.add_typer(tasks_app, name="tasks")
app.add_typer(assessment_app, name="assessment")
app.add_typer(repairing_app, name="repairing")
app.command("serve")(serve_command)
app.command("demo")(demo)
app.command("tick")(tick)
app.command("audit")(audit)


def main() -> None:
    """Entry point: every failure ends in one clear line on stderr (``error: …``) and the
    contract's exit code (1 refused, 2 usage), never a traceback; with ``--json`` among the
    arguments, the same line is also printed as one JSON document on stdout
    (``{"error": line, "exit": code}``).

    Usage errors keep Click's usual message (usage, the help hint and the error) on stderr.
    """
    args = sys.argv[1:]
    as_json = "--json" in args
    try:
        code = app(args=args, standalone_mode=False)
    except DomainError as refusal:
        _fail(f"error: {refusal}{hint_for(refusal)}", 1, as_json)
    except (OperationalError, ProgrammingError) as failure:
        _fail(_database_trouble(failure), 1, as_json)
    except PrefectStackError as trouble:
        _fail(f"error: {trouble}", 1, as_json)
    except ClickException as usage:
        from typer.rich_utils import rich_format_error

        rich_format_error(usage)
        _fail(f"error: {usage.format_message()}", usage.exit_code, as_json, said=True)
    except typer.Abort:
        _fail("Aborted!", 1, as_json)
    sys.exit(code if isinstance(code, int) else 0)


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
    lines = str(failure.orig).strip().splitlines()
    reason = lines[0] if lines else type(failure.orig).__name__
    where = db.redacted(Settings.from_env().database_url)
    return (
        f"error: the database at {where} cannot be used: {reason} — is it reachable, and has "
        "`mentoring db upgrade` been run?"
    )
