"""A cycle's story, whole and ``--as-of`` each milestone, on a cycle walked step by step."""

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from domain.cycle_states import CycleEvent, Trigger
from domain.pairing_status import PairingSetStatus
from flows.cli.audit import print_story
from flows.usecases import (
    applications,
    assessment,
    cycles,
    followups,
    members,
    notifications,
    pairings,
)
from flows.usecases.audit_story import reason_pattern, render_story, story
from infra.tables import MessageRow, PairRow, TaskRow
from infra.uow import UnitOfWork
from tests.builders import DATA


def at(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 12, tzinfo=UTC)


@dataclass(frozen=True)
class Snapshot:
    """What the tables held right after a step, counted directly."""

    at: datetime
    state: str
    queued: int
    sent: int
    tasks: int
    done: int
    pairs: list[list[str]] | None


def snapshot(uow: UnitOfWork, when: datetime) -> Snapshot:
    count = select(func.count())
    with uow:
        s = uow.session
        approved = uow.pairings.approved_pairs(2026)
        return Snapshot(
            when,
            str(uow.cycles.state_of(2026)),
            int(s.scalar(count.select_from(MessageRow)) or 0),
            int(s.scalar(count.select_from(MessageRow).where(MessageRow.status == "sent")) or 0),
            int(s.scalar(count.select_from(TaskRow)) or 0),
            int(s.scalar(count.select_from(TaskRow).where(TaskRow.done_at.is_not(None))) or 0),
            sorted([p.mentor_id, p.mentee_id] for p in approved) if approved else None,
        )


def fire(uow: UnitOfWork, event: CycleEvent, when: datetime, actor: str = "scheduler") -> None:
    trigger = Trigger.schedule if actor == "scheduler" else Trigger.cli
    cycles.fire_event(uow, 2026, event, actor=actor, trigger=trigger, now=when)


def deliver(uow: UnitOfWork, when: datetime) -> None:
    notifications.deliver(uow, now=lambda: when)


def first_proposed_pair(uow: UnitOfWork) -> tuple[str, str]:
    with uow:
        proposed = uow.pairings.latest_set(2026, PairingSetStatus.proposed)
        assert proposed is not None
        pair = uow.session.scalars(
            select(PairRow).where(PairRow.set_id == proposed.id).order_by(PairRow.id)
        ).first()
        assert pair is not None
        return pair.mentor_id, pair.mentee_id


@pytest.fixture
def walked(uow: UnitOfWork) -> tuple[UnitOfWork, list[Snapshot]]:
    """Cycle 2026 from creation to assessed, with a snapshot after each milestone."""
    shots = []
    created = at(2026, 7, 1)
    cycles.create_cycle(
        uow, 2026, timezone="America/Chicago", milestones={}, actor="chair", now=created
    )
    shots.append(snapshot(uow, created))
    fire(uow, CycleEvent.open_call, at(2026, 8, 2))
    members.import_roster(uow, DATA / "roster.csv", actor="chair", now=at(2026, 8, 2))
    applications.import_applications(
        uow, 2026, DATA / "applications.csv", actor="chair", now=at(2026, 8, 2)
    )
    shots.append(snapshot(uow, at(2026, 8, 2)))
    deliver(uow, at(2026, 8, 3))
    fire(uow, CycleEvent.close_applications, at(2026, 10, 1))
    pairings.propose(uow, 2026, actor="Pat Chair", now=at(2026, 10, 2))
    mentor, mentee = first_proposed_pair(uow)
    pairings.edit(
        uow,
        2026,
        kind="block",
        mentor_id=mentor,
        mentee_id=mentee,
        actor="Sam Member",
        now=at(2026, 10, 3),
    )
    pairings.propose(uow, 2026, actor="Pat Chair", now=at(2026, 10, 3))
    shots.append(snapshot(uow, at(2026, 10, 3)))
    pairings.approve(uow, 2026, actor="Pat Chair", now=at(2026, 10, 4))
    shots.append(snapshot(uow, at(2026, 10, 4)))
    fire(uow, CycleEvent.announce_pairings, at(2026, 11, 5))
    deliver(uow, at(2026, 11, 6))
    shots.append(snapshot(uow, at(2026, 11, 6)))
    fire(uow, CycleEvent.start_orientation, at(2026, 11, 20))
    fire(uow, CycleEvent.start_mentoring, at(2026, 12, 1))
    shots.append(snapshot(uow, at(2026, 12, 1)))
    with uow:
        first_tasks = uow.session.scalars(select(TaskRow.id).order_by(TaskRow.id).limit(3)).all()
    for task_id in first_tasks:
        followups.mark_done(uow, task_id, actor="a mentee", now=at(2027, 1, 5))
    deliver(uow, at(2027, 1, 6))
    shots.append(snapshot(uow, at(2027, 1, 6)))
    fire(uow, CycleEvent.end_mentoring, at(2027, 7, 1))
    assessment.import_responses(
        uow, 2026, DATA / "assessment.csv", actor="chair", now=at(2027, 7, 10)
    )
    fire(uow, CycleEvent.complete_assessment, at(2027, 8, 1), actor="Pat Chair")
    shots.append(snapshot(uow, at(2027, 8, 1)))
    return uow, shots


