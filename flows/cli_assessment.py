"""``mentoring assessment``: import the July survey, report on it; and the audit story's
printer for ``mentoring audit``. Same conventions as ``flows/cli.py``: ``--json`` prints
one document on stdout and nothing else, refusals reach ``main()`` as domain errors.
"""

import getpass
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from flows.cli_support import DryRun, ImportActor, JsonOption, Year, emit, out
from flows.usecases import assessment as assessment_cases
from flows.usecases.audit_story import render_story
from infra.assessment_report import FORMATS, check_format, render_report
from infra.form_mapping import load_mapping
from infra.uow import UnitOfWork

assessment_app = typer.Typer(
    help="The end-of-program assessment: import the survey responses, report on them.",
    no_args_is_help=True,
)
Format = Annotated[
    str,
    typer.Option("--format", "-f", metavar="md|html|json", help="The document's format."),
]


@assessment_app.command("import")
def assessment_import(
    year: Year,
    file: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, readable=True, help="The survey export."),
    ],
    mapping: Annotated[
        str | None,
        typer.Option(
            "--mapping",
            help="Column mapping for the survey tool's export: a shipped name "
            "(survey_tool_assessment) or a TOML file.",
        ),
    ] = None,
    dry_run: DryRun = False,
    actor: ImportActor = "",
    as_json: JsonOption = False,
) -> None:
    """Load the survey responses of cycle YEAR (the July survey window).

    Accepted while the cycle is [bold]ended[/bold]. Only the cycle's paired participants may
    answer, for the role they took part in; a later answer replaces an earlier one. Refused
    lines are listed with their line number (the header is line 1) and the reason."""
    result = assessment_cases.import_responses(
        UnitOfWork.from_settings(),
        year,
        file,
        actor=actor or getpass.getuser(),
        mapping=load_mapping(mapping) if mapping else None,
        dry_run=dry_run,
    )

    def human() -> None:
        verb = "would import" if dry_run else "imported"
        out.print(
            f"{verb} {result.imported} response(s); replaced {result.replaced}; "
            f"rejected {len(result.rejected)}"
        )
        for r in result.rejected:
            out.print(f"[red]line {r['line']}[/red]: {r['reason']}", highlight=False)

    emit(result.as_dict(), as_json, human)


@assessment_app.command("report")
def assessment_report(
    year: Year,
    fmt: Format = "md",
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the document here instead of stdout."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """The cycle's assessment report, in md, html or json.

    Response rates (overall and by role), each question's answers, means, who will go on
    meeting, the comments (never attributed) and the trend across cycles. HTML has charts and
    opens offline."""
    document = render_report(
        assessment_cases.report(UnitOfWork.from_settings(), year),
        "json" if as_json else check_format(fmt),
    )
    if output is None:
        sys.stdout.write(document)
        return
    output.write_text(document, encoding="utf-8")
    typer.echo(f"wrote {output}", err=True)


def print_story(data: dict[str, Any], fmt: str) -> None:
    """Print the audit story: ``text`` (tables for the terminal), or md, html or json."""
    if fmt in FORMATS:
        sys.stdout.write(render_story(data, fmt))
    else:
        _story_tables(data)


def _story_tables(data: dict[str, Any]) -> None:
    when = f" as of {data['as_of']}" if data["as_of"] else ""
    table = Table(
        "at (UTC)",
        "event",
        "now",
        "by",
        "reason / flow run",
        title=f"cycle {data['year']}{when}: {data['state']}",
    )
    for t in data["transitions"]:
        extra = " ".join(x for x in (t["reason"], t["flow_run_id"]) if x)
        table.add_row(
            t["at"][:16], t["event"], t["target"], f"{t['actor']} ({t['trigger']})", extra
        )
    out.print(table)
    apps = data["applications"]
    out.print(
        f"applications: {apps['received']} received, {apps['imported']} accepted, "
        f"{apps['refused']} refused"
    )
    for d in data["pairing_decisions"]:
        out.print(f"{d['at'][:16]}  {d['decision']} by {d['actor']}: {d['summary']}")
    if data["paired"]:
        out.print(f"paired{when}: {data['paired']['pairs']} pairs (list with --json)")
    messages = Table("message", "queued", "sent", "failed", "pending", title="messages")
    for kind, m in data["messages"]["by_kind"].items():
        failed = "—" if m["failed"] is None else str(m["failed"])
        messages.add_row(kind, str(m["queued"]), str(m["sent"]), failed, str(m["pending"]))
    out.print(messages)
    tasks = data["tasks"]["total"]
    out.print(
        f"tasks at {data['tasks']['at'][:16]}: {tasks['created']} created, {tasks['done']} "
        f"done, {tasks['overdue']} overdue, {tasks['open']} open"
    )
