"""A call the committee opens before its date takes applications from that moment, on the
site and in an import, as it does from the calendar's date; before it, none."""

from datetime import UTC, datetime
from pathlib import Path

from domain.cycle_states import CycleEvent, Trigger
from flows.usecases import applications, cycles, members, site_applications
from flows.usecases.site_applications import ApplicationRefused, ApplicationSaved
from infra.uow import UnitOfWork
from tests.builders import DATA

YEAR = 2026
OPENED = datetime(2026, 7, 20, 15, tzinfo=UTC)  # twelve days before the calendar's Aug 1
JUL_25 = datetime(2026, 7, 25, 15, tzinfo=UTC)
MEMBER = "C100011"
FORM = {
    "role": "mentee",
    "areas": ["Technology"],
    "career_stage": "early",
    "library_type": "public",
    "time_zone": "America/Chicago",
    "goals": "find my feet in systems work",
}
HEADER = (
    "submitted_at,member_id,email,role,areas,career_stage,institution,library_type,"
    "time_zone,goals,max_mentees"
)


def _opened_early(uow: UnitOfWork) -> None:
    cycles.create_cycle(
        uow, YEAR, timezone="America/Chicago", milestones={}, actor="chair", now=OPENED
    )
    members.import_roster(uow, DATA / "roster.csv", actor="chair", now=OPENED)
    cycles.fire_event(
        uow,
        YEAR,
        CycleEvent.open_call,
        actor="chair",
        trigger=Trigger.cli,
        reason="the committee is ready early",
        now=OPENED,
    )


def test_a_member_applies_on_the_site_once_the_call_is_opened_early(uow: UnitOfWork) -> None:
    _opened_early(uow)
    saved = site_applications.apply_on_site(uow, YEAR, MEMBER, FORM, now=JUL_25)
    assert isinstance(saved, ApplicationSaved), saved


def test_an_import_takes_lines_from_the_early_opening_and_refuses_earlier_ones(
    uow: UnitOfWork, tmp_path: Path
) -> None:
    _opened_early(uow)
    lines = [
        f"2026-07-25T10:00,{MEMBER},aiko.fujita.11@example.org,mentee,Technology,early,Lib,public,"
        "America/Chicago,find my feet,",
        "2026-07-19T10:00,C100079,quinn.wang.79@example.org,mentee,Technology,early,Lib,public,"
        "America/Chicago,find my feet,",
    ]
    path = tmp_path / "early.csv"
    path.write_text("\n".join([HEADER, *lines]) + "\n")
    result = applications.import_applications(uow, YEAR, path, actor="chair", now=JUL_25)
    assert result.imported == 1
    (refused,) = result.rejected
    assert refused["line"] == 3
    assert "before the call opened" in str(refused["reason"])
    assert "2026-07-20 10:00 CDT" in str(refused["reason"]), refused


def test_before_the_committee_opens_it_the_site_says_the_call_is_closed(uow: UnitOfWork) -> None:
    cycles.create_cycle(
        uow, YEAR, timezone="America/Chicago", milestones={}, actor="chair", now=OPENED
    )
    members.import_roster(uow, DATA / "roster.csv", actor="chair", now=OPENED)
    refused = site_applications.apply_on_site(uow, YEAR, MEMBER, FORM, now=JUL_25)
    assert isinstance(refused, ApplicationRefused) and refused.call_closed
