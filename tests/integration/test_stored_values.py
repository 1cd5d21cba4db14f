"""A stored value the program cannot use (a row edited by hand) is refused with one sentence
naming the cycle, the column and the value, on SQLite and PostgreSQL; never a raw
``ValueError``, ``KeyError`` or ``TypeError`` from wherever the value is first used."""

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import insert, update

from domain.cycle_states import CycleEvent, Trigger
from domain.errors import DomainError
from flows.usecases import audit, cycles, pairings, program
from flows.usecases.clock import utcnow
from infra.repositories.stored import UnusableStoredValue
from infra.seal_book import SealBroken
from infra.tables import ApplicationRow, CycleRow, CycleSettingsRow, MilestoneRow
from infra.uow import UnitOfWork
from tests.builders import AUG_2, OCT_1, cycle_with_applications, paired_cycle

YEAR = 2026


def make_cycle(uow: UnitOfWork) -> None:
    cycles.create_cycle(uow, YEAR, timezone="America/Chicago", milestones={}, actor="chair")


def edit_by_hand(uow: UnitOfWork, statement: Any) -> None:
    with uow:
        uow.session.execute(statement)
        uow.commit()


def store_settings(uow: UnitOfWork, settings: object) -> None:
    """Settings stored before row seals, taken as they stood when the database was
    upgraded: the program reads them, and must refuse what it cannot use."""
    edit_by_hand(uow, insert(CycleSettingsRow).values(cycle_year=YEAR, settings=settings))
    accept_settings(uow, "sealed at upgrade")


def accept_settings(uow: UnitOfWork, reason: str) -> None:
    audit.accept_rows(uow, ["cycle_settings:[2026]"], actor="chair", reason=reason, now=utcnow())


def open_call(uow: UnitOfWork) -> None:
    cycles.fire_event(uow, YEAR, CycleEvent.open_call, actor="s", trigger=Trigger.cli, now=AUG_2)


def test_a_stored_time_zone_that_is_no_zone_is_refused_naming_the_cycle(uow: UnitOfWork) -> None:
    make_cycle(uow)
    edit_by_hand(uow, update(CycleRow).values(timezone="America"))
    sentence = (
        "cycle 2026's stored time zone 'America' (cycles.timezone) is not an IANA time zone "
        "name; correct it in the database, e.g. to America/Chicago"
    )
    for use in (
        lambda: cycles.describe(uow, YEAR),
        lambda: cycles.list_all(uow),
        lambda: cycles.is_due(uow, YEAR, CycleEvent.open_call, AUG_2),
        lambda: open_call(uow),
    ):
        with pytest.raises(UnusableStoredValue) as refused:
            use()
        assert str(refused.value) == sentence
        assert (refused.value.year, refused.value.column) == (YEAR, "cycles.timezone")


def test_a_stored_state_or_milestone_the_cycle_cannot_have_is_refused_naming_it(
    uow: UnitOfWork,
) -> None:
    make_cycle(uow)
    edit_by_hand(uow, update(CycleRow).values(state="limbo"))
    with uow:
        assert uow.cycles.open_years() == [YEAR]
    with pytest.raises(
        UnusableStoredValue,
        match=r"^cycle 2026's stored state 'limbo' \(cycles\.state\) is not a state a cycle "
        r"can be in; correct it in the database to one of planned, call_open, ",
    ):
        cycles.describe(uow, YEAR)
    edit_by_hand(uow, update(CycleRow).values(state="planned"))
    edit_by_hand(
        uow, update(MilestoneRow).where(MilestoneRow.event == "open_call").values(event="party")
    )
    with pytest.raises(
        UnusableStoredValue,
        match=r"^cycle 2026's stored milestone 'party' \(milestones\.event\) is not an event "
        r"with a date; correct it in the database to one of open_call, close_applications",
    ):
        open_call(uow)


