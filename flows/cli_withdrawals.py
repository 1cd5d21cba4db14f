"""``mentoring applications withdraw`` and ``mentoring repairing``: withdrawals, pairs the
committee ends, and re-pairing offers. Same conventions as ``flows/cli.py``: ``--json``
prints one document on stdout and nothing else, refusals reach ``main()`` as domain errors.
"""

from typing import Annotated, Any

import typer
from rich.table import Table

from flows.cli_support import Actor, JsonOption, Year, emit, out
from flows.usecases import withdrawals
from infra.uow import UnitOfWork

repairing_app = typer.Typer(
    help="Re-pairing after a withdrawal or a pair the committee ends: offers, approval.",
    no_args_is_help=True,
)
Reason = Annotated[str, typer.Option("--reason", help="Why (recorded in the audit log).")]


def _offers_table(offers: list[dict[str, Any]], title: str) -> None:
    table = Table(
        "offer", "left short", "role", "new partner", "score", "why / reason", title=title
    )
    for o in offers:
        partner = o["mentor_id"] if o["role"] == "mentee" else o["mentee_id"]
        table.add_row(
            str(o["id"]),
            o["member_id"],
            o["role"],
            partner or "—",
            "—" if o["score"] is None else f"{o['score']:g}",
            o["explanation"] or o["reason"] or "",
        )
    out.print(table)


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
    result = withdrawals.withdraw(
        UnitOfWork.from_settings(), year, member_id, role=role, actor=actor, reason=reason
    )

    def human() -> None:
        out.print(result["message"])
        if result.get("offers"):
            _offers_table(result["offers"], f"re-pairing offers, cycle {year}")

    emit(result, as_json, human)


@repairing_app.command("list")
def repairing_list(year: Year, as_json: JsonOption = False) -> None:
    """The open re-pairing offers: who was left short, the best new
    partner and why (or why nobody fits yet)."""
    result = withdrawals.repairing_offers(UnitOfWork.from_settings(), year)

    def human() -> None:
        if not result["offers"]:
            out.print(f"cycle {year} ({result['state']}): no open re-pairing offers")
            return
        _offers_table(result["offers"], f"open re-pairing offers, cycle {year}")

    emit(result, as_json, human)


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
    result = withdrawals.end_pair(
        UnitOfWork.from_settings(), year, mentor, mentee, actor=actor, reason=reason
    )

    def human() -> None:
        out.print(result["message"])
        if result.get("offers"):
            _offers_table(result["offers"], f"re-pairing offers, cycle {year}")

    emit(result, as_json, human)


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
    result = withdrawals.approve_repairing(UnitOfWork.from_settings(), year, offer_id, actor=actor)
    emit(result, as_json, lambda: out.print(result["message"]))
