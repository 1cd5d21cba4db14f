"""A task closes when the work it asked for is done, in that work's own transaction and
audit record: a survey answer closes the participant's task, a new orientation session
closes the committee's task about the invitations held back."""

import base64
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest
from sqlalchemy import select

from domain.cycle_states import CycleEvent, Trigger
from domain.errors import DomainError
from domain.followups import orientation_held_key, survey_task_key
from flows.usecases import assessment, cycles, program
from infra.tables import AuditRow, MessageRow, TaskRow
from infra.uow import UnitOfWork
from tests.builders import DATA, paired_cycle

YEAR = 2026
CHICAGO = ZoneInfo("America/Chicago")
JULY_10 = datetime(2027, 7, 10, 15, tzinfo=UTC)
NOV_21 = datetime(2026, 11, 21, 12, tzinfo=UTC)


def fire(uow: UnitOfWork, event: CycleEvent, when: datetime) -> None:
    cycles.fire_event(uow, YEAR, event, actor="s", trigger=Trigger.schedule, now=when)


def survey_tasks(uow: UnitOfWork) -> dict[str, TaskRow]:
    """The participants' survey tasks, by member."""
    with uow:
        rows = uow.session.scalars(select(TaskRow).where(TaskRow.key.contains("/survey/")))
        return {r.member_id or "": r for r in rows}


def records(uow: UnitOfWork, kind: str) -> list[dict[str, Any]]:
    with uow:
        rows = uow.session.scalars(
            select(AuditRow).where(AuditRow.kind == kind).order_by(AuditRow.seq)
        ).all()
        return [dict(row.fields, actor=row.actor) for row in rows]


def test_answering_the_survey_closes_the_participant_s_task(uow: UnitOfWork) -> None:
    paired_cycle(uow)
    fire(uow, CycleEvent.start_orientation, datetime(2026, 11, 20, 12, tzinfo=UTC))
    fire(uow, CycleEvent.start_mentoring, datetime(2026, 12, 1, 12, tzinfo=UTC))
    fire(uow, CycleEvent.end_mentoring, datetime(2027, 7, 1, 12, tzinfo=UTC))
    before = survey_tasks(uow)
    assert before and all(t.done_at is None for t in before.values())

    assessment.import_responses(
        uow, YEAR, DATA / "assessment.csv", actor="chair", dry_run=True, now=JULY_10
    )
    assert all(t.done_at is None for t in survey_tasks(uow).values()), "a dry run closes none"

    assessment.import_responses(uow, YEAR, DATA / "assessment.csv", actor="chair", now=JULY_10)
    with uow:
        answered = set(uow.responses.respondents(YEAR))
    after = survey_tasks(uow)
    done = {m for m, t in after.items() if t.done_at is not None}
    assert done == answered
    assert set(after) - done, "those who did not answer keep their task"
    assert {(after[m].done_at, after[m].done_by) for m in done} == {
        (JULY_10, "chair (survey answered)")
    }
    closings = [r for r in records(uow, "task_done") if "/survey/" in r["task"]]
    assert [r["task"] for r in closings] == sorted(survey_task_key(YEAR, m) for m in answered)
    assert {(r["by"], r["actor"], r["title"]) for r in closings} == {
        ("survey answered", "chair", "Answer the program assessment survey")
    }

    assessment.import_responses(uow, YEAR, DATA / "assessment.csv", actor="chair", now=JULY_10)
    again = [r for r in records(uow, "task_done") if "/survey/" in r["task"]]
    assert again == closings, "each task closes once"


def test_setting_a_new_session_sends_the_held_invitations_and_closes_the_task(
    uow: UnitOfWork,
) -> None:
    paired_cycle(uow)
    fire(uow, CycleEvent.start_orientation, NOV_21)
    join = "https://meet.example.org/core-orientation-again"
    program.set_details(
        uow,
        YEAR,
        {"orientation_at": "2026-11-24T13:00", "orientation_join_url": join},
        actor="Pat Chair",
        now=NOV_21,
    )
    with uow:
        participants = {m for p in uow.pairings.approved_pairs(YEAR) for m in p.members}
        invitations = uow.session.scalars(
            select(MessageRow).where(MessageRow.kind == "orientation_invitation")
        ).all()
        task = uow.session.scalars(
            select(TaskRow).where(TaskRow.key == orientation_held_key(YEAR))
        ).one()
    assert len(invitations) == len(participants)
    (attachment,) = invitations[0].attachments
    (event,) = icalendar.Calendar.from_ical(base64.b64decode(attachment["data"])).walk("VEVENT")
    assert event.decoded("dtstart") == datetime(2026, 11, 24, 13, tzinfo=CHICAGO)
    assert str(event["url"]) == join
    assert (task.done_at, task.done_by) == (NOV_21, "Pat Chair (new session set)")
    (fields,) = records(uow, "program_details")
    assert fields["invitations"] == len(participants)
    assert fields["orientation_at"] == "2026-11-24T13:00"
    (closing,) = [r for r in records(uow, "task_done") if "/invitations-not-sent" in r["task"]]
    assert (closing["task"], closing["by"], closing["actor"]) == (
        orientation_held_key(YEAR),
        "new session set",
        "Pat Chair",
    )

    with pytest.raises(DomainError, match="state orientation: the message using orientation_at"):
        program.set_details(
            uow, YEAR, {"orientation_at": "2026-11-25T13:00"}, actor="Pat Chair", now=NOV_21
        )


def test_a_new_session_can_be_set_once_mentoring_began(uow: UnitOfWork) -> None:
    paired_cycle(uow)
    fire(uow, CycleEvent.start_orientation, datetime(2026, 12, 1, 12, tzinfo=UTC))
    fire(uow, CycleEvent.start_mentoring, datetime(2026, 12, 1, 12, tzinfo=UTC))
    program.set_details(
        uow,
        YEAR,
        {"orientation_at": "2026-12-08T13:00"},
        actor="Pat Chair",
        now=datetime(2026, 12, 2, 12, tzinfo=UTC),
    )
    with uow:
        invited = uow.session.scalars(
            select(MessageRow.id).where(MessageRow.kind == "orientation_invitation")
        ).all()
        task = uow.session.scalars(
            select(TaskRow).where(TaskRow.key == orientation_held_key(YEAR))
        ).one()
    assert invited and task.done_at is not None
