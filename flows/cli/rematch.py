"""``mentoring repairing``: re-pairing after a withdrawal or a pair the committee ends.

Named ``rematch`` in code: the command's word, re-pairing, reads as "fixing" there.
"""

from collections.abc import Sequence
from typing import Annotated

import typer

from domain.offers import StoredOffer
from flows.cli.support import Actor, JsonOption, PlainTable, Reason, Year, emit, out, say, uow
from flows.usecases import rematch

repairing_app = typer.Typer(
    help="Re-pairing after a withdrawal or a pair the committee ends: offers, approval.",
    no_args_is_help=True,
)


def offers_table(offers: Sequence[StoredOffer], title: str) -> None:
    """Print re-pairing offers: who was left short, the new partner, the score and why."""
    table = PlainTable(
        "offer", "left short", "role", "new partner", "score", "why / reason", title=title
    )
    for o in offers:
        partner = o.mentor_id if o.role == "mentee" else o.mentee_id
        table.add_row(
            str(o.id),
            o.member_id,
            o.role,
            partner or "—",
            "—" if o.score is None else f"{o.score:g}",
            o.explanation or o.reason or "",
        )
    out.print(table)


@repairing_app.command("list")
def repairing_list(year: Year, as_json: JsonOption = False) -> None:
    """The open re-pairing offers: who was left short, the best new
    partner and why (or why nobody fits yet)."""
    result = rematch.open_offers(uow(), year)

    def human() -> None:
        if not result.offers:
            out.print(f"cycle {year} ({result.state}): no open re-pairing offers")
            return
        offers_table(result.offers, f"open re-pairing offers, cycle {year}")

    emit(result.as_dict(), as_json, human)


@repairing_app.command("end-pair")
def repairing_end_pair(
    year: Year,
    mentor: Annotated[str, typer.Argument(help="The pair's mentor (member id).")],
    mentee: Annotated[str, typer.Argument(help="The pair's mentee (member id).")],
    actor: Actor,
    reason: Reason,
    as_json: JsonOption = False,
) -> None:
    """End a pair that does not work (paired, orientation or active).

    Both partners are told and each gets a re-pairing offer, never with
    each other again."""
    result = rematch.end_pair(uow(), year, mentor, mentee, actor=actor, reason=reason)

    def human() -> None:
        say(result.message)
        if result.offers:
            offers_table(result.offers, f"re-pairing offers, cycle {year}")

    emit(result.as_dict(), as_json, human)


@repairing_app.command("approve")
def repairing_approve(
    year: Year,
    offer_id: Annotated[int, typer.Argument(help="The offer's id (`repairing list`).")],
    actor: Actor,
    as_json: JsonOption = False,
) -> None:
    """Approve a re-pairing offer: the pair becomes active and both
    partners are told.

    Approving it again changes nothing; a superseded offer is refused,
    naming the one that replaced it."""
    result = rematch.approve(uow(), year, offer_id, actor=actor)
    emit(result.as_dict(), as_json, lambda: say(result.message))
