"""The largest values intake accepts fit every column they reach, on SQLite and PostgreSQL
alike; values past the bounds (names, addresses, goals, actors, reasons) are refused where
they enter, and a dry run says what the real import will say.

PostgreSQL refuses a string longer than its column where SQLite stores it; these tests
carry values at the bounds of ``domain.values`` through transitions that queue mail, whose
keys, names and subjects are longer than any one field.
"""

import csv
import io
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from domain.applications import APPLICATION_FIELDS
from domain.cycle_states import CycleEvent, Trigger
from domain.errors import MissingValue
from domain.members import ROSTER_FIELDS, Member
from domain.notifications import MessageKind, OutgoingMessage
from domain.values import (
    EMAIL_MAX,
    GOALS_MAX,
    INSTITUTION_MAX,
    MEMBER_ID_MAX,
    NAME_MAX,
    InvalidValue,
)
from flows.usecases import applications, audit, cycles, members, pairings, rematch, withdrawing
from infra.mail import SMTP_POLICY, build_email
from infra.repositories.outbox import to_message
from infra.tables import ApplicationRow, MemberRow, MessageRow, TaskRow, ValueDoesNotFit
from infra.uow import UnitOfWork
from tests.builders import paired_cycle

AUG_2 = datetime(2026, 8, 2, 12, tzinfo=UTC)
OCT_1 = datetime(2026, 10, 1, 12, tzinfo=UTC)
NOV_5 = datetime(2026, 11, 5, 12, tzinfo=UTC)
ROSTER_HEADER = list(ROSTER_FIELDS)
APPLICATION_HEADER = list(APPLICATION_FIELDS)
# Hostile but valid: quotes, commas, angle brackets, a formula prefix, accents; one line.
NAME_WORDS = '=Zoë "Zed" O\'Brien-Núñez, <Jr.> '
LONGEST_ACTOR = "Ä" * 200