def test_stored_program_details_the_messages_cannot_use_are_refused_naming_the_cycle(
    uow: UnitOfWork,
) -> None:
    make_cycle(uow)
    store_settings(uow, {"program": {"committee_email": "the committee", "colour": "red"}})
    with pytest.raises(
        UnusableStoredValue,
        match=r"^cycle 2026's stored program details \(cycle_settings\.program\) cannot be "
        r"used: unknown program setting\(s\): colour; correct it in the database$",
    ):
        program.details(uow, YEAR)
    edit_by_hand(
        uow, update(CycleSettingsRow).values(settings={"program": {"committee_email": "x"}})
    )
    # Changed outside the program: nothing acts on it, and nothing writes over it (that
    # would seal the edit under the committee's name), until someone checks and accepts it.
    with pytest.raises(SealBroken, match=r"^cycle_settings row \[2026\] was changed outside"):
        open_call(uow)
    with pytest.raises(SealBroken):
        program.set_details(uow, YEAR, {"committee_email": "committee@example.org"}, actor="c")
    accept_settings(uow, "checked: a typo, to be set again")
    assert audit.verify(uow).problems == []
    with pytest.raises(
        UnusableStoredValue,
        match=r"^cycle 2026's stored program details \(cycle_settings\.program\) cannot be "
        r"used: committee_email 'x' is not an email address \(.*\); set them again with "
        r"`mentoring cycle program 2026`$",
    ):
        open_call(uow)
    program.set_details(uow, YEAR, {"committee_email": "committee@example.org"}, actor="chair")
    open_call(uow)
    assert cycles.describe(uow, YEAR).state == "call_open"


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        (["not", "a", "table"], r"settings \(cycle_settings\.settings\) are not a table of "),
        ({"program": "red"}, r"settings \(cycle_settings\.settings\) are not a table of "),
    ],
)
def test_a_stored_settings_document_that_is_no_table_is_refused_naming_the_cycle(
    uow: UnitOfWork, settings: object, words: str
) -> None:
    make_cycle(uow)
    store_settings(uow, settings)
    with pytest.raises(UnusableStoredValue, match=rf"^cycle 2026's stored {words}"):
        program.details(uow, YEAR)
    with pytest.raises(UnusableStoredValue, match=rf"^cycle 2026's stored {words}"):
        program.set_details(uow, YEAR, {"survey_url": "https://s.example.org"}, actor="chair")


@pytest.mark.parametrize(
    ("matching", "words"),
    [
        ({"weights": {"charisma": 5}}, r"name unknown weight\(s\) charisma; correct it in the"),
        ({"weights": {"goals": "lots"}}, r"are not all numbers; correct it in the database"),
        ({"weights": [1, 2]}, r"are not a table of weights; correct it in the database"),
        ({"weights": {"goals": -3}}, r"cannot be used: weight goals = -3 is not allowed; .*; set"),
        ({"allow_same_institution": "yes"}, r"rule allow_same_institution 'yes' \(cycle_sett"),
    ],
)
def test_stored_matching_settings_the_solver_cannot_use_are_refused_naming_the_cycle(
    uow: UnitOfWork, matching: dict[str, object], words: str
) -> None:
    cycle_with_applications(uow)
    store_settings(uow, {"matching": matching})
    with pytest.raises(UnusableStoredValue, match=rf"^cycle 2026's stored .*{words}"):
        pairings.propose(uow, YEAR, actor="chair", now=OCT_1)


def test_a_stored_application_the_domain_refuses_is_refused_naming_its_member(
    uow: UnitOfWork,
) -> None:
    cycle_with_applications(uow)
    edit_by_hand(
        uow, update(ApplicationRow).where(ApplicationRow.member_id == "C100079").values(role="x")
    )
    with pytest.raises(
        UnusableStoredValue,
        match=r"^cycle 2026's stored application of member C100079 \(applications\) cannot be "
        r"used: 'x' is not a valid Role; correct it in the database, or import the member's",
    ):
        pairings.propose(uow, YEAR, actor="chair", now=OCT_1)
    edit_by_hand(
        uow,
        update(ApplicationRow)
        .where(ApplicationRow.member_id == "C100079")
        .values(role="mentor", time_zone="America"),
    )
    with pytest.raises(UnusableStoredValue, match="time_zone 'America' is not an IANA time zone"):
        pairings.propose(uow, YEAR, actor="chair", now=OCT_1)


def test_a_stored_orientation_time_the_zone_skips_is_refused_naming_the_cycle(
    uow: UnitOfWork,
) -> None:
    paired_cycle(uow)
    store_settings(uow, {"program": {"orientation_at": "2027-03-14T02:30"}})
    with pytest.raises(DomainError) as refused:
        cycles.fire_event(
            uow,
            YEAR,
            CycleEvent.start_orientation,
            actor="s",
            trigger=Trigger.schedule,
            now=datetime(2026, 11, 20, 12, tzinfo=UTC),
        )
    assert str(refused.value) == (
        "cycle 2026's stored orientation time (cycle_settings.program) cannot be used: "
        "2027-03-14T02:30 does not exist in America/Chicago (clocks go forward from 02:00 to "
        "03:00 that day); pick another time; set orientation_at again with "
        "`mentoring cycle program 2026`"
    )
    assert cycles.describe(uow, YEAR).state == "paired"
