"""``mentoring pairings``: propose the optimal pairing set, review, edit, approve, export."""

import getpass
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from flows.cli.output_files import output_file
from flows.cli.support import (
    Actor,
    JsonOption,
    OptionalActor,
    PlainTable,
    Year,
    emit,
    out,
    say,
    uow,
)
from flows.usecases import pairings as pairing_cases
from flows.usecases.matching_settings import set_matching
from flows.usecases.pairing_export import export

pairings_app = typer.Typer(
    help="Pairing mentors with mentees: propose the optimal set, review, edit, approve.",
    no_args_is_help=True,
)


@pairings_app.command("propose")
def pairings_propose(year: Year, actor: OptionalActor = "", as_json: JsonOption = False) -> None:
    """Compute the optimal pairing set and keep it as the proposal.

    Maximum total score, then most mentees paired, around the committee's fixed and blocked
    pairs."""
    proposed = pairing_cases.propose(uow(), year, actor=actor or getpass.getuser())

    def human() -> None:
        table = PlainTable(
            "mentor", "mentee", "score", "why", title=f"proposed pairs, cycle {year}"
        )
        for p in proposed.pairs:
            table.add_row(
                p.mentor_id,
                p.mentee_id + (" (fixed)" if p.fixed else ""),
                f"{p.score:.2f}",
                p.explanation,
            )
        out.print(table)
        for u in proposed.unmatched:
            out.print(
                f"[yellow]unmatched {u.role} {escape(u.member_id)}[/yellow]: {escape(u.reason)}",
                soft_wrap=True,
            )
        out.print(
            f"{len(proposed.pairs)} pairs, total score {proposed.total_score:.2f}; approve "
            f"with `mentoring pairings approve {year} --actor NAME`"
        )

    emit(proposed.as_dict(), as_json, human)


@pairings_app.command("candidates")
def pairings_candidates(year: Year, as_json: JsonOption = False) -> None:
    """Every allowed (mentor, mentee) pair with its score, and each mentor's capacity."""
    found = pairing_cases.candidates(uow(), year)
    emit(
        found.as_dict(),
        as_json,
        lambda: out.print(
            f"{len(found.edges)} allowed pairs among {len(found.capacities)} mentors "
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
    result = pairing_cases.edit(
        uow(), year, kind=kind, mentor_id=mentor_id, mentee_id=mentee_id, actor=actor
    )
    say(
        f"{result.summary}; run `mentoring pairings propose {year}` to re-solve"
        if result.changed
        else result.message
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
    result = set_matching(
        uow(), year, actor=actor, weights=weights, allow_same_institution=same_institution
    ).as_dict()
    emit(result, as_json, lambda: out.print(result))


@pairings_app.command("approve")
def pairings_approve(year: Year, actor: Actor, as_json: JsonOption = False) -> None:
    """Approve the current proposal; `announce_pairings` may then fire on its date."""
    result = pairing_cases.approve(uow(), year, actor=actor)
    emit(result.as_dict(), as_json, lambda: say(result.message))


@pairings_app.command("export")
def pairings_export(
    year: Year,
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the CSV.")] = Path(
        "pairs.csv"
    ),
) -> None:
    """Write the approved pairs as CSV (names, emails, institutions, score, explanation).

    The file is replaced only once written in full."""
    with output_file(output) as target:
        written = export(uow(), year, target)
    out.print(
        f"wrote {written.pairs} pairs to {output}", markup=False, highlight=False, soft_wrap=True
    )
