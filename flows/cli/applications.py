"""``mentoring applications``: list and import applications to a cycle, withdraw a
participant."""

import getpass
from typing import Annotated

import typer

from domain.time_words import moment_words
from flows.cli.rematch import offers_table
from flows.cli.support import (
    Actor,
    CsvFile,
    DryRun,
    ImportActor,
    JsonOption,
    PlainTable,
    Reason,
    Year,
    emit,
    few,
    out,
    print_lines,
    print_rejected,
    say,
    uow,
)
from flows.usecases import applications as application_cases
from flows.usecases import withdrawing
from infra.form_mapping import load_mapping

applications_app = typer.Typer(help="Applications to a cycle.", no_args_is_help=True)


@applications_app.command("list")
def applications_list(year: Year, as_json: JsonOption = False) -> None:
    """List every application to cycle YEAR.

    For each: the member, the role, what became of it (received, paired, on the
    waiting list, not paired, withdrawn), when it was submitted (in the cycle's
    time zone) and through what (the site or an import)."""
    listing = application_cases.list_applications(uow(), year)

    def human() -> None:
        if not listing.applications:
            say(f"cycle {year} has no applications")
            return
        table = PlainTable(
            "member",
            "name",
            "role",
            "state",
            "submitted",
            "through",
            title=f"cycle {year}: {len(listing.applications)} application(s)",
        )
        for a in listing.applications:
            table.add_row(
                a.member_id,
                a.name,
                a.role,
                a.state_words,
                moment_words(a.submitted_at, listing.time_zone, with_year=True),
                a.source,
            )
        out.print(table)

    emit(listing.as_list(), as_json, human)


@applications_app.command("withdraw")
def applications_withdraw(
    year: Year,
    member_id: Annotated[str, typer.Argument(help="The participant's Core member id.")],
    actor: Actor,
    reason: Reason,
    role: Annotated[
        str | None,
        typer.Option(
            "--role",
            metavar="mentor|mentee",
            help="For a participant who applied as both: withdraw from this role only.",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Withdraw MEMBER_ID from cycle YEAR (call_open to the end of mentoring).

    Before pairing, the next proposal leaves the application out.
    After approval, the member's pairs are dissolved (a mentor's other
    pairs stay) and the committee is told; once pairings are announced,
    each partner left is told and gets a re-pairing offer
    (`mentoring repairing list YEAR`). Withdrawing again changes nothing."""
    result = withdrawing.withdraw(uow(), year, member_id, role=role, actor=actor, reason=reason)

    def human() -> None:
        say(result.message)
        if result.offers:
            offers_table(result.offers, f"re-pairing offers, cycle {year}")

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
        replaced = sorted(set(result.replaced))
        out.print(
            f"{verb} {result.imported} application(s); rejected {len(result.rejected)}"
            + (f"; replaced {len(replaced)} earlier ones ({few(replaced)})" if replaced else ""),
            markup=False,
            highlight=False,
        )
        print_rejected(result.rejected)
        print_lines(result.warnings, "warning", "yellow")

    emit(result.as_dict(), as_json, human)
