"""After pairing, on both databases: goals, meetings, check-ins and continuing answers go
through the use cases as audited facts with the member as actor, close the tasks that
asked for them, are refused to anyone outside the pair, never show one partner's words to
the other or a note to the committee, and are sealed against outside edits."""

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select, text

from domain.cycle_states import CycleEvent, Trigger
from domain.engagement import NOT_IN_PAIR, goals_task_key, goals_tasks
from domain.errors import DomainError
from domain.pairs import Pair
from flows.usecases import assessment, audit, cycles, engagement
from flows.usecases.pair_attention import tell_the_committee
from infra import db
from infra.assessment_report import render_report
from infra.tables import AuditRow, MessageRow, TaskRow
from infra.uow import UnitOfWork
from tests.builders import paired_cycle

YEAR = 2026
DEC_1 = datetime(2026, 12, 1, 12, tzinfo=UTC)
JAN_15 = datetime(2027, 1, 15, 18, tzinfo=UTC)
FEB_16 = datetime(2027, 2, 16, 18, tzinfo=UTC)
JULY_2 = datetime(2027, 7, 2, 12, tzinfo=UTC)
SECRET = "we talked about my manager"


def active_cycle(uow: UnitOfWork) -> list[Pair]:
    """The sample cycle with mentoring begun; its pairs."""
    paired_cycle(uow)
    for event, when in (
        (CycleEvent.start_orientation, datetime(2026, 11, 20, 12, tzinfo=UTC)),
        (CycleEvent.start_mentoring, DEC_1),
    ):
        cycles.fire_event(uow, YEAR, event, actor="s", trigger=Trigger.schedule, now=when)
    with uow:
        pairs = uow.pairings.approved_pairs(YEAR)
    asked = tasks(uow, "/goals/")  # start_mentoring asks each participant for the goals
    assert set(asked) == {spec.key for spec in goals_tasks(YEAR, DEC_1, [p.members for p in pairs])}
    return pairs


def tasks(uow: UnitOfWork, contains: str) -> dict[str, TaskRow]:
    with uow:
        rows = uow.session.scalars(select(TaskRow).where(TaskRow.key.contains(contains)))
        return {r.key: r for r in rows}


def records(uow: UnitOfWork, kind: str) -> list[dict[str, Any]]:
    with uow:
        rows = uow.session.scalars(
            select(AuditRow).where(AuditRow.kind == kind).order_by(AuditRow.seq)
        ).all()
        return [dict(row.fields, actor=row.actor) for row in rows]


def outsider(pairs: list[Pair], pair: Pair) -> str:
    return next(m for p in pairs for m in p.members if m not in pair.members)


def test_setting_goals_closes_both_partners_goal_tasks_and_is_audited(uow: UnitOfWork) -> None:
    pairs = active_cycle(uow)
    pair = pairs[0]
    mine = engagement.pairs_of_member(uow, YEAR, pair.mentee_id)
    assert pair.id in [p.pair_id for p in mine]
    result = engagement.set_goals(
        uow, YEAR, pair.mentee_id, ["Plan a budget", "Lead a project"], pair_id=pair.id, now=DEC_1
    )
    assert (result.goals, result.replaced, result.tasks_closed) == (
        ("Plan a budget", "Lead a project"),
        False,
        2,
    )
    closed = tasks(uow, "/goals/")
    for role in ("mentor", "mentee"):
        row = closed[goals_task_key(YEAR, role, pair.mentor_id, pair.mentee_id)]
        assert row.done_at is not None and row.done_by == f"{pair.mentee_id} (goals set)"
    again = engagement.set_goals(
        uow, YEAR, pair.mentor_id, ["Lead a project"], pair_id=pair.id, now=DEC_1
    )
    assert again.replaced
    log = engagement.pair_log(uow, YEAR, pair.mentee_id, pair.id)
    assert log.goals == ("Lead a project",)
    [first, second] = records(uow, "goals_set")
    assert (first["actor"], first["trigger"], first["pair_id"]) == (pair.mentee_id, "site", pair.id)
    assert second["actor"] == pair.mentor_id
    assert audit.verify(uow).problems == []


def test_a_meeting_closes_the_month_s_check_in_and_the_first_meeting(uow: UnitOfWork) -> None:
    pairs = active_cycle(uow)
    pair = pairs[0]
    logged = engagement.log_meeting(
        uow, YEAR, pair.mentor_id, pair_id=pair.id, met_on="2027-01-14", minutes="45",
        mode="video", note=SECRET, now=JAN_15,
    )  # fmt: skip
    assert logged.tasks_closed == 2
    suffix = f"/{pair.mentor_id}/{pair.mentee_id}"
    january = tasks(uow, f"/check-in/2027-01{suffix}")
    first = tasks(uow, f"/first-meeting{suffix}")
    december = tasks(uow, f"/check-in/2026-12{suffix}")
    assert all(t.done_at is not None for t in [*january.values(), *first.values()])
    assert all(t.done_at is None for t in december.values())
    [record] = records(uow, "meeting_logged")
    assert (record["actor"], record["trigger"], record["met_on"]) == (
        pair.mentor_id,
        "site",
        "2027-01-14",
    )
    assert SECRET not in json.dumps(record), "a note never goes into the audit log"