def test_as_of_each_milestone_the_story_shows_the_cycle_as_it_stood(
    walked: tuple[UnitOfWork, list[Snapshot]],
) -> None:
    uow, shots = walked
    expected_states = [
        "planned",
        "call_open",
        "applications_closed",
        "applications_closed",
        "paired",
        "active",
        "active",
        "assessed",
    ]
    assert [s.state for s in shots] == expected_states
    for shot in shots:
        then = story(uow, 2026, shot.at)
        assert then.state == shot.state, shot.at
        assert then.state_now == "assessed"
        assert then.messages["total"]["queued"] == shot.queued, shot.at
        assert then.messages["total"]["sent"] == shot.sent, shot.at
        assert then.tasks["total"]["created"] == shot.tasks, shot.at
        assert then.tasks["total"]["done"] == shot.done, shot.at
        paired = then.paired
        pair_list = (
            [[p["mentor_id"], p["mentee_id"]] for p in paired["pair_list"]] if paired else None
        )
        assert pair_list == shot.pairs, shot.at
    before = story(uow, 2026, at(2026, 6, 1))
    assert before.state is None and before.transitions == []
    call = story(uow, 2026, at(2026, 8, 2))
    assert call.applications["received"] == 120
    assert call.applications["imported"] + call.applications["refused"] == 120
    assert call.messages["total"]["sent"] == 0
    assert call.messages["total"]["failed"] is None
    announced = story(uow, 2026, at(2026, 11, 6))
    assert announced.paired is not None
    pairs = announced.paired["pairs"]
    notices = announced.messages["by_kind"]["pairing_notice"]
    assert (notices["queued"], notices["sent"], notices["pending"]) == (2 * pairs, 2 * pairs, 0)
    assert announced.paired["approved_by"] == "Pat Chair"
    mentoring_begins = story(uow, 2026, at(2026, 12, 1)).tasks["total"]
    # per pair: the follow-ups (8) and a goals task for each partner (2)
    assert mentoring_begins == {
        "created": 3 + 10 * pairs,
        # approving the pairing set closed the tasks that asked for it: review, approve
        "done": 2,
        "overdue": 1,
        "open": 10 * pairs,
    }
    january = story(uow, 2026, at(2027, 1, 6)).tasks
    assert january["total"] == {
        "created": 3 + 10 * pairs,
        "done": 3,
        "overdue": 4 * pairs,  # first meetings and goals, due in December
        "open": 6 * pairs,
    }
    first_meetings = next(g for g in january["by_due_date"] if g["task"] == "First meeting")
    assert (first_meetings["created"], first_meetings["overdue"]) == (pairs, pairs)


