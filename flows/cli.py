"""``mentoring``: the committee's command line (SPEC's contract).

Exit codes: 0 done or already done, 1 refused by the program's rules (one line on
stderr, never a traceback), 2 usage.
"""

import getpass
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import MofNCompleteColumn, Progress
from rich.table import Table
from sqlalchemy.exc import OperationalError, ProgrammingError

from domain.cycle_states import CycleEvent, Trigger
from domain.errors import DomainError
from flows.cli_assessment import assessment_app, print_story
from flows.cli_support import (
    Actor,
    DryRun,
    ImportActor,
    JsonOption,
    OptionalActor,
    Year,
    emit,
    err,
    event_help,
    out,
    parse_when,
    with_milestone_options,
)
from flows.cli_withdrawals import applications_withdraw, repairing_app
from flows.serve import serve_command
from flows.usecases import applications as application_cases
from flows.usecases import assessment as assessment_cases
from flows.usecases import audit as audit_cases
from flows.usecases import cycles as cycle_cases
from flows.usecases import followups as followup_cases
from flows.usecases import members as member_cases
from flows.usecases import notifications as notification_cases
from flows.usecases import pairings as pairing_cases
from flows.usecases import program as program_cases
from flows.usecases.audit_story import story
from flows.usecases.tick import run_tick
from infra import db
from infra.form_mapping import load_mapping
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
members_app = typer.Typer(help="The Core membership roster.", no_args_is_help=True)
applications_app = typer.Typer(help="Applications to a cycle.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(cycle_app, name="cycle")
app.add_typer(members_app, name="members")
pairings_app = typer.Typer(
    help="Pairing mentors with mentees: propose the optimal set, review, edit, approve.",
    no_args_is_help=True,
)
app.add_typer(applications_app, name="applications")
notifications_app = typer.Typer(
    help="Mail to participants and the committee.", no_args_is_help=True
)
tasks_app = typer.Typer(help="Deadlines and follow-up tasks.", no_args_is_help=True)
app.add_typer(pairings_app, name="pairings")
app.add_typer(notifications_app, name="notifications")
app.add_typer(tasks_app, name="tasks")
app.add_typer(assessment_app, name="assessment")
applications_app.command("withdraw")(applications_withdraw)
app.add_typer(repairing_app, name="repairing")
app.command("serve")(serve_command)


def uow() -> UnitOfWork:
    return UnitOfWork.from_settings()


@db_app.command("upgrade")
def db_upgrade(as_json: JsonOption = False) -> None:
    """Create or migrate the schema (safe to run again)."""
    url = Settings.from_env().database_url
    before = db.current_revision(url)
    db.upgrade(url)
    after = db.current_revision(url)
    result = {
        "database": db.redacted(url),
        "from_revision": before,
        "revision": after,
        "changed": before != after,
    }
    message = (
        f"database migrated from {before or 'empty'} to {after}: {result['database']}"
        if result["changed"]
        else f"database is up to date (revision {after}): {result['database']}"
    )
    emit(result, as_json, lambda: out.print(message))


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
    """Create the cycle for YEAR in state [bold]planned[/bold].

    The default calendar (call opens Aug 1, closes Sep 30, pairings Nov 5, orientation Nov 20,
    mentoring Dec 1 → Jun 30, assessment closes Aug 1). Move any milestone with its option."""
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
    """Every cycle, past and present, with its state and outcome.

    The outcome: pairs still active at the end, completion, the assessment's response rate and
    mean overall score."""
    rows = cycle_cases.list_all(uow())
    outcomes = {o["year"]: o for o in assessment_cases.cycle_outcomes(uow())}
    for row in rows:
        outcome = outcomes[row["year"]]
        row["outcome"] = {k: v for k, v in outcome.items() if k not in ("year", "state")}

    def human() -> None:
        table = Table(
            "year", "state", "next milestone", "pairs", "completion", "response rate", "overall"
        )
        for c in rows:
            upcoming = next(iter(c["allowed_events"]), "")
            o = c["outcome"]
            table.add_row(
                str(c["year"]),
                c["state"],
                f"{upcoming} {c['calendar'].get(upcoming, '')}".strip(),
                str(o["pairs"]),
                _percent(o["completion"]),
                _percent(o["response_rate"]),
                "—" if o["mean_overall"] is None else f"{o['mean_overall']:.2f} / 5",
            )
        out.print(table if rows else "no cycles yet: `mentoring cycle create YEAR`")

    emit({"cycles": rows}, as_json, human)


def _percent(share: float | None) -> str:
    return "—" if share is None else f"{share:.0%}"


@cycle_app.command("program")
def cycle_program(
    year: Year,
    actor: OptionalActor = "",
    orientation_at: Annotated[
        str | None,
        typer.Option(
            help="When the orientation session starts, e.g. 2026-11-20T13:00 (the cycle's "
            "time zone unless an offset is given). Default: 1 pm on the orientation date."
        ),
    ] = None,
    orientation_minutes: Annotated[
        int | None, typer.Option(help="How long the orientation session lasts (15-480).")
    ] = None,
    orientation_join_url: Annotated[
        str | None, typer.Option(help="The orientation's video-call link.")
    ] = None,
    committee_email: Annotated[
        str | None, typer.Option(help="Where participants write to the committee.")
    ] = None,
    apply_url: Annotated[str | None, typer.Option(help="The application form.")] = None,
    checkin_url: Annotated[str | None, typer.Option(help="The monthly check-in form.")] = None,
    survey_url: Annotated[str | None, typer.Option(help="The assessment survey.")] = None,
    call_list_address: Annotated[
        str | None,
        typer.Option(
            help="Send the call for applications to this list address instead of to each "
            "current Core member."
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Show or set the cycle's program details that messages use.

    Without options, shows them (defaults filled in). With options, changes them (audited);
    the orientation's details are refused once the invitation has gone out, the call list
    once the call has.
    """
    given = {
        "orientation_at": orientation_at,
        "orientation_minutes": orientation_minutes,
        "orientation_join_url": orientation_join_url,
        "committee_email": committee_email,
        "apply_url": apply_url,
        "checkin_url": checkin_url,
        "survey_url": survey_url,
        "call_list_address": call_list_address,
    }
    values = {k: v for k, v in given.items() if v is not None}
    if values:
        result = program_cases.set_details(uow(), year, values, actor=actor or getpass.getuser())
    else:
        result = program_cases.details(uow(), year)

    def human() -> None:
        table = Table("detail", "value", title=f"cycle {year}: program details")
        for name, value in result.items():
            table.add_row(name, "—" if value is None else str(value))
        out.print(table)

    emit(result, as_json, human)


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


CsvFile = Annotated[
    Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="The CSV file.")
]


@members_app.command("import")
def members_import(
    file: CsvFile,
    actor: ImportActor = "",
    dry_run: DryRun = False,
    as_json: JsonOption = False,
) -> None:
    """Load or refresh the Core membership roster.

    Columns: member_id,first_name,last_name,email,institution,membership_expires. A member is a
    Core member until membership_expires has passed. Importing the same file again changes
    nothing."""
    result = member_cases.import_roster(
        uow(), file, actor=actor or getpass.getuser(), dry_run=dry_run
    )

    def human() -> None:
        verb = "would add" if dry_run else "added"
        out.print(
            f"{verb} {result.added}, updated {result.updated}, unchanged "
            f"{result.unchanged}, rejected {len(result.rejected)}"
        )
        _print_rejected(result.rejected)

    emit(result.as_dict(), as_json, human)


@applications_app.command("import")
def applications_import(
    year: Year,
    file: CsvFile,
    mapping: Annotated[
        str | None,
        typer.Option(
            "--mapping",
            help="Column mapping for a form tool's export: a shipped name "
            "(google_forms_mentor, google_forms_mentee) or a TOML file.",
        ),
    ] = None,
    dry_run: DryRun = False,
    allow_late: Annotated[
        bool,
        typer.Option(
            "--allow-late",
            help="The committee accepts applications after the call closed "
            "(recorded in the audit log).",
        ),
    ] = False,
    actor: ImportActor = "",
    as_json: JsonOption = False,
) -> None:
    """Validate applications to cycle YEAR and load the valid ones.

    Valid lines go in together (or none, on --dry-run).
    A member's repeated application replaces the earlier one; refused lines are listed
    with their line number (the header is line 1) and the reason."""
    result = application_cases.import_applications(
        uow(),
        year,
        file,
        actor=actor or getpass.getuser(),
        mapping=load_mapping(mapping) if mapping else None,
        dry_run=dry_run,
        allow_late=allow_late,
    )

    def human() -> None:
        verb = "would import" if dry_run else "imported"
        out.print(
            f"{verb} {result.imported} application(s); rejected {len(result.rejected)}"
            + (
                f"; replaced earlier ones from {', '.join(sorted(set(result.replaced)))}"
                if result.replaced
                else ""
            )
        )
        _print_rejected(result.rejected)
        for w in result.warnings:
            out.print(f"[yellow]line {w['line']}[/yellow]: {w['warning']}")

    emit(result.as_dict(), as_json, human)


@pairings_app.command("propose")
def pairings_propose(year: Year, actor: OptionalActor = "", as_json: JsonOption = False) -> None:
    """Compute the optimal pairing set and keep it as the proposal.

    Maximum total score, then most mentees paired, around the committee's fixed and blocked
    pairs."""
    view = pairing_cases.propose(uow(), year, actor=actor or getpass.getuser())

    def human() -> None:
        table = Table("mentor", "mentee", "score", "why", title=f"proposed pairs, cycle {year}")
        for p in view["pairs"]:
            table.add_row(
                p["mentor_id"],
                p["mentee_id"] + (" (fixed)" if p["fixed"] else ""),
                f"{p['score']:.2f}",
                p["explanation"],
            )
        out.print(table)
        for u in view["unmatched"]:
            out.print(
                f"[yellow]unmatched {u['role']} {u['member_id']}[/yellow]: {u['reason']}",
                soft_wrap=True,
            )
        out.print(
            f"{len(view['pairs'])} pairs, total score {view['total_score']:.2f}; approve "
            f"with `mentoring pairings approve {year} --actor NAME`"
        )

    emit(view, as_json, human)


@pairings_app.command("candidates")
def pairings_candidates(year: Year, as_json: JsonOption = False) -> None:
    """Every allowed (mentor, mentee) pair with its score, and each mentor's capacity."""
    data = pairing_cases.candidates(uow(), year)
    emit(
        data,
        as_json,
        lambda: out.print(
            f"{len(data['edges'])} allowed pairs among {len(data['capacities'])} mentors "
            "(use --json for the list)"
        ),
    )


@pairings_app.command("edit")
def pairings_edit(
    year: Year,
    kind: Annotated[
        str,
        typer.Argument(
            metavar="fix|block|unfix|unblock",
            help="fix: keep this pair whatever the solver finds; block: never pair them "
            "(also how to remove a proposed pair); unfix/unblock lift the edit.",
        ),
    ],
    mentor_id: Annotated[str, typer.Argument(help="The mentor's member id.")],
    mentee_id: Annotated[str, typer.Argument(help="The mentee's member id.")],
    actor: Actor,
) -> None:
    """Fix, block or remove a pair; then `pairings propose` re-solves around the edits."""
    out.print(
        pairing_cases.edit(
            uow(), year, kind=kind, mentor_id=mentor_id, mentee_id=mentee_id, actor=actor
        )
    )


@pairings_app.command("settings")
def pairings_settings(
    year: Year,
    actor: Actor,
    weight: Annotated[
        list[str] | None,
        typer.Option(
            "--weight",
            metavar="NAME=POINTS",
            help="A criterion's weight: shared_area, goals, "
            "career_step, career_same, career_far, same_library_type, time_zone.",
        ),
    ] = None,
    same_institution: Annotated[
        bool | None,
        typer.Option(
            "--allow-same-institution/--forbid-same-institution",
            help="Whether mentor and mentee may work at the same institution.",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """This cycle's matching weights and institution rule (audited)."""
    weights: dict[str, float] = {}
    for item in weight or []:
        name, _, value = item.partition("=")
        try:
            weights[name.strip()] = float(value)
        except ValueError as error:
            raise typer.BadParameter(f"{item!r}: use NAME=POINTS, e.g. goals=25") from error
    result = pairing_cases.set_matching(
        uow(), year, actor=actor, weights=weights, allow_same_institution=same_institution
    )
    emit(result, as_json, lambda: out.print(result))


@pairings_app.command("approve")
def pairings_approve(year: Year, actor: Actor, as_json: JsonOption = False) -> None:
    """Approve the current proposal; `announce_pairings` may then fire on its date."""
    result = pairing_cases.approve(uow(), year, actor=actor)
    emit(result, as_json, lambda: out.print(result["message"]))


@pairings_app.command("export")
def pairings_export(
    year: Year,
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the CSV.")] = Path(
        "pairs.csv"
    ),
) -> None:
    """Write the approved pairs as CSV (names, emails, institutions, score, explanation)."""
    count = pairing_cases.export(uow(), year, output)
    out.print(f"wrote {count} pairs to {output}")


@notifications_app.command("deliver")
def notifications_deliver(as_json: JsonOption = False) -> None:
    """Send every queued message; safe to run again.

    SMTP from MENTORING_SMTP_*, or .eml files in the mail folder when no server is
    set. Nothing is sent twice."""
    with Progress(
        *Progress.get_default_columns(),
        MofNCompleteColumn(),
        console=err,
        disable=as_json,
        transient=True,
    ) as bar:
        job = bar.add_task("delivering", total=None)
        counts = notification_cases.deliver(
            uow(), progress=lambda done, total: bar.update(job, completed=done, total=total)
        )
    emit(
        asdict(counts),
        as_json,
        lambda: out.print(
            f"sent {counts.sent}, failed {counts.failed}, still pending {counts.pending}"
            + (" (see `mentoring notifications list --failed`)" if counts.failed else "")
        ),
    )


@notifications_app.command("list")
def notifications_list(
    year: Annotated[int | None, typer.Option("--year", help="Only this cycle.")] = None,
    failed: Annotated[bool, typer.Option("--failed", help="Only messages that failed.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Queued, sent and failed messages, with the server's answer for failures."""
    rows = notification_cases.list_messages(uow(), year=year, failed_only=failed)

    def human() -> None:
        table = Table("id", "kind", "to", "status", "server's answer")
        for r in rows:
            table.add_row(
                str(r["id"]), r["kind"], r["to_address"], r["status"], r["last_error"] or ""
            )
        out.print(table)

    emit({"messages": rows}, as_json, human)


@tasks_app.command("list")
def tasks_list(
    year: Year,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only overdue tasks.")] = False,
    as_json: JsonOption = False,
) -> None:
    """The cycle's deadlines and follow-up tasks, for the committee and participants."""
    rows = followup_cases.list_tasks(uow(), year, overdue_only=overdue)

    def human() -> None:
        table = Table("id", "due", "for", "task", "status")
        for r in rows:
            status = (
                f"done ({r['done_by']})"
                if r["done_at"]
                else ("[red]overdue[/red]" if r["overdue"] else "open")
            )
            who = r["audience"] + (f" {r['member_id']}" if r["member_id"] else "")
            table.add_row(str(r["id"]), r["due_at"][:10], who, r["title"], status)
        out.print(table)

    emit({"tasks": rows}, as_json, human)


@tasks_app.command("done")
def tasks_done(
    task_id: Annotated[int, typer.Argument(help="The task's id (from `tasks list`).")],
    actor: Actor,
) -> None:
    """Mark a task done."""
    out.print(followup_cases.mark_done(uow(), task_id, actor=actor))


@app.command("demo")
def demo(
    folder: Annotated[
        Path,
        typer.Option(
            "--folder",
            help="Where the demo keeps its database, mail and Prefect state (emptied first).",
        ),
    ] = Path("mentoring-demo"),
    year: Annotated[int, typer.Option("--year", help="The cycle year to walk.")] = 2026,
    as_json: JsonOption = False,
) -> None:
    """Walk a whole cycle, planned → assessed, through the real Prefect flows.

    Synthetic members and applications, a simulated clock (a year in seconds).
    Needs no server: SQLite, .eml files and an ephemeral Prefect server in FOLDER."""
    from flows.demo import run_demo

    def say(line: str) -> None:
        if not as_json:
            out.print(f"[dim]·[/dim] {line}", highlight=False, soft_wrap=True)

    summary = run_demo(folder.resolve(), year, say)

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

    emit(summary, as_json, human)


def _print_rejected(rejected: list[dict[str, object]]) -> None:
    for r in rejected:
        out.print(f"[red]line {r['line']}[/red]: {r['reason']}", highlight=False, soft_wrap=True)


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
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            metavar="text|md|html|json",
            help="text: tables for the terminal; md or html: a document for the records; json.",
        ),
    ] = "text",
    as_json: JsonOption = False,
) -> None:
    """A cycle's whole story, or [bold]audit verify[/bold].

    The story in order — transitions (who, how, why, which flow run),
    applications received and refused, pairing decisions, messages by kind (queued, sent,
    failed), tasks (done, overdue). With --as-of, the
    cycle as it stood at that moment: its state, its counts and who was paired."""
    if year_or_verify == "verify":
        _verify(as_json)
        return
    if not year_or_verify.isdigit():
        raise typer.BadParameter(f"{year_or_verify!r}: give a year (2026) or 'verify'")
    if fmt not in ("text", "md", "html", "json"):
        raise typer.BadParameter(f"{fmt!r}: choose text, md, html or json", param_hint="--format")
    data = story(uow(), int(year_or_verify), parse_when(as_of))
    print_story(data, "json" if as_json else fmt)


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