def test_a_partner_sees_their_own_note_and_check_ins_only(uow: UnitOfWork) -> None:
    pairs = active_cycle(uow)
    pair = pairs[0]
    engagement.log_meeting(
        uow, YEAR, pair.mentor_id, pair_id=pair.id, met_on=date(2027, 1, 14), minutes=45,
        mode="call", note=SECRET, now=JAN_15,
    )  # fmt: skip
    engagement.check_in(
        uow, YEAR, pair.mentor_id, pair_id=pair.id, met=True, score=4,
        contact_committee=False, now=JAN_15,
    )  # fmt: skip
    writer = engagement.pair_log(uow, YEAR, pair.mentor_id, pair.id)
    other = engagement.pair_log(uow, YEAR, pair.mentee_id, pair.id)
    assert [m.note for m in writer.meetings] == [SECRET]
    assert [m.note for m in other.meetings] == [None]
    assert [m.minutes for m in other.meetings] == [45]
    assert [c.score for c in writer.own_check_ins] == [4]
    assert other.own_check_ins == ()


def test_a_low_check_in_flags_the_pair_and_asks_the_committee(uow: UnitOfWork) -> None:
    pairs = active_cycle(uow)
    pair = pairs[0]
    result = engagement.check_in(
        uow, YEAR, pair.mentee_id, pair_id=pair.id, met="yes", score="2",
        contact_committee="no", now=JAN_15,
    )  # fmt: skip
    assert (result.flagged, result.reasons, result.month) == (
        True,
        ("a partner scored how it is going 2 of 5",),
        "2027-01",
    )
    suffix = f"/{pair.mentor_id}/{pair.mentee_id}"
    [task] = tasks(uow, f"/attention/2027-01{suffix}").values()
    assert task.audience == "committee"
    assert task.title.startswith(f"Get in touch with {pair.mentor_id} and {pair.mentee_id}: ")
    assert all(t.done_at for t in tasks(uow, f"/check-in/2027-01{suffix}").values())
    [record] = records(uow, "checked_in")
    assert (record["actor"], record["flagged"], record["score"]) == (pair.mentee_id, True, 2)
    partner = engagement.check_in(
        uow, YEAR, pair.mentor_id, pair_id=pair.id, met=True, score=5,
        contact_committee=False, now=JAN_15,
    )  # fmt: skip
    assert partner.flagged, "the other partner's good month does not hide a low score"
    assert len(tasks(uow, f"/attention/2027-01{suffix}")) == 1, "one task a month"


def test_two_check_ins_without_meeting_flag_and_the_committee_is_told_once(
    uow: UnitOfWork,
) -> None:
    pairs = active_cycle(uow)
    pair = pairs[0]
    first = engagement.check_in(
        uow, YEAR, pair.mentee_id, pair_id=pair.id, met=False, score=3,
        contact_committee=False, now=JAN_15,
    )  # fmt: skip
    assert not first.flagged
    second = engagement.check_in(
        uow, YEAR, pair.mentee_id, pair_id=pair.id, met=False, score=3,
        contact_committee=True, now=FEB_16,
    )  # fmt: skip
    assert second.flagged and len(second.reasons) == 2
    told = tell_the_committee(uow, YEAR, pair.id, actor="flow", now=FEB_16)
    assert told.flagged and told.messages == 1
    assert len(told.proposals) == 2 and all(
        p.startswith("If the pair ends") for p in told.proposals
    )
    again = tell_the_committee(uow, YEAR, pair.id, actor="flow", now=FEB_16)
    assert again.messages == 0
    with uow:
        [mail] = uow.session.scalars(
            select(MessageRow).where(MessageRow.key.contains("attention-2027-02"))
        ).all()
    assert "no meeting in two check-ins in a row" in mail.text_body
    assert mail.to_address and mail.kind == "committee_notice"
    assert audit.verify(uow).problems == []


def test_another_member_is_refused_everywhere(uow: UnitOfWork) -> None:
    pairs = active_cycle(uow)
    pair = pairs[0]
    other = outsider(pairs, pair)
    calls: list[Callable[[], object]] = [
        lambda: engagement.set_goals(uow, YEAR, other, ["x"], pair_id=pair.id, now=JAN_15),
        lambda: engagement.log_meeting(
            uow,
            YEAR,
            other,
            pair_id=pair.id,
            met_on="2027-01-14",
            minutes=30,
            mode="call",
            note="",
            now=JAN_15,
        ),
        lambda: engagement.check_in(
            uow,
            YEAR,
            other,
            pair_id=pair.id,
            met=True,
            score=5,
            contact_committee=False,
            now=JAN_15,
        ),
        lambda: engagement.pair_log(uow, YEAR, other, pair.id),
        lambda: engagement.check_in(
            uow,
            YEAR,
            other,
            pair_id=999_999,
            met=True,
            score=5,
            contact_committee=False,
            now=JAN_15,
        ),
    ]
    for call in calls:
        with pytest.raises(DomainError, match=f"^{NOT_IN_PAIR}$"):
            call()
    assert records(uow, "meeting_logged") == [] and records(uow, "checked_in") == []


