"""Catching up is safe: a milestone fired long after its date sends no notice about a
moment already past; for the orientation the committee is told and asked to act."""

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from domain.calendar import CycleCalendar
from domain.cycle_states import CycleEvent, Trigger
from domain.errors import DomainError
from domain.followups import orientation_held_key
from domain.reminders import midpoint_due
from flows.committee_steps import done_sentence
from flows.usecases import applications, cycles, followups, members, pairings, program
from flows.usecases.tick import run_tick
from infra.tables import AuditRow, MessageRow, TaskRow
from infra.uow import UnitOfWork
from tests.builders import DATA, paired_cycle

YEAR = 2026
NOV_28 = datetime(2026, 11, 28, 12, tzinfo=UTC)
NOV_30 = datetime(2026, 11, 30, 12, tzinfo=UTC)
SESSION = "Fri Nov 20, 1:00 PM Chicago time"


def kinds(uow: UnitOfWork) -> dict[str, int]:
    counts: dict[str, int] = {}
    with uow:
        for kind in uow.session.scalars(select(MessageRow.kind)):
            counts[kind] = counts.get(kind, 0) + 1
    return counts


def transition_fields(uow: UnitOfWork, event: CycleEvent) -> dict[str, Any]:
    with uow:
        records = uow.session.scalars(select(AuditRow).where(AuditRow.kind == "transition"))
        (fields,) = [r.fields for r in records if r.fields["event"] == str(event)]
        return dict(fields)


def held_task(uow: UnitOfWork) -> TaskRow | None:
    with uow:
        return uow.session.scalars(
            select(TaskRow).where(TaskRow.key == orientation_held_key(YEAR))
        ).one_or_none()


def participants(uow: UnitOfWork) -> int:
    with uow:
        return len({m for p in uow.pairings.approved_pairs(YEAR) for m in p.members})


def test_a_late_start_sends_no_call_and_no_invitation_to_a_past_orientation(
    uow: UnitOfWork,
) -> None:
    cycles.create_cycle(
        uow, YEAR, timezone="America/Chicago", milestones={}, actor="chair", now=NOV_28
    )
    members.import_roster(uow, DATA / "roster.csv", actor="chair", now=NOV_28)
    first = run_tick(uow, now=NOV_28)
    assert [t.event for t in first.transitions] == ["open_call", "close_applications"]
    assert "call_for_applications" not in kinds(uow)
    assert transition_fields(uow, CycleEvent.open_call)["not_sent"] == [
        "the call for applications was not sent: applications closed on Wed Sep 30, "
        "11:59 PM Chicago time; late applications can still be accepted until the pairings "
        "are announced"
    ]

    applications.import_applications(
        uow, YEAR, DATA / "applications.csv", actor="chair", allow_late=True, now=NOV_28
    )
    pairings.propose(uow, YEAR, actor="chair", now=NOV_28)
    pairings.approve(uow, YEAR, actor="chair", now=NOV_28)
    second = run_tick(uow, now=NOV_30)
    assert [t.event for t in second.transitions] == ["announce_pairings", "start_orientation"]

    sent = kinds(uow)
    assert sent["pairing_notice"] > 0, "what only reports goes out as usual"
    assert "orientation_invitation" not in sent
    sentence = (
        f"orientation invitations not sent: the session on {SESSION} has begun; set a new "
        "session with the “Set the orientation session” form (or `mentoring cycle program "
        "2026 --orientation-at …`), and the invitations then go; or confirm that none go by "
        "marking this task done"
    )
    assert transition_fields(uow, CycleEvent.start_orientation)["not_sent"] == [sentence]
    task = held_task(uow)
    assert task is not None and task.done_at is None
    assert (task.audience, task.member_id) == ("committee", None)
    assert task.title == sentence[0].upper() + sentence[1:]
    assert task.due_at == NOV_30 + timedelta(days=2)
    with uow:
        digests = uow.session.scalars(
            select(MessageRow.text_body).where(MessageRow.kind == "committee_notice")
        ).all()
    assert any(f"the session on {SESSION} has begun" in body for body in digests), (
        "the committee's digest tells them by mail"
    )
    assert run_tick(uow, now=NOV_30).transitions == ()
    assert "orientation_invitation" not in kinds(uow)