def padded(words: str, length: int) -> str:
    return (words * (length // len(words) + 1))[:length].strip().ljust(length, "x")


def longest_address(tag: str) -> str:
    """The longest address email validation accepts (254 characters: RFC 5321's limit;
    ``EMAIL_MAX`` (320) is the column's)."""
    local = (tag + "." + "l" * 64)[:64]
    domain = "d" * 63 + "." + "e" * 63 + "." + "f" * 57 + ".org"
    address = f"{local}@{domain}"
    assert len(address) == 254 and len(address) <= EMAIL_MAX
    return address


def csv_text(header: list[str], rows: list[list[str]]) -> str:
    handle = io.StringIO()
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return handle.getvalue()


def maximal_member(number: int) -> list[str]:
    member_id = f"M{number}".ljust(MEMBER_ID_MAX, "9")
    return [
        member_id,
        padded(NAME_WORDS, NAME_MAX),
        padded("Ünïcode Lastname-", NAME_MAX),
        longest_address(f"m{number}"),
        padded(f'Bibliothèque {number}, "Central" & <Annex> ', INSTITUTION_MAX),
        "2030-06-30",
    ]


MULTILINE_GOALS = padded('collections, "assessment" & leadership;\nline two ', GOALS_MAX)


def maximal_application(member: list[str], role: str, goals: str = MULTILINE_GOALS) -> list[str]:
    return [
        "2026-08-02T09:00",
        member[0],
        member[3],
        role,
        "Technology;Preservation;Assessment",
        "senior" if role == "mentor" else "early",
        member[4],
        "academic",
        "America/Argentina/ComodRivadavia",
        goals,
        "5" if role == "mentor" else "",
    ]


def count(uow: UnitOfWork, table: type) -> int:
    with uow:
        return int(uow.session.scalar(select(func.count()).select_from(table)) or 0)


def test_the_largest_values_reach_the_mail_of_every_transition_on_both_databases(
    uow: UnitOfWork, tmp_path: Path
) -> None:
    cycles.create_cycle(uow, 2026, timezone="America/Chicago", milestones={}, actor=LONGEST_ACTOR)
    cycles.fire_event(
        uow, 2026, CycleEvent.open_call, actor=LONGEST_ACTOR, trigger=Trigger.cli, now=AUG_2
    )
    mentor, mentee = maximal_member(1), maximal_member(2)
    roster = tmp_path / "roster.csv"
    roster.write_text(csv_text(ROSTER_HEADER, [mentor, mentee]))
    loaded = members.import_roster(uow, roster, actor=LONGEST_ACTOR, now=AUG_2)
    assert (loaded.added, loaded.rejected) == (2, [])

    stranger = longest_address("s")
    apps = tmp_path / "apps.csv"
    refused = maximal_application(mentee, "mentee")
    refused[1] = ""  # incomplete: answered at the address given, which names the message
    refused[2] = stranger
    apps.write_text(
        csv_text(
            APPLICATION_HEADER,
            [refused, maximal_application(mentor, "mentor"), maximal_application(mentee, "mentee")],
        )
    )
    dry = applications.import_applications(
        uow, 2026, apps, actor=LONGEST_ACTOR, dry_run=True, now=AUG_2
    )
    real = applications.import_applications(uow, 2026, apps, actor=LONGEST_ACTOR, now=AUG_2)
    assert (dry.imported, dry.rejected) == (real.imported, real.rejected)
    assert real.imported == 2 and [r["line"] for r in real.rejected] == [2]
    assert real.messages == 3

    cycles.fire_event(
        uow, 2026, CycleEvent.close_applications, actor="s", trigger=Trigger.schedule, now=OCT_1
    )
    pairings.propose(uow, 2026, actor=LONGEST_ACTOR, now=OCT_1)
    pairings.approve(uow, 2026, actor=LONGEST_ACTOR, now=OCT_1)
    announced = cycles.fire_event(
        uow, 2026, CycleEvent.announce_pairings, actor="s", trigger=Trigger.schedule, now=NOV_5
    )
    assert announced.messages == 2

    with uow:
        rows = list(uow.session.scalars(select(MessageRow).order_by(MessageRow.id)))
        stored_goals = set(uow.session.scalars(select(ApplicationRow.goals)))
    assert [len(g) for g in stored_goals] == [len(" ".join(refused[9].split()))]
    by_kind = {row.kind: row for row in rows}
    assert by_kind["application_not_accepted"].key == (f"2026/application_not_accepted/{stranger}")
    notice = by_kind["pairing_notice"]
    assert len(notice.to_name) == 2 * NAME_MAX + 1 and notice.to_name in notice.subject
    for row in rows:
        data = build_email(to_message(row), "m@core.example.org", "core.example.org").as_bytes(
            policy=SMTP_POLICY
        )
        assert all(len(line) <= 998 for line in data.split(b"\r\n"))


def test_values_past_a_bound_are_refused_by_line_and_the_dry_run_says_so_on_both_databases(
    uow: UnitOfWork, tmp_path: Path
) -> None:
    cycles.create_cycle(uow, 2026, timezone="America/Chicago", milestones={}, actor="chair")
    cycles.fire_event(
        uow, 2026, CycleEvent.open_call, actor="chair", trigger=Trigger.cli, now=AUG_2
    )
    good = maximal_member(1)
    too_long = [
        ("M" * (MEMBER_ID_MAX + 1), "member_id is 65 characters long; keep it to 64"),
        ("x" * (NAME_MAX + 1), "first_name is 201 characters long; keep it to 200"),
        ("y" * (NAME_MAX + 1), "last_name is 201 characters long; keep it to 200"),
        ("a" * 250 + "@example.org", "email 'aaaaaaa"),
        ("I" * (INSTITUTION_MAX + 1), "institution is 301 characters long; keep it to 300"),
    ]
    lines = []
    for column, (value, _) in enumerate(too_long):
        member = maximal_member(column + 2)
        member[column] = value
        lines.append(member)
    roster = tmp_path / "roster.csv"
    roster.write_text(csv_text(ROSTER_HEADER, [good, *lines]))
    dry = members.import_roster(uow, roster, actor="chair", dry_run=True, now=AUG_2)
    real = members.import_roster(uow, roster, actor="chair", now=AUG_2)
    assert (dry.added, dry.rejected) == (real.added, real.rejected)
    assert real.added == 1 and count(uow, MemberRow) == 1
    for refusal, (_, words) in zip(real.rejected, too_long, strict=True):
        assert words in refusal["reason"]
    assert [r["line"] for r in real.rejected] == [3, 4, 5, 6, 7]

    app = maximal_application(good, "mentor", goals="g" * GOALS_MAX)
    long_goals = [*app]
    long_goals[9] = "g" * (GOALS_MAX + 1)
    not_an_address = [*app]
    not_an_address[1], not_an_address[2] = "", "a b/c@example.org"
    spaced_id = [*app]
    spaced_id[1], spaced_id[3] = "C 1/2", "sensei"
    apps = tmp_path / "apps.csv"
    apps.write_text(csv_text(APPLICATION_HEADER, [long_goals, not_an_address, spaced_id]))
    dry_apps = applications.import_applications(
        uow, 2026, apps, actor="chair", dry_run=True, now=AUG_2
    )
    real_apps = applications.import_applications(uow, 2026, apps, actor="chair", now=AUG_2)
    assert (dry_apps.imported, dry_apps.rejected) == (real_apps.imported, real_apps.rejected)
    assert [r["line"] for r in real_apps.rejected] == [2, 3, 4]
    assert "goals is 4,001 characters long; keep it to 4,000" in real_apps.rejected[0]["reason"]
    assert real_apps.messages == 2
    with uow:
        keys = list(uow.session.scalars(select(MessageRow.key).order_by(MessageRow.id)))
    assert keys == [
        f"2026/application_not_accepted/{good[0]}",
        f"2026/application_not_accepted/{good[3]}",
    ]


def test_a_value_that_would_not_fit_its_column_is_refused_alike_on_both_databases(
    uow: UnitOfWork,
) -> None:
    """The guard behind the intake checks: SQLite would store these, PostgreSQL raise."""
    cycles.create_cycle(uow, 2026, timezone="America/Chicago", milestones={}, actor="chair")
    too_long = OutgoingMessage(
        key="2026/committee_notice/committee",
        kind=MessageKind.committee_notice,
        cycle_year=2026,
        to_address="committee@example.org",
        to_name="N" * (2 * NAME_MAX + 2),
        subject="s",
        text_body="t",
        html_body="h",
    )
    with (
        uow,
        pytest.raises(
            ValueDoesNotFit, match=r"^messages\.to_name holds at most 401 characters, and 'NNN"
        ),
    ):
        uow.outbox.enqueue([too_long], AUG_2)
    with uow, pytest.raises(ValueDoesNotFit, match=r"^members\.first_name cannot hold 'Ann\\x00'"):
        uow.members.add(
            Member("C1", "Ann\x00", "Lee", "a@example.org", "Lib", date(2030, 1, 1)), AUG_2
        )
        uow.commit()
    assert count(uow, MessageRow) == count(uow, MemberRow) == 0


def audit_kinds(uow: UnitOfWork) -> list[str]:
    return [r.kind for r in audit.history(uow, 2026).records]


def test_reasons_and_actors_are_bounded_plain_text_for_withdrawals_and_ended_pairs(
    uow: UnitOfWork,
) -> None:
    paired_cycle(uow)
    before = audit_kinds(uow)
    for attempt, words in (
        (
            lambda: withdrawing.withdraw(uow, 2026, "C100270", actor="a", reason="R" * 2001),
            "reason is 2,001 characters long; keep it to 2,000",
        ),
        (
            lambda: withdrawing.withdraw(uow, 2026, "C100270", actor="a", reason="ill\x00"),
            r"reason 'ill\\x00' contains a NUL character",
        ),
        (
            lambda: withdrawing.withdraw(uow, 2026, "C100270", actor="a\nb", reason="ill"),
            r"actor 'a\\nb' contains a line break",
        ),
        (
            lambda: rematch.end_pair(uow, 2026, "C100156", "C100270", actor="a", reason="R" * 2001),
            "reason is 2,001 characters long",
        ),
        (
            lambda: rematch.end_pair(
                uow, 2026, "C100156", "C100270", actor="A" * 201, reason="no chemistry"
            ),
            "actor is 201 characters long; keep it to 200",
        ),
        (
            lambda: rematch.approve(uow, 2026, 1, actor="\x07"),
            r"actor '\\x07' contains a control character",
        ),
    ):
        with pytest.raises(InvalidValue, match=words):
            attempt()
    with pytest.raises(MissingValue, match=r"^a reason is required: say why the pair ends$"):
        rematch.end_pair(uow, 2026, "C100156", "C100270", actor="a", reason="\n")
    assert audit_kinds(uow) == before
    with uow:
        assert ("C100156", "C100270") in [p.members for p in uow.pairings.approved_pairs(2026)]


def test_a_pair_ended_by_the_longest_actor_closes_its_tasks_on_both_databases(
    uow: UnitOfWork,
) -> None:
    paired_cycle(uow)
    for event, day in ((CycleEvent.start_orientation, 21), (CycleEvent.start_mentoring, 2)):
        month = 11 if event is CycleEvent.start_orientation else 12
        cycles.fire_event(
            uow,
            2026,
            event,
            actor="s",
            trigger=Trigger.schedule,
            now=datetime(2026, month, day, 12, tzinfo=UTC),
        )
    result = rematch.end_pair(
        uow,
        2026,
        "C100156",
        "C100270",
        actor=LONGEST_ACTOR,
        reason="R" * 2000,
        now=datetime(2026, 12, 10, 12, tzinfo=UTC),
    )
    assert result.changed
    with uow:
        closed = uow.session.scalars(
            select(TaskRow).where(TaskRow.key.endswith("/C100156/C100270"))
        ).all()
    assert closed and {t.done_by for t in closed} == {f"{LONGEST_ACTOR} (pair dissolved)"}
    assert audit.verify(uow).problems == []
