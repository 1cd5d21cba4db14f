"""``mentoring assessment``: import the July survey, report on it."""

import getpass
import sys
from pathlib import Path
from typing import Annotated

import typer

from flows.cli.output_files import output_file
from flows.cli.support import (
    DryRun,
    ImportActor,
    JsonOption,
    Year,
    emit,
    out,
    print_rejected,
    uow,
)
from flows.usecases import assessment as assessment_cases
from infra.assessment_report import check_format, render_report
from infra.form_mapping import load_mapping

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
        uow(),
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
        print_rejected(result.rejected)

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
    opens offline. With --output, the file is replaced only once written in full."""
    chosen = "json" if as_json else check_format(fmt)
    if output is None:
        sys.stdout.write(render_report(assessment_cases.report(uow(), year).as_dict(), chosen))
        return
    with output_file(output) as target:
        document = render_report(assessment_cases.report(uow(), year).as_dict(), chosen)
        target.write_text(document, encoding="utf-8")
    typer.echo(f"wrote {output}", err=True)
