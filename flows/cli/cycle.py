"""``mentoring cycle``: create, inspect, reschedule and advance the annual cycles."""

import getpass
from dataclasses import asdict
from typing import Annotated

import typer

from domain.calendar import DEFAULT_TIMEZONE
from domain.cycle_states import CycleEvent, Trigger
from flows.cli.support import (
    Actor,
    JsonOption,
    OptionalActor,
    PlainTable,
    Year,
    emit,
    event_help,
    out,
    say,
    uow,
    with_milestone_options,
)
from flows.usecases import assessment as assessment_cases
from flows.usecases import cycles as cycle_cases
from flows.usecases import program as program_cases
from flows.usecases.engagement_figures import CycleEngagement, cycle_engagement

cycle_app = typer.Typer(help="Annual cycles: create, inspect, advance.", no_args_is_help=True)


@cycle_app.command("create")
@with_milestone_options
def cycle_create(
    year: Year,
    timezone: Annotated[
        str, typer.Option("--timezone", help="The committee's IANA time zone.")
    ] = DEFAULT_TIMEZONE,
    actor: Annotated[str, typer.Option("--actor", help="Who creates the cycle.")] = "",
    as_json: JsonOption = False,
    milestones: dict[CycleEvent, str] | None = None,
) -> None:
    """Create the cycle for YEAR in state [bold]planned[/bold].

    The default calendar (call opens Aug 1, closes Sep 30, pairings Nov 5, orientation Nov 20,
    mentoring Dec 1 → Jun 30, assessment closes Aug 1). Move any milestone with its option."""
    creation = cycle_cases.create_cycle(
        uow(),
        year,
        timezone=timezone,
        milestones=milestones or {},
        actor=actor or getpass.getuser(),
    )
    summary = cycle_cases.describe(uow(), year)
    emit(
        {**creation.as_dict(), **summary.as_dict()},
        as_json,
        lambda: _show(summary, creation.message),
    )


@cycle_app.command("reschedule")
@with_milestone_options
def cycle_reschedule(
    year: Year,
    actor: Actor,
    as_json: JsonOption = False,
    milestones: dict[CycleEvent, str] | None = None,
) -> None:
    """Move milestones that have not passed yet (the change is audited)."""
    cycle_cases.reschedule(uow(), year, milestones or {}, actor=actor)
    summary = cycle_cases.describe(uow(), year)
    emit(summary.as_dict(), as_json, lambda: _show(summary, f"cycle {year}: calendar updated"))


@cycle_app.command("list")
def cycle_list(as_json: JsonOption = False) -> None:
    """Every cycle, past and present, with its state and outcome.

    The outcome: pairs still active at the end, completion, the assessment's response rate and
    mean overall score. Once mentoring has begun, the pairs' engagement too: pairs that logged
    a meeting, meetings logged, pairs that met every month so far, flagged pairs, pairs that
    set goals and the survey's mean "goals met" ([bold]engagement[/bold] in --json, null
    before mentoring begins)."""
    views = cycle_cases.list_all(uow())
    outcomes = {o.year: o for o in assessment_cases.cycle_outcomes(uow())}
    engaged = cycle_engagement(uow())
    rows = [
        {
            **c.as_dict(),
            "outcome": {
                k: v for k, v in outcomes[c.year].as_dict().items() if k not in ("year", "state")
            },
            "engagement": engaged[c.year].as_dict() if c.year in engaged else None,
        }
        for c in views
    ]

    def human() -> None:
        table = PlainTable(
            "year", "state", "next milestone", "pairs", "completion", "response rate", "overall"
        )
        for c in views:
            upcoming = next(iter(c.allowed_events), "")
            o = outcomes[c.year]
            table.add_row(
                str(c.year),
                str(c.state),
                f"{upcoming} {c.calendar.get(upcoming, '')}".strip(),
                str(o.pairs),
                _percent(o.completion),
                _percent(o.response_rate),
                "—" if o.mean_overall is None else f"{o.mean_overall:.2f} / 5",
            )
        out.print(table if views else "no cycles yet: `mentoring cycle create YEAR`")
        if engaged:
            out.print(_engagement_table(list(engaged.values())))

    emit({"cycles": rows}, as_json, human)


