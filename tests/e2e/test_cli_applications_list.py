"""``mentoring applications list YEAR``: every application with its member, role, state,
when it was submitted (in the cycle's zone, named) and through what (site or import)."""

from datetime import UTC, datetime

from flows.usecases import applications, pairings, site_applications
from infra.uow import UnitOfWork
from tests.builders import DATA, OCT_1, cycle_with_applications
from tests.cli import mentoring

YEAR = 2026


def test_the_list_shows_each_application_and_through_what_it_came(uow: UnitOfWork) -> None:
    cycle_with_applications(uow)
    pairings.propose(uow, YEAR, actor="chair", now=OCT_1)
    pairings.approve(uow, YEAR, actor="chair", now=OCT_1)
    imported = applications.list_applications(uow, YEAR).applications

    listed = mentoring("applications", "list", str(YEAR), "--json")
    assert listed.code == 0, listed.stderr
    rows = listed.json
    assert len(rows) == len(imported) == 83  # the sample lines the intake accepts
    assert set(rows[0]) == {"member_id", "name", "role", "state", "submitted_at", "source"}
    first = next(r for r in rows if r["member_id"] == "C100079")
    assert first == {
        "member_id": "C100079",
        "name": "Quinn Wang",
        "role": "mentor",
        "state": first["state"],
        "submitted_at": "2026-08-01T22:21:00+00:00",
        "source": "import",
    }
    assert {r["source"] for r in rows} == {"import"}
    assert {r["state"] for r in rows} <= {"paired", "waiting_list", "not_paired"}
    assert "paired" in {r["state"] for r in rows}

    human = mentoring("applications", "list", str(YEAR), env={"COLUMNS": "200"})
    assert human.code == 0, human.stderr
    assert "C100079" in human.stdout and "Chicago time" in human.stdout
    assert "import" in human.stdout


def test_an_application_made_on_the_site_is_listed_as_such(uow: UnitOfWork) -> None:
    from domain.cycle_states import CycleEvent, Trigger
    from flows.usecases import cycles, members

    aug_2 = datetime(2026, 8, 2, 12, tzinfo=UTC)
    cycles.create_cycle(uow, YEAR, timezone="America/Chicago", milestones={}, actor="chair")
    cycles.fire_event(
        uow, YEAR, CycleEvent.open_call, actor="s", trigger=Trigger.schedule, now=aug_2
    )
    members.import_roster(uow, DATA / "roster.csv", actor="chair", now=aug_2)
    form = {
        "role": "mentee",
        "areas": ["Technology"],
        "career_stage": "early",
        "library_type": "academic",
        "time_zone": "America/New_York",
        "goals": "learn systems work",
        "max_mentees": "",
    }
    saved = site_applications.apply_on_site(
        uow, YEAR, "C100011", form, now=datetime(2026, 8, 10, 15, tzinfo=UTC)
    )
    assert isinstance(saved, site_applications.ApplicationSaved)
    listed = mentoring("applications", "list", str(YEAR), "--json")
    assert listed.json == [
        {
            "member_id": "C100011",
            "name": "Aiko Fujita",
            "role": "mentee",
            "state": "received",
            "submitted_at": "2026-08-10T15:00:00+00:00",
            "source": "site",
        }
    ]
    human = mentoring("applications", "list", str(YEAR), env={"COLUMNS": "200"})
    assert "Mon Aug 10, 2026, 10:00 AM" in human.stdout and "site" in human.stdout


def test_an_unknown_year_is_refused_in_one_line(uow: UnitOfWork) -> None:
    refused = mentoring("applications", "list", "2031")
    assert refused.code == 1 and refused.stdout == ""
    assert refused.stderr.strip().count("\n") == 0
    assert "there is no cycle 2031" in refused.stderr
    as_json = mentoring("applications", "list", "2031", "--json")
    assert as_json.code == 1 and as_json.json["exit"] == 1
