"""``mentoring``: the committee's command line (SPEC's contract).

Exit codes: 0 done or already done, 1 refused by the program's rules (one line on
stderr, never a traceback), 2 usage.
"""

import getpass
import sys
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.exc import OperationalError, ProgrammingError

from domain.cycle_states import CycleEvent, Trigger
from domain.errors import DomainError
from flows.cli_support import (
    JsonOption,
    emit,
    err,
    event_help,
    out,
    parse_when,
    with_milestone_options,
)
from flows.usecases import audit as audit_cases
from flows.usecases import cycles as cycle_cases
from flows.usecases.tick import run_tick
from infra import db
from infra.settings import Settings
from infra.uow import UnitOfWork

app = typer.Typer(
    help="Run the Core Mentoring Program's annual cycle: call for applications → "
    "pairing → orientation → six months of mentoring (December–June) → assessment.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
db_app = typer.Typer(help="The program's database.", no_args_is_help=True)
cycle_app = typer.Typer(help="Annual cycles: create, inspect, advance.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(cycle_app, name="cycle")

Year = Annotated[int, typer.Argument(help="The cycle's year: the year its call opens (August).")]
Actor = Annotated[str, typer.Option("--actor", help="Who does this (recorded in the audit log).")]


def uow() -> UnitOfWork:
    return UnitOfWork.from_settings()


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema (safe to run again)."""
    url = Settings.from_env().database_url
    db.upgrade(url)
    out.print(f"database is up to date: {db.redacted(url)}")


@cycle_app.command("create")
@with_milestone_options
def cycle_create(
    year: Year,
    timezone: Annotated[
        str, typer.Option("--timezone", help="The committee's IANA time zone.")
    ] = "America/Chicago",
    actor: Annotated[str, typer.Option("--actor", help="Who creates the cycle.")] = "",
    as_json: JsonOption = False,
    milestones: dict[CycleEvent, str] | None = None,
) -> None:
    """Create the cycle for YEAR in state [bold]planned[/bold] with the default calendar
    (call opens Aug 1, closes Sep 30, pairings Nov 5, orientation Nov 20, mentoring
    Dec 1 → Jun 30, assessment closes Aug 1). Move any milestone with its option."""
    created, message = cycle_cases.create_cycle(
        uow(),
        year,
        timezone=timezone,
        milestones=milestones or {},
        actor=actor or getpass.getuser(),
    )
    summary = cycle_cases.describe(uow(), year)
    emit(
        {"created": created, "message": message, **summary},
        as_json,
        lambda: _show(summary, message),
    )


@cycle_app.command("reschedule")
@with_milestone_options
def cycle_reschedule(
    year: Year,
    actor: Actor,
    as_json: JsonOption = False,
    milestones: dict[CycleEvent, str] | None = None,
) -> None:
    """Move milestones that have not passed yet (the change is audited)."""
    cycle_cases.reschedule(uow(), year, milestones or {}, actor=actor)
    summary = cycle_cases.describe(uow(), year)
    emit(summary, as_json, lambda: _show(summary, f"cycle {year}: calendar updated"))


@cycle_app.command("list")
def cycle_list(as_json: JsonOption = False) -> None:
    """Every cycle, past and present, with its state."""
    rows = cycle_cases.list_all(uow())

    def human() -> None:
        table = Table("year", "state", "time zone", "next milestone")
        for c in rows:
            upcoming = next(iter(c["allowed_events"]), "")
            table.add_row(
                str(c["year"]),
                c["state"],
                c["timezone"],
                f"{upcoming} {c['calendar'].get(upcoming, '')}".strip(),
            )
        out.print(table if rows else "no cycles yet: `mentoring cycle create YEAR`")

    emit({"cycles": rows}, as_json, human)


@cycle_app.command("show")
def cycle_show(year: Year, as_json: JsonOption = False) -> None:
    """A cycle's state, calendar and the events allowed now."""
    summary = cycle_cases.describe(uow(), year)
    emit(summary, as_json, lambda: _show(summary, None))


@cycle_app.command(
    "advance",
    help="Fire one EVENT on the cycle, exactly as the Prefect flow "
    "does. A milestone not yet due needs --reason.\n\n" + event_help(),
)
def cycle_advance(
    year: Year,
    event: Annotated[CycleEvent, typer.Argument(help="The event to fire (see below).")],
    actor: Actor,
    reason: Annotated[
        str | None,
        typer.Option(help="Why (required to cancel or to fire before the milestone's date)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    result = cycle_cases.fire_event(
        uow(), year, event, actor=actor, trigger=Trigger.cli, reason=reason
    )
    emit(result.as_dict(), as_json, lambda: out.print(result.message))


@app.command("tick")
def tick(
    now: Annotated[
        str | None, typer.Option(help="Pretend it is this moment (ISO datetime); default: now.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Do what the daily scheduled flow does: fire every transition that is due."""
    report = run_tick(uow(), now=parse_when(now))
    data = {
        "now": report.now.isoformat(),
        "transitions": [t.as_dict() for t in report.transitions],
        "held": report.held,
    }

    def human() -> None:
        for t in report.transitions:
            out.print(t.message)
        for h in report.held:
            out.print(f"[yellow]held:[/yellow] {h}")
        if not report.transitions and not report.held:
            out.print(f"nothing due at {report.now.isoformat()}")

    emit(data, as_json, human)


@app.command("audit")
def audit(
    year_or_verify: Annotated[
        str,
        typer.Argument(
            metavar="YEAR|verify",
            help="A cycle's year for its history, or [bold]verify[/bold] to check the whole "
            "log's integrity (exit 1 and where, if a record was altered, deleted or reordered).",
        ),
    ],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="The history up to this moment (ISO datetime).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """A cycle's whole history, or [bold]audit verify[/bold]."""
    if year_or_verify == "verify":
        _verify(as_json)
        return
    if not year_or_verify.isdigit():
        raise typer.BadParameter(f"{year_or_verify!r}: give a year (2026) or 'verify'")
    data = audit_cases.history(uow(), int(year_or_verify), parse_when(as_of))

    def human() -> None:
        table = Table(
            "at (UTC)",
            "event",
            "now",
            "by",
            "reason / flow run",
            title=f"cycle {data['year']}: {data['state']}",
        )
        for t in data["transitions"]:
            extra = " ".join(x for x in (t["reason"], t["flow_run_id"]) if x)
            table.add_row(
                t["at"][:16], t["event"], t["target"], f"{t['actor']} ({t['trigger']})", extra
            )
        out.print(table)
        for r in data["records"]:
            out.print(f"{r['at'][:16]}  {r['kind']} by {r['actor']}")

    emit(data, as_json, human)


def _verify(as_json: bool) -> None:
    checked, problems = audit_cases.verify(uow())
    data = {"ok": not problems, "records": checked, "problems": [str(p) for p in problems]}
    emit(
        data,
        as_json,
        lambda: out.print(
            f"audit log intact: {checked} records"
            if not problems
            else "\n".join(f"[red]TAMPERED[/red] {p}" for p in problems)
        ),
    )
    if problems:
        raise typer.Exit(1)


def _show(summary: dict[str, object], message: str | None) -> None:
    if message:
        out.print(message)
    table = Table("milestone", "due", title=f"cycle {summary['year']}: {summary['state']}")
    calendar = summary["calendar"]
    assert isinstance(calendar, dict)
    for event, at in calendar.items():
        table.add_row(event, at)
    out.print(table)
    allowed = summary["allowed_events"]
    assert isinstance(allowed, list)
    out.print(f"allowed now: {', '.join(allowed) or 'none (final)'}")


def main() -> None:
    """Entry point: domain refusals and database trouble become one clear line, exit 1."""
    try:
        app()
    except DomainError as refusal:
        err.print(f"error: {refusal}", markup=False, highlight=False)
        sys.exit(1)
    except (OperationalError, ProgrammingError) as failure:
        err.print(
            f"database error: {str(failure.orig).strip().splitlines()[0]} — is the database "
            "reachable, and has `mentoring db upgrade` been run?",
            markup=False,
            highlight=False,
        )
        sys.exit(1)


if __name__ == "__main__":
    main()
