"""``mentoring audit``: a cycle's whole story (as it stands, or as of a moment), and
``audit verify``, the integrity check of the whole log."""

import sys
from typing import Annotated

import typer
from rich.markup import escape

from flows.cli.support import (
    JsonOption,
    PlainTable,
    checked_year,
    cycle_zone,
    emit,
    out,
    parse_when,
    say,
    uow,
)
from flows.usecases import audit as audit_cases
from flows.usecases.audit_story import CycleStory, render_story, story
from infra.assessment_report import FORMATS


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
        str | None,
        typer.Option(
            "--as-of",
            help="The history up to this moment (ISO datetime, in the cycle's time zone "
            "unless an offset is given).",
        ),
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
    try:
        year = checked_year(int(year_or_verify))
    except ValueError:
        raise typer.BadParameter(f"{year_or_verify!r}: give a year (2026) or 'verify'") from None
    if fmt not in ("text", "md", "html", "json"):
        raise typer.BadParameter(f"{fmt!r}: choose text, md, html or json", param_hint="--format")
    moment = parse_when(as_of, lambda: cycle_zone(year))
    told = story(uow(), year, moment)
    print_story(told, "json" if as_json else fmt)


def _verify(as_json: bool) -> None:
    check = audit_cases.verify(uow())
    emit(
        check.as_dict(),
        as_json,
        lambda: out.print(
            f"audit log intact: {check.records} records"
            if check.ok
            else "\n".join(f"[red]TAMPERED[/red] {escape(str(p))}" for p in check.problems)
        ),
    )
    if not check.ok:
        raise typer.Exit(1)


def print_story(told: CycleStory, fmt: str) -> None:
    """Print the audit story: ``text`` (tables for the terminal), or md, html or json."""
    if fmt in FORMATS:
        sys.stdout.write(render_story(told, fmt))
    else:
        _story_tables(told)


def _story_tables(told: CycleStory) -> None:
    when = f" as of {told.as_of.isoformat()}" if told.as_of else ""
    table = PlainTable(
        "at (UTC)",
        "event",
        "now",
        "by",
        "reason / flow run",
        title=f"cycle {told.year}{when}: {told.state}",
    )
    for t in told.transitions:
        extra = " ".join(x for x in (t.reason, t.flow_run_id) if x)
        table.add_row(t.at.isoformat()[:16], t.event, t.target, f"{t.actor} ({t.trigger})", extra)
    out.print(table)
    apps = told.applications
    out.print(
        f"applications: {apps['received']} received, {apps['imported']} accepted, "
        f"{apps['refused']} refused"
    )
    for d in told.pairing_decisions:
        say(f"{d['at'][:16]}  {d['decision']} by {d['actor']}: {d['summary']}")
    if told.paired:
        out.print(f"paired{when}: {told.paired['pairs']} pairs (list with --json)")
    messages = PlainTable("message", "queued", "sent", "failed", "pending", title="messages")
    for kind, m in told.messages["by_kind"].items():
        failed = "—" if m["failed"] is None else str(m["failed"])
        messages.add_row(kind, str(m["queued"]), str(m["sent"]), failed, str(m["pending"]))
    out.print(messages)
    tasks = told.tasks["total"]
    out.print(
        f"tasks at {told.tasks['at'][:16]}: {tasks['created']} created, {tasks['done']} "
        f"done, {tasks['overdue']} overdue, {tasks['open']} open"
    )
