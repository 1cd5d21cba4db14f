"""``mentoring``: the committee's command line (SPEC's contract), assembled from one
module per sub-app; ``main`` turns refusals into one line on stderr.

Exit codes: 0 done or already done, 1 refused by the program's rules (one line on
stderr, never a traceback), 2 usage.
"""

import sys

import typer
from sqlalchemy.exc import OperationalError, ProgrammingError

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
from flows.cli.support import err
from flows.cli.tasks import tasks_app
from flows.serve import serve_command

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
    """Entry point: domain refusals and database trouble become one clear line, exit 1."""
    try:
        app()
    except DomainError as refusal:
        err.print(f"error: {refusal}{hint_for(refusal)}", markup=False, highlight=False)
        sys.exit(1)
    except (OperationalError, ProgrammingError) as failure:
        err.print(
            f"database error: {str(failure.orig).strip().splitlines()[0]} — is the database "
            "reachable, and has `mentoring db upgrade` been run?",
            markup=False,
            highlight=False,
        )
        sys.exit(1)
