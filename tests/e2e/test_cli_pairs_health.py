"""``mentoring pairs health YEAR``: the pairs, flagged first, in the committee's words or
as a JSON list, never a note; and the flow the flag triggers tells the committee once."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from domain.cycle_states import CycleEvent, Trigger
from domain.pairs import Pair
from flows.pair_attention import announce_needs_attention, tell_the_committee_about_a_pair
from flows.usecases import cycles, engagement
from infra.tables import MessageRow
from infra.uow import UnitOfWork
from tests.builders import paired_cycle
from tests.cli import mentoring

YEAR = 2026
JAN_15 = datetime(2027, 1, 15, 18, tzinfo=UTC)
SECRET = "private words about my manager"


def flagged_cycle(uow: UnitOfWork) -> tuple[Pair, Pair]:
    """Mentoring under way; the first pair logged a meeting, the last one checked in low."""
    paired_cycle(uow)
    for event, when in (
        (CycleEvent.start_orientation, datetime(2026, 11, 20, 12, tzinfo=UTC)),
        (CycleEvent.start_mentoring, datetime(2026, 12, 1, 12, tzinfo=UTC)),
    ):
        cycles.fire_event(uow, YEAR, event, actor="s", trigger=Trigger.schedule, now=when)
    with uow:
        pairs = uow.pairings.approved_pairs(YEAR)
    busy, quiet = pairs[0], pairs[-1]
    engagement.log_meeting(
        uow, YEAR, busy.mentor_id, pair_id=busy.id, met_on="2027-01-12", minutes=50,
        mode="video", note=SECRET, now=JAN_15,
    )  # fmt: skip
    result = engagement.check_in(
        uow, YEAR, quiet.mentee_id, pair_id=quiet.id, met=False, score=2,
        contact_committee=True, now=JAN_15,
    )  # fmt: skip
    assert result.flagged
    return busy, quiet


def test_health_lists_flagged_pairs_first_as_json_without_notes(uow: UnitOfWork) -> None:
    busy, quiet = flagged_cycle(uow)
    run = mentoring("pairs", "health", str(YEAR), "--json")
    assert run.code == 0, run.stderr
    pairs = run.json
    assert isinstance(pairs, list) and pairs[0]["pair_id"] == quiet.id
    assert pairs[0]["flagged"] and pairs[0]["last_score"] == 2
    assert "a partner asked the committee to get in touch" in pairs[0]["reasons"]
    row = next(p for p in pairs if p["pair_id"] == busy.id)
    assert (row["meetings"], row["last_meeting"], row["flagged"]) == (1, "2027-01-12", False)
    assert SECRET not in run.stdout


def test_health_speaks_the_committee_s_words(uow: UnitOfWork) -> None:
    flagged_cycle(uow)
    run = mentoring("pairs", "health", str(YEAR))
    assert run.code == 0, run.stderr
    assert "pairs need the committee's attention" in run.stdout
    assert "December 2026:" in run.stdout and SECRET not in run.stdout
    missing = mentoring("pairs", "health", "2031", "--json")
    assert missing.code == 1 and missing.stderr.count("\n") == 1
    assert missing.json["error"].startswith("error: there is no cycle 2031")


def test_the_flag_s_flow_tells_the_committee_once_with_a_re_pairing_proposal(
    uow: UnitOfWork,
) -> None:
    _, quiet = flagged_cycle(uow)
    assert announce_needs_attention(
        YEAR, quiet.id, ["a partner asked the committee to get in touch"]
    )
    first = tell_the_committee_about_a_pair(YEAR, quiet.id, now=JAN_15)
    second = tell_the_committee_about_a_pair(YEAR, quiet.id)
    assert (first["messages"], second["messages"]) == (1, 0)
    assert len(first["proposals"]) == 2
    with uow:
        [mail] = uow.session.scalars(
            select(MessageRow).where(MessageRow.key.contains("/attention-"))
        ).all()
    assert "If the pair ends" in mail.text_body and SECRET not in mail.text_body
    assert mail.queued_at == JAN_15 and " by Jan 18: " in mail.text_body, "dated by its now"


def test_without_a_prefect_server_the_site_skips_the_event_instead_of_starting_one(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: None}):
        assert not announce_needs_attention(YEAR, 7, ["the check-in scored 2 of 5"])
    assert "no PREFECT_API_URL, so no event was sent" in caplog.text
