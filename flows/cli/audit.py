"""``mentoring audit``: a cycle's whole story (as it stands, or as of a moment);
``audit verify``, the integrity check of the whole log (held to anchors kept outside the
database with ``--anchor``); and ``audit anchor``, the head to keep."""

import sys
from typing import Annotated

import typer
from rich.markup import escape

from domain.audit import Anchor, InvalidAnchor
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
from flows.usecases.clock import utcnow
from infra.assessment_report import FORMATS


def audit(
    year_or_verify: Annotated[
        str,
        typer.Argument(
            metavar="YEAR|verify|anchor|accept",
            help="A cycle's year for its history; [bold]verify[/bold] to check the whole "
            "log's integrity (exit 1 and where, if a record was altered, deleted or "
            "reordered); [bold]anchor[/bold] to print the head (SEQ:HASH) to keep outside "
            "the database; [bold]accept[/bold] to take rows changed outside the program as "
            "they stand, once checked (--row, --actor, --reason).",
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
    anchors: Annotated[
        list[str] | None,
        typer.Option(
            "--anchor",
            metavar="SEQ:HASH",
            help="With verify: an anchor printed earlier by [bold]audit anchor[/bold]; the "
            "log must still hold exactly the records up to SEQ it held then (repeat for "
            "several anchors: a rewrite is then placed between the last that holds and "
            "the first that does not).",
        ),
    ] = None,
    rows: Annotated[
        list[str] | None,
        typer.Option(
            "--row",
            metavar="TABLE:KEY",
            help="With accept: a row as [bold]audit verify[/bold] names it, e.g. "
            "cycle_settings:[2026] (repeat for several).",
        ),
    ] = None,
    actor: Annotated[
        str | None, typer.Option("--actor", metavar="NAME", help="With accept: who checked.")
    ] = None,
    reason: Annotated[
        str | None,
        typer.Option("--reason", metavar="TEXT", help="With accept: what was checked, and why."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """A cycle's whole story, [bold]audit verify[/bold], [bold]audit anchor[/bold] or
    [bold]audit accept[/bold].

    The story in order — transitions (who, how, why, which flow run),
    applications received and refused, pairing decisions, messages by kind (queued, sent,
    failed), tasks (done, overdue). With --as-of, the
    cycle as it stood at that moment: its state, its counts and who was paired.

    [bold]audit anchor[/bold] prints the head (sequence and hash) once the whole log
    verifies: keep it outside the database (the yearly report, a mail to the committee
    list); [bold]audit verify --anchor SEQ:HASH[/bold] later proves the log still extends
    it, which catches even a rewrite whose hashes were all recomputed.

    [bold]audit accept --row TABLE:KEY --actor NAME --reason TEXT[/bold] seals rows that
    were changed outside the program as they stand, after someone checked them; the
    acceptance is itself an audit record (who, why, which rows)."""
    if rows and year_or_verify != "accept":
        raise typer.BadParameter("only `audit accept` takes rows", param_hint="--row")
    if anchors and year_or_verify != "verify":
        raise typer.BadParameter("only `audit verify` takes anchors", param_hint="--anchor")
    if year_or_verify == "verify":
        _verify([_anchor(text) for text in anchors or ()], as_json)
        return
    if year_or_verify == "anchor":
        _take_anchor(as_json)
        return
    if year_or_verify == "accept":
        if not rows:
            raise typer.BadParameter("name the rows to accept", param_hint="--row")
        accepted = audit_cases.accept_rows(
            uow(), rows, actor=actor or "", reason=reason or "", now=utcnow()
        )
        emit(
            accepted.as_dict(),
            as_json,
            lambda: say(
                f"accepted {', '.join(accepted.rows)} as they stand (audit record {accepted.seq})"
            ),
        )
        return
    try:
        year = checked_year(int(year_or_verify))
    except ValueError:
        raise typer.BadParameter(
            f"{year_or_verify!r}: give a year (2026), 'verify', 'anchor' or 'accept'"
        ) from None
    if fmt not in ("text", "md", "html", "json"):
        raise typer.BadParameter(f"{fmt!r}: choose text, md, html or json", param_hint="--format")
    moment = parse_when(as_of, lambda: cycle_zone(year))
    told = story(uow(), year, moment)
    print_story(told, "json" if as_json else fmt)


def _anchor(text: str) -> Anchor:
    try:
        return Anchor.parse(text)
    except InvalidAnchor as refusal:
        raise typer.BadParameter(
            f"{refusal} (as `mentoring audit anchor` prints it)", param_hint="--anchor"
        ) from None


def _verify(anchors: list[Anchor], as_json: bool) -> None:
    check = audit_cases.verify(uow(), anchors)
    emit(check.as_dict(), as_json, lambda: _print_check(check))
    if not check.ok:
        raise typer.Exit(1)


def _print_check(check: audit_cases.AuditCheck) -> None:
    if check.ok:
        held = f"; it extends anchor {', '.join(map(str, check.anchors))}" if check.anchors else ""
        say(f"audit log intact: {check.records} records{held}")
    else:
        lines = (f"[red]TAMPERED[/red] {escape(str(p))}" for p in check.problems)
        out.print("\n".join(lines), soft_wrap=True, highlight=False)


def _take_anchor(as_json: bool) -> None:
    taken = audit_cases.take_anchor(uow())
    emit(taken.as_dict(), as_json, lambda: _print_anchor(taken))
    if taken.anchor is None:
        raise typer.Exit(1)


def _print_anchor(taken: audit_cases.AnchorTaken) -> None:
    if taken.anchor is None:
        _print_check(taken.check)
        say("no anchor given: the log does not verify, and an anchor now would vouch for it")
        return
    when = f" (record {taken.anchor.seq}, {taken.at.isoformat()})" if taken.at else ""
    say(str(taken.anchor))
    say(
        f"the audit log's head{when}: keep this line outside the database (the yearly "
        "report, a mail to the committee list); `mentoring audit verify --anchor SEQ:HASH` "
        "proves the log still extends it"
    )


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
