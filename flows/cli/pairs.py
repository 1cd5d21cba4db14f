"""``mentoring pairs``: how the pairs are doing once mentoring runs."""

import typer
from rich.text import Text

from flows.cli.support import JsonOption, PlainTable, Year, emit, out, say, uow
from flows.usecases import pair_health

pairs_app = typer.Typer(
    help="How the pairs are doing: meetings, check-ins, flags.", no_args_is_help=True
)


@pairs_app.command("health")
def pairs_health(year: Year, as_json: JsonOption = False) -> None:
    """Per pair: meetings logged, the last meeting, the last check-in's score and whether it
    needs the committee's attention (those first); then the share of pairs that met each
    month. No partner's note is shown."""
    health = pair_health.program_health(uow(), year)

    def human() -> None:
        if not health.pairs:
            say(f"cycle {year} has no pairs yet")
            return
        table = PlainTable(
            "mentor", "mentee", "meetings", "last meeting", "last score", "goals", "attention",
            title=f"how the pairs of cycle {year} are doing",
        )  # fmt: skip
        for p in health.pairs:
            table.add_row(
                f"{p.mentor_name} ({p.mentor_id})",
                f"{p.mentee_name} ({p.mentee_id})",
                str(p.meetings),
                p.last_meeting.isoformat() if p.last_meeting else "none yet",
                "—" if p.last_score is None else f"{p.last_score} of 5",
                "set" if p.goals_set else "not yet",
                Text("; ".join(p.reasons), style="red") if p.flagged else Text("fine"),
            )
        out.print(table)
        flagged = sum(1 for p in health.pairs if p.flagged)
        say(f"{flagged} of {len(health.pairs)} pairs need the committee's attention")
        for month in health.months:
            say(pair_health.health_words(month))

    emit([p.as_dict() for p in health.pairs], as_json, human)