def _engagement_table(engaged: list[CycleEngagement]) -> PlainTable:
    """Once mentoring has begun: how the pairs took part, one narrow row a cycle."""
    table = PlainTable(
        "year",
        "pairs met",
        "meetings",
        "met monthly",
        "flagged",
        "goals set",
        "goals met",
        title="engagement since mentoring began",
        caption="pairs met: logged a meeting; met monthly: met every month so far; "
        "goals met: the survey's mean (1–5)",
    )
    for e in engaged:
        table.add_row(
            str(e.year),
            f"{e.pairs_met} of {e.pairs}",
            str(e.figures.meetings),
            _percent(e.met_every_month_share),
            str(e.flagged),
            f"{e.figures.goals_set} of {e.pairs}",
            "—" if e.goals_met is None else f"{e.goals_met:.2f} / 5",
        )
    return table


def _percent(share: float | None) -> str:
    return "—" if share is None else f"{share:.0%}"


@cycle_app.command("program")
def cycle_program(
    year: Year,
    actor: OptionalActor = "",
    orientation_at: Annotated[
        str | None,
        typer.Option(
            help="When the orientation session starts, e.g. 2026-11-20T13:00 (the cycle's "
            "time zone unless an offset is given). Default: 1 pm on the orientation date."
        ),
    ] = None,
    orientation_minutes: Annotated[
        int | None, typer.Option(help="How long the orientation session lasts (15-480).")
    ] = None,
    orientation_join_url: Annotated[
        str | None, typer.Option(help="The orientation's video-call link.")
    ] = None,
    committee_email: Annotated[
        str | None, typer.Option(help="Where participants write to the committee.")
    ] = None,
    apply_url: Annotated[str | None, typer.Option(help="The application form.")] = None,
    checkin_url: Annotated[str | None, typer.Option(help="The monthly check-in form.")] = None,
    survey_url: Annotated[str | None, typer.Option(help="The assessment survey.")] = None,
    call_list_address: Annotated[
        str | None,
        typer.Option(
            help="Send the call for applications to this list address instead of to each "
            "current Core member."
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Show or set the cycle's program details that messages use.

    Without options, shows them (defaults filled in). With options, changes them (audited);
    the orientation's details are refused once the invitation has gone out, the call list
    once the call has.
    """
    given = {
        "orientation_at": orientation_at,
        "orientation_minutes": orientation_minutes,
        "orientation_join_url": orientation_join_url,
        "committee_email": committee_email,
        "apply_url": apply_url,
        "checkin_url": checkin_url,
        "survey_url": survey_url,
        "call_list_address": call_list_address,
    }
    values = {k: v for k, v in given.items() if v is not None}
    if values:
        result = program_cases.set_details(uow(), year, values, actor=actor or getpass.getuser())
    else:
        result = program_cases.details(uow(), year)
    shown = asdict(result)

    def human() -> None:
        table = PlainTable("detail", "value", title=f"cycle {year}: program details")
        for name, value in shown.items():
            table.add_row(name, "—" if value is None else str(value))
        out.print(table)

    emit(shown, as_json, human)


@cycle_app.command("show")
def cycle_show(year: Year, as_json: JsonOption = False) -> None:
    """A cycle's state, calendar and the events allowed now."""
    summary = cycle_cases.describe(uow(), year)
    emit(summary.as_dict(), as_json, lambda: _show(summary, None))


@cycle_app.command(
    "advance",
    help="Fire one EVENT on the cycle, exactly as the Prefect flow "
    "does. A milestone not yet due needs --reason.\n\n" + event_help(),
)
def cycle_advance(
    year: Year,
    event: Annotated[CycleEvent, typer.Argument(help="The event to fire (see below).")],
    actor: Actor,
    reason: Annotated[
        str | None,
        typer.Option(help="Why (required to cancel or to fire before the milestone's date)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    result = cycle_cases.fire_event(
        uow(), year, event, actor=actor, trigger=Trigger.cli, reason=reason
    )
    emit(result.as_dict(), as_json, lambda: say(result.message))


def _show(summary: cycle_cases.CycleView, message: str | None) -> None:
    if message:
        say(message)
    table = PlainTable("milestone", "due", title=f"cycle {summary.year}: {summary.state}")
    for event, at in summary.calendar.items():
        table.add_row(event, at)
    out.print(table)
    out.print(f"allowed now: {', '.join(summary.allowed_events) or 'none (final)'}")