@pytest.mark.parametrize(
    ("fired_at", "late"),
    [
        (datetime(2026, 11, 20, 18, 59, tzinfo=UTC), False),
        (datetime(2026, 11, 20, 19, tzinfo=UTC), True),
    ],
    ids=["before the session", "as it begins"],
)
def test_a_person_firing_orientation_invites_only_to_a_session_still_ahead(
    uow: UnitOfWork, fired_at: datetime, late: bool
) -> None:
    paired_cycle(uow)
    result = cycles.fire_event(
        uow,
        YEAR,
        CycleEvent.start_orientation,
        actor="Pat Chair",
        trigger=Trigger.cli,
        now=fired_at,
    )
    invited = kinds(uow).get("orientation_invitation", 0)
    assert invited == (0 if late else participants(uow))
    assert (held_task(uow) is not None) is late
    assert ("not_sent" in transition_fields(uow, CycleEvent.start_orientation)) is late
    assert result.messages == invited
    # the person who fired it is told, in the result every entry point reports
    assert bool(result.not_sent) is late
    assert ("not sent: " in result.message) is late
    said = done_sentence(result, "Pat Chair")
    assert ("Not sent: " in said and "orientation" in said.split("Not sent: ")[1]) is late


def test_confirming_sends_nothing_and_a_new_session_in_the_past_is_refused(
    uow: UnitOfWork,
) -> None:
    paired_cycle(uow)
    cycles.fire_event(
        uow, YEAR, CycleEvent.start_orientation, actor="s", trigger=Trigger.schedule, now=NOV_28
    )
    with pytest.raises(DomainError) as refused:
        program.set_details(
            uow, YEAR, {"orientation_at": "2026-11-27T13:00"}, actor="Pat Chair", now=NOV_28
        )
    assert str(refused.value) == (
        "the orientation session on Fri Nov 27, 1:00 PM Chicago time has begun too: set a "
        "time still to come, or mark the task about the invitations done to confirm that "
        "none go"
    )
    assert program.details(uow, YEAR).orientation_at is None
    task = held_task(uow)
    assert task is not None and task.done_at is None

    followups.mark_done(uow, task.id, actor="Pat Chair", now=NOV_30)
    with pytest.raises(DomainError, match="state orientation: the message using orientation_at"):
        program.set_details(
            uow, YEAR, {"orientation_at": "2026-12-03T13:00"}, actor="Pat Chair", now=NOV_30
        )
    assert "orientation_invitation" not in kinds(uow)


def test_the_survey_invitation_is_not_sent_once_the_survey_closed(uow: UnitOfWork) -> None:
    paired_cycle(uow)
    for event, when in (
        (CycleEvent.start_orientation, datetime(2026, 11, 20, 12, tzinfo=UTC)),
        (CycleEvent.start_mentoring, datetime(2026, 12, 1, 12, tzinfo=UTC)),
        (CycleEvent.end_mentoring, datetime(2027, 8, 2, 12, tzinfo=UTC)),
    ):
        cycles.fire_event(uow, YEAR, event, actor="s", trigger=Trigger.schedule, now=when)
    sent = kinds(uow)
    assert sent["mentoring_ends"] > 0
    assert "assessment_invitation" not in sent
    assert transition_fields(uow, CycleEvent.end_mentoring)["not_sent"] == [
        "survey invitations not sent: the survey closed on Sun Aug 1, 12:00 AM Chicago time"
    ]


def test_the_midpoint_check_is_not_sent_once_its_answer_is_due(uow: UnitOfWork) -> None:
    calendar = CycleCalendar.default(YEAR)
    answer_day = datetime(2027, 3, 16, tzinfo=ZoneInfo("America/Chicago"))
    assert midpoint_due(calendar, answer_day - timedelta(seconds=1))
    assert not midpoint_due(calendar, answer_day)
    paired_cycle(uow)
    for event, when in (
        (CycleEvent.start_orientation, datetime(2026, 11, 20, 12, tzinfo=UTC)),
        (CycleEvent.start_mentoring, datetime(2026, 12, 1, 12, tzinfo=UTC)),
    ):
        cycles.fire_event(uow, YEAR, event, actor="s", trigger=Trigger.schedule, now=when)
    run_tick(uow, now=datetime(2027, 3, 20, 12, tzinfo=UTC))
    sent = kinds(uow)
    assert sent["checkin_reminder"] > 0, "the month's check-in still goes"
    assert "midpoint_check" not in sent
