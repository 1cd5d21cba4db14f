"""The committee's program details reach the messages: the orientation invitation's ICS."""

import base64
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from sqlalchemy import select

from domain.cycle_states import CycleEvent, Trigger
from domain.errors import CalendarError, DomainError
from flows.usecases import cycles, members, program
from flows.usecases.tick import run_tick
from infra.tables import MemberRow, MessageRow
from infra.uow import UnitOfWork
from tests.builders import AUG_2, DATA, paired_cycle

CHICAGO = ZoneInfo("America/Chicago")
JOIN = "https://meet.example.org/core-orientation-2026"


def orientation_invitations(uow: UnitOfWork) -> list[MessageRow]:
    with uow:
        return list(
            uow.session.scalars(
                select(MessageRow).where(MessageRow.kind == "orientation_invitation")
            )
        )


def start_orientation(uow: UnitOfWork) -> None:
    cycles.fire_event(
        uow,
        2026,
        CycleEvent.start_orientation,
        actor="tick",
        trigger=Trigger.schedule,
        now=datetime(2026, 11, 20, 12, tzinfo=UTC),
    )


def test_the_invitation_carries_the_session_the_committee_set(uow: UnitOfWork) -> None:
    paired_cycle(uow)
    shown = program.set_details(
        uow,
        2026,
        {
            "orientation_at": "2026-11-20T14:30",
            "orientation_minutes": 60,
            "orientation_join_url": JOIN,
        },
        actor="Pat Chair",
    )
    assert shown.orientation_minutes == 60
    start_orientation(uow)
    invitations = orientation_invitations(uow)
    assert invitations, "every participant is invited"
    (attachment,) = invitations[0].attachments
    assert attachment["filename"].endswith(".ics")
    calendar = icalendar.Calendar.from_ical(base64.b64decode(attachment["data"]))
    (event,) = calendar.walk("VEVENT")
    start = event.decoded("dtstart")
    assert start == datetime(2026, 11, 20, 14, 30, tzinfo=CHICAGO)
    assert event.decoded("dtend") - start == timedelta(minutes=60)
    assert str(event["url"]) == JOIN
    assert JOIN in invitations[0].text_body


def test_orientation_details_are_refused_once_the_invitation_went(uow: UnitOfWork) -> None:
    paired_cycle(uow)
    start_orientation(uow)
    with pytest.raises(DomainError, match="state orientation: the message using orientation_at"):
        program.set_details(uow, 2026, {"orientation_at": "2026-11-21T13:00"}, actor="chair")
    changed = program.set_details(uow, 2026, {"survey_url": "https://s.example.org"}, actor="c")
    assert changed.survey_url == "https://s.example.org"


def test_bad_details_are_refused_with_the_reason(uow: UnitOfWork) -> None:
    paired_cycle(uow)
    with pytest.raises(DomainError, match="not a date and time"):
        program.set_details(uow, 2026, {"orientation_at": "next tuesday"}, actor="chair")
    with pytest.raises(DomainError, match="between 15 and 480"):
        program.set_details(uow, 2026, {"orientation_minutes": 5}, actor="chair")
    assert program.details(uow, 2026).orientation_minutes == 90


def test_with_a_list_address_the_call_and_its_reminder_go_to_the_list_only(
    uow: UnitOfWork,
) -> None:
    cycles.create_cycle(uow, 2026, timezone="America/Chicago", milestones={}, actor="chair")
    members.import_roster(uow, DATA / "roster.csv", actor="chair", now=AUG_2)
    program.set_details(uow, 2026, {"call_list_address": "core-l@lists.example.org"}, actor="c")
    run_tick(uow, now=AUG_2)
    run_tick(uow, now=datetime(2026, 9, 25, 12, tzinfo=UTC))
    with uow:
        sent = [
            (m.kind, m.to_address)
            for m in uow.session.scalars(select(MessageRow).order_by(MessageRow.id))
        ]
    assert sent == [
        ("call_for_applications", "core-l@lists.example.org"),
        ("application_deadline_reminder", "core-l@lists.example.org"),
    ]


def test_without_a_list_address_only_current_core_members_are_called(uow: UnitOfWork) -> None:
    cycles.create_cycle(uow, 2026, timezone="America/Chicago", milestones={}, actor="chair")
    members.import_roster(uow, DATA / "roster.csv", actor="chair", now=AUG_2)
    run_tick(uow, now=AUG_2)
    with uow:
        called = set(
            uow.session.scalars(
                select(MessageRow.to_address).where(MessageRow.kind == "call_for_applications")
            )
        )
        current = set(
            uow.session.scalars(
                select(MemberRow.email).where(MemberRow.membership_expires >= date(2026, 8, 1))
            )
        )
        everyone = set(uow.session.scalars(select(MemberRow.email)))
    assert called == current and current < everyone


def test_an_orientation_time_the_cycle_zone_skips_is_refused_when_set(uow: UnitOfWork) -> None:
    paired_cycle(uow)
    with pytest.raises(
        CalendarError,
        match=r"^2027-03-14T02:30 does not exist in America/Chicago \(clocks go forward from "
        r"02:00 to 03:00 that day\); pick another time$",
    ):
        program.set_details(uow, 2026, {"orientation_at": "2027-03-14T02:30"}, actor="chair")
    assert program.details(uow, 2026).orientation_at is None
    shown = program.set_details(uow, 2026, {"orientation_at": " 2027-03-14T03:30 "}, actor="c")
    assert shown.orientation_at == "2027-03-14T03:30"
