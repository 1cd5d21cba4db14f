"""``mentoring members``: the Core membership roster."""

import getpass

import typer

from flows.cli.support import (
    CsvFile,
    DryRun,
    ImportActor,
    JsonOption,
    emit,
    out,
    print_rejected,
    uow,
)
from flows.usecases import members as member_cases

members_app = typer.Typer(help="The Core membership roster.", no_args_is_help=True)


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
        print_rejected(result.rejected)

    emit(result.as_dict(), as_json, human)