def test_the_health_view_lists_flagged_pairs_first_without_notes(uow: UnitOfWork) -> None:
    pairs = active_cycle(uow)
    quiet, busy = pairs[-1], pairs[0]
    engagement.log_meeting(
        uow, YEAR, busy.mentee_id, pair_id=busy.id, met_on="2027-01-10", minutes=60,
        mode="in_person", note=SECRET, now=JAN_15,
    )  # fmt: skip
    engagement.check_in(
        uow, YEAR, quiet.mentee_id, pair_id=quiet.id, met=False, score=1,
        contact_committee=False, now=JAN_15,
    )  # fmt: skip
    health = engagement.program_health(uow, YEAR, now=FEB_16)
    assert health.pairs[0].pair_id == quiet.id and health.pairs[0].flagged
    assert health.pairs[0].last_score == 1
    row = next(p for p in health.pairs if p.pair_id == busy.id)
    assert (row.meetings, row.last_meeting, row.flagged) == (1, date(2027, 1, 10), False)
    assert [m.month for m in health.months] == ["2026-12", "2027-01", "2027-02"]
    january = health.months[1]
    assert (january.pairs_met, january.pairs) == (1, len(pairs))
    dumped = json.dumps([p.as_dict() for p in health.pairs])
    assert SECRET not in dumped


def test_continuing_answers_and_engagement_reach_the_report_sealed(
    uow: UnitOfWork, database_url: str
) -> None:
    pairs = active_cycle(uow)
    pair = pairs[0]
    engagement.set_goals(uow, YEAR, pair.mentor_id, ["Grow"], pair_id=pair.id, now=DEC_1)
    engagement.log_meeting(
        uow, YEAR, pair.mentee_id, pair_id=pair.id, met_on="2027-01-10", minutes=60,
        mode="video", note=SECRET, now=JAN_15,
    )  # fmt: skip
    with pytest.raises(DomainError, match="once formal mentoring has ended"):
        engagement.say_whether_continuing(
            uow, YEAR, pair.mentee_id, pair_id=pair.id, continuing=True, now=JAN_15
        )
    cycles.fire_event(
        uow, YEAR, CycleEvent.end_mentoring, actor="s", trigger=Trigger.schedule, now=JULY_2
    )
    said = engagement.say_whether_continuing(
        uow, YEAR, pair.mentee_id, pair_id=pair.id, continuing=True, now=JULY_2
    )
    assert (said.continuing, said.replaced) == (True, False)
    report = assessment.report(uow, YEAR, now=JULY_2).as_dict()
    figures = report["engagement"]
    for fmt in ("md", "html"):
        rendered = render_report(report, fmt)
        assert "Engagement during mentoring" in rendered and SECRET not in rendered
    assert figures["pairs"] == len(pairs) and figures["meetings"] == 1
    assert (figures["goals_set"], figures["continuing"], figures["continuing_answered"]) == (
        1,
        1,
        1,
    )
    assert len(figures["monthly"]) == 7
    assert SECRET not in json.dumps(figures)
    [record] = records(uow, "continuing_said")
    assert record["actor"] == pair.mentee_id
    assert audit.verify(uow).problems == []
    with db.engine_for(database_url).begin() as conn:
        conn.execute(text("UPDATE continuing_answers SET continuing = false"))
        conn.execute(text("DELETE FROM pair_goals"))
    problems = [str(p) for p in audit.verify(uow).problems]
    assert any(p.startswith("continuing_answers row") for p in problems), problems
    assert any(p.startswith("pair_goals row") and "deleted" in p for p in problems), problems


def test_an_outside_edit_of_a_meeting_is_caught_by_audit_verify(
    uow: UnitOfWork, database_url: str
) -> None:
    pairs = active_cycle(uow)
    pair = pairs[0]
    engagement.log_meeting(
        uow, YEAR, pair.mentee_id, pair_id=pair.id, met_on="2027-01-10", minutes=60,
        mode="video", note="", now=JAN_15,
    )  # fmt: skip
    engagement.check_in(
        uow, YEAR, pair.mentee_id, pair_id=pair.id, met=True, score=4,
        contact_committee=False, now=JAN_15,
    )  # fmt: skip
    assert audit.verify(uow).problems == []
    with db.engine_for(database_url).begin() as conn:
        conn.execute(text("UPDATE meetings SET minutes = 600"))
        conn.execute(text("UPDATE check_ins SET score = 1"))
    problems = [str(p) for p in audit.verify(uow).problems]
    assert any(p.startswith("meetings row") and "changed outside" in p for p in problems)
    assert any(p.startswith("check_ins row") for p in problems)
    with pytest.raises(DomainError, match=r"check_ins row .* was changed outside the program"):
        engagement.check_in(
            uow, YEAR, pair.mentee_id, pair_id=pair.id, met=True, score=5,
            contact_committee=False, now=JAN_15,
        )  # fmt: skip