def test_the_whole_story_lists_every_transition_decision_and_message_kind_and_prints(
    walked: tuple[UnitOfWork, list[Snapshot]], capsys: pytest.CaptureFixture[str]
) -> None:
    uow, shots = walked
    whole = story(uow, 2026, now=at(2027, 8, 2))
    assert [(t.event, t.source, t.target, t.actor, t.trigger) for t in whole.transitions] == [
        ("open_call", "planned", "call_open", "scheduler", "schedule"),
        ("close_applications", "call_open", "applications_closed", "scheduler", "schedule"),
        ("announce_pairings", "applications_closed", "paired", "scheduler", "schedule"),
        ("start_orientation", "paired", "orientation", "scheduler", "schedule"),
        ("start_mentoring", "orientation", "active", "scheduler", "schedule"),
        ("end_mentoring", "active", "ended", "scheduler", "schedule"),
        ("complete_assessment", "ended", "assessed", "Pat Chair", "cli"),
    ]
    assert all(set(t) >= {"reason", "flow_run_id", "at"} for t in whole.as_dict()["transitions"])
    assert [(d["decision"], d["actor"]) for d in whole.pairing_decisions] == [
        ("proposed", "Pat Chair"),
        ("edited", "Sam Member"),
        ("proposed", "Pat Chair"),
        ("approved", "Pat Chair"),
    ]
    assert whole.pairing_decisions[1]["edit"] == "block"
    assert whole.paired is not None
    pairs = whole.paired["pairs"]
    participants = len({m for pair in shots[-1].pairs or [] for m in pair})
    by_kind = whole.messages["by_kind"]
    assert by_kind["pairing_notice"]["queued"] == 2 * pairs
    assert by_kind["mentoring_begins"]["queued"] == 2 * pairs
    assert by_kind["orientation_invitation"]["queued"] == participants
    assert by_kind["assessment_invitation"] == {
        "queued": participants,
        "sent": 0,
        "failed": 0,
        "pending": participants,
    }
    assert whole.messages["total"]["queued"] == shots[-1].queued
    with uow:  # answering the survey closed each respondent's survey task
        survey_closed = len(
            uow.session.scalars(
                select(TaskRow.id).where(TaskRow.done_by.like("% (survey answered)"))
            ).all()
        )
    assert survey_closed > 0
    # the approval task (closed by the approval, so marking it again by hand records
    # nothing), the two others marked by hand, and one per survey respondent
    assert whole.audit_records["task_done"] == 1 + 2 + survey_closed
    assert whole.audit_records["assessment_imported"] == 1
    assert [e["seq"] for e in whole.timeline] == sorted(e["seq"] for e in whole.timeline)
    data = story(uow, 2026, at(2026, 11, 6))
    markdown = render_story(data, "md")
    assert "As it stood at 2026-11-06T12:00:00+00:00: state `paired`" in markdown
    assert "**approved** by Pat Chair" in markdown
    assert "| announce_pairings | applications_closed → paired | scheduler |" in markdown
    assert "<b>edited</b> by Sam Member" in render_story(data, "html")
    print_story(data, "json")
    assert '"state": "paired"' in capsys.readouterr().out
    print_story(data, "text")
    assert "cycle 2026 as of 2026-11-06T12:00:00+00:00: paired" in capsys.readouterr().out


def test_refusal_reasons_group_without_the_applicants_particulars() -> None:
    assert (
        reason_pattern(
            "not a current Core member when applying on 2026-08-03: membership expired 2026-03-01"
        )
        == "not a current Core member when applying on DATE: membership expired DATE"
    )
    assert reason_pattern("member id C999999 is not on the Core roster") == (
        "member id … is not on the Core roster"
    )
    assert reason_pattern("role 'sensei' is not allowed; use mentor, mentee or both") == (
        "role '…' is not allowed; use mentor, mentee or both"
    )
