"""Commands that run the program rather than tend one of its records: ``db upgrade``,
``tick`` (the daily flow's work, by hand) and ``demo``. ``serve`` lives in ``flows.serve``.
"""

from pathlib import Path
from typing import Annotated

import typer

from domain.calendar import DEFAULT_TIMEZONE
from flows.cli.support import (
    JsonOption,
    checked_year,
    default_zone,
    emit,
    err,
    out,
    parse_when,
    say,
    uow,
)
from flows.usecases import audit as audit_cases
from flows.usecases.clock import utcnow
from flows.usecases.tick import run_tick
from infra import db
from infra.settings import Settings

db_app = typer.Typer(help="The program's database.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(as_json: JsonOption = False) -> None:
    """Create or migrate the schema (safe to run again)."""
    url = Settings.from_env().database_url
    before = db.current_revision(url)
    db.upgrade(url)
    after = db.current_revision(url)
    sealed = audit_cases.seal_existing(uow(), before, utcnow())
    result = {
        "database": db.redacted(url),
        "from_revision": before,
        "revision": after,
        "changed": before != after,
        "rows_sealed": sealed,
    }
    message = (
        f"database migrated from {before or 'empty'} to {after}: {result['database']}"
        if result["changed"]
        else f"database is up to date (revision {after}): {result['database']}"
    )
    if sealed:
        message += f"; sealed the {sealed} rows already there (see `mentoring audit verify`)"
    emit(result, as_json, lambda: out.print(message))


def tick(
    now: Annotated[
        str | None,
        typer.Option(
            help="Pretend it is this moment (ISO datetime, in the committee's default time "
            f"zone, {DEFAULT_TIMEZONE}, unless an offset is given); default: now."
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Do what the daily scheduled flow does: fire every transition that is due.

    Each cycle is handled on its own: one that cannot move (a stored value the program
    refuses) does not stop the others. Exit 1 when any cycle could not move, after moving
    the others: one line per such cycle on stderr. With --json the report is printed as
    usual, its [bold]failed[/bold] list naming each such cycle (year, error), and
    [bold]error[/bold] (those lines, joined by "; ") and [bold]exit[/bold] (1) are added.
    """
    moment = parse_when(now, default_zone)
    report = run_tick(uow(), now=moment)

    def human() -> None:
        for t in report.transitions:
            say(t.message)
        for h in report.held:
            say(f"held: {h}")
        if not report.transitions and not report.held and not report.failed:
            say(f"nothing due at {report.now.isoformat()}")

    failures = [f"error: {f.message}" for f in report.failed]
    result = report.as_dict()
    if failures:
        result |= {"error": "; ".join(failures), "exit": 1}
    emit(result, as_json, human)
    for line in failures:
        err.print(line, markup=False, highlight=False)
    if failures:
        raise typer.Exit(1)


def demo(
    folder: Annotated[
        Path,
        typer.Option(
            "--folder",
            help="Where the demo keeps its database, mail and Prefect state (emptied first).",
        ),
    ] = Path("mentoring-demo"),
    year: Annotated[
        int, typer.Option("--year", help="The cycle year to walk.", callback=checked_year)
    ] = 2026,
    as_json: JsonOption = False,
) -> None:
    """Walk a whole cycle, planned → assessed, through the real Prefect flows.

    Synthetic members and applications, a simulated clock (a year in seconds).
    Needs no server: SQLite, .eml files and an ephemeral Prefect server in FOLDER."""
    from flows.demo import run_demo

    def narrate(line: str) -> None:
        if not as_json:
            out.print(f"[dim]·[/dim] {line}", highlight=False, soft_wrap=True)

    summary = run_demo(folder.resolve(), year, narrate)

    def human() -> None:
        out.print(
            f"\n[bold]cycle {summary['year']}: {summary['state']}[/bold] in "
            f"{summary['seconds']} s — {len(summary['flow_runs'])} flow runs, "
            f"{summary['transitions']} transitions, {summary['pairs']} pairs, "
            f"{summary['messages']} messages sent, {summary['tasks']} tasks"
        )
        for kind, count in sorted(summary["messages_by_kind"].items()):
            out.print(f"    {count:4d} × {kind}")
        out.print(
            f"audit log: {summary['audit_records']} records, "
            f"{'intact' if summary['audit_intact'] else 'ALTERED'} — see it with "
            f"MENTORING_DATABASE_URL={summary['database']} mentoring audit {year}"
        )
        out.print(f"mail (.eml files): {summary['mail_folder']}")
        site = summary.get("site")
        if site:
            out.print(
                f"on the participants' site ({site['url']}): {site['member_id']} signed in "
                f"from the mailed link and applied as {site['role']}"
            )
        done = summary.get("on_the_site")
        if done:
            out.print(
                f"on the site in all: {done['sign_ins']} sign-ins from mailed links, "
                f"{done['applications']} application, {done['goals']} pairs' goals, "
                f"{done['meetings']} meetings logged, {done['check_ins']} check-ins "
                f"({len(done['flagged_pairs'])} pair flagged for the committee), "
                f"{done['survey_answers']} survey answers, {done['continuing_answers']} "
                "going-on answers"
            )
        engaged = summary.get("engagement")
        if engaged:
            out.print(
                f"engagement, as `mentoring cycle list` shows it: {engaged['pairs_met']} of "
                f"{engaged['pairs']} pairs logged a meeting ({engaged['meetings']} meetings), "
                f"{engaged['met_every_month']} met every month, {engaged['flagged']} flagged, "
                f"{engaged['goals_set']} set goals"
            )

    emit(summary, as_json, human)
