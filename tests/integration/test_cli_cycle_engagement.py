"""``mentoring cycle list`` shows each cycle's engagement once mentoring has begun, on both
databases: the report's figures and the committee's health view, counted the same way."""

from datetime import UTC, date, datetime

from domain.cycle_states import CycleEvent, Trigger
from domain.pairs import Pair
from flows.usecases import assessment, cycles, engagement
from flows.usecases.site_survey import SurveyAnswered, answer_survey
from infra.uow import UnitOfWork
from tests.builders import paired_cycle
from tests.cli import mentoring_here

YEAR = 2026
DEC_10 = datetime(2026, 12, 10, 18, tzinfo=UTC)
JAN_15 = datetime(2027, 1, 15, 18, tzinfo=UTC)
JULY_2 = datetime(2027, 7, 2, 12, tzinfo=UTC)


def fire(uow: UnitOfWork, event: CycleEvent, when: datetime) -> None:
    cycles.fire_event(uow, YEAR, event, actor="s", trigger=Trigger.schedule, now=when)


def mentoring_begun(uow: UnitOfWork) -> list[Pair]:
    """The sample cycle with mentoring begun, and a cycle after it still planned."""
    paired_cycle(uow)
    fire(uow, CycleEvent.start_orientation, datetime(2026, 11, 20, 12, tzinfo=UTC))
    fire(uow, CycleEvent.start_mentoring, datetime(2026, 12, 1, 12, tzinfo=UTC))
    cycles.create_cycle(uow, YEAR + 1, timezone="America/Chicago", milestones={}, actor="s")
    with uow:
        return uow.pairings.approved_pairs(YEAR)


def test_cycle_list_shows_engagement_once_mentoring_has_begun(
    uow: UnitOfWork, database_url: str
) -> None:
    pairs = mentoring_begun(uow)
    assert len(pairs) >= 3
    met, flagged = pairs[0], pairs[1]
    engagement.set_goals(uow, YEAR, met.mentee_id, ["Lead a project"], pair_id=met.id, now=DEC_10)
    for day, when in ((date(2026, 12, 8), DEC_10), (date(2027, 1, 12), JAN_15)):
        engagement.log_meeting(
            uow, YEAR, met.mentor_id, pair_id=met.id, met_on=day, minutes=40, mode="video", now=when
        )
    engagement.check_in(
        uow,
        YEAR,
        met.mentee_id,
        pair_id=met.id,
        met="yes",
        score="4",
        contact_committee="no",
        now=JAN_15,
    )
    low = engagement.check_in(
        uow,
        YEAR,
        flagged.mentor_id,
        pair_id=flagged.id,
        met="no",
        score="1",
        contact_committee="no",
        now=JAN_15,
    )
    assert low.flagged

    listed = mentoring_here("cycle", "list", "--json")
    assert listed.code == 0, listed.stderr
    by_year = {c["year"]: c for c in listed.json["cycles"]}
    assert by_year[YEAR + 1]["engagement"] is None, "planned: mentoring has not begun"
    figures = by_year[YEAR]["engagement"]
    assert (figures["pairs"], figures["pairs_met"], figures["meetings"]) == (len(pairs), 1, 2)
    assert (figures["flagged"], figures["goals_set"], figures["goals_met"]) == (1, 1, None)
    reported = assessment.report(uow, YEAR).engagement
    assert reported is not None
    assert {k: figures[k] for k in reported.as_dict()} == reported.as_dict(), "the report's"
    health = mentoring_here("pairs", "health", str(YEAR), "--json").json
    assert figures["flagged"] == sum(1 for p in health if p["flagged"])

    shown = mentoring_here("cycle", "list")
    assert shown.code == 0, shown.stderr
    engaged_rows = shown.stdout.split("engagement since mentoring began")[1].splitlines()
    (row,) = [line for line in engaged_rows if line.startswith(f"│ {YEAR}")]
    assert [cell.strip() for cell in row.strip("│").split("│")] == [
        str(YEAR),
        f"1 of {len(pairs)}",
        "2",
        f"{figures['met_every_month_share']:.0%}",
        "1",
        f"1 of {len(pairs)}",
        "—",
    ], "one row for the cycle whose mentoring has begun, none for the planned one"

    fire(uow, CycleEvent.end_mentoring, JULY_2)
    answers = {"overall": "4", "goals_met": "3", "would_recommend": "yes", "will_continue": "no"}
    said = answer_survey(uow, YEAR, met.mentee_id, "mentee", answers, now=JULY_2)
    assert isinstance(said, SurveyAnswered)
    after = {c["year"]: c for c in mentoring_here("cycle", "list", "--json").json["cycles"]}
    assert after[YEAR]["state"] == "ended" and after[YEAR]["engagement"]["goals_met"] == 3.0
