"""Through what an import came: a run started from a form records its trigger and flow run
as a transition does, the command line's records stay as they were, the cycle's story
says so, and a refused roster line names its member."""

from datetime import UTC, datetime
from pathlib import Path

from domain.cycle_states import CycleEvent, Trigger
from flows.usecases import applications, assessment, cycles, members
from flows.usecases.audit_story import story
from infra.uow import UnitOfWork
from tests.builders import AUG_2, DATA, paired_cycle

RUN = "5b0c1d7e-2f7a-4c44-9a51-0d7f1e0c2b11"
ROSTER_HEADER = "member_id,first_name,last_name,email,institution,membership_expires\n"


def _records(uow: UnitOfWork, year: int | None, kind: str) -> list[dict[str, object]]:
    with uow:
        return [dict(r.fields) for r in uow.audit.records(year, kind)]


def _open_call(uow: UnitOfWork) -> None:
    cycles.create_cycle(uow, 2026, timezone="America/Chicago", milestones={}, actor="chair")
    cycles.fire_event(
        uow, 2026, CycleEvent.open_call, actor="s", trigger=Trigger.schedule, now=AUG_2
    )


def test_a_roster_import_from_a_form_records_its_trigger_and_run(uow: UnitOfWork) -> None:
    members.import_roster(uow, DATA / "roster.csv", actor="chair", now=AUG_2)
    members.import_roster(
        uow,
        DATA / "roster.csv",
        actor="Pat Chair",
        now=AUG_2,
        trigger=Trigger.manual,
        flow_run_id=RUN,
    )
    by_cli, by_form = _records(uow, None, "roster_imported")
    assert "trigger" not in by_cli and "flow_run_id" not in by_cli
    assert (by_form["trigger"], by_form["flow_run_id"]) == ("manual", RUN)


def test_application_imports_say_through_what_they_came(uow: UnitOfWork) -> None:
    _open_call(uow)
    members.import_roster(uow, DATA / "roster.csv", actor="chair", now=AUG_2)
    source = DATA / "applications.csv"
    applications.import_applications(uow, 2026, source, actor="chair", now=AUG_2)
    applications.import_applications(
        uow, 2026, source, actor="Pat Chair", now=AUG_2, trigger=Trigger.manual, flow_run_id=RUN
    )
    by_cli, by_form = _records(uow, 2026, "applications_imported")
    assert by_cli["trigger"] == "import" and "flow_run_id" not in by_cli
    assert (by_form["trigger"], by_form["flow_run_id"]) == ("manual", RUN)

    told = story(uow, 2026)
    assert [
        (i["actor"], i["through"], i["trigger"], i["flow_run_id"])
        for i in (told.applications["imports"])
    ] == [("chair", "import", "import", None), ("Pat Chair", "import", "manual", RUN)]
    said = [(e["what"].split(":")[0], e["actor"]) for e in told.timeline]
    assert ("applications imported from applications.csv", "chair") in said
    assert ("applications imported in the Prefect UI from applications.csv", "Pat Chair") in said
    with uow:
        sources = uow.applications.sources(2026)
    assert set(sources.values()) == {"import"}  # an import still, whichever way it came


def test_survey_answers_from_a_form_record_their_trigger_and_run(uow: UnitOfWork) -> None:
    paired_cycle(uow)
    for event, month in (
        (CycleEvent.start_orientation, datetime(2026, 11, 20, 12, tzinfo=UTC)),
        (CycleEvent.start_mentoring, datetime(2026, 12, 1, 12, tzinfo=UTC)),
        (CycleEvent.end_mentoring, datetime(2027, 7, 1, 12, tzinfo=UTC)),
    ):
        cycles.fire_event(uow, 2026, event, actor="s", trigger=Trigger.schedule, now=month)
    assessment.import_responses(
        uow,
        2026,
        DATA / "assessment.csv",
        actor="Pat Chair",
        now=datetime(2027, 7, 10, 15, tzinfo=UTC),
        trigger=Trigger.manual,
        flow_run_id=RUN,
    )
    [fields] = _records(uow, 2026, "assessment_imported")
    assert (fields["trigger"], fields["flow_run_id"]) == ("manual", RUN)
    said = [e["what"] for e in story(uow, 2026).timeline]
    assert any(w.startswith("survey responses imported in the Prefect UI from ") for w in said)


def test_a_refused_roster_line_names_its_member_when_its_id_is_usable(
    uow: UnitOfWork, tmp_path: Path
) -> None:
    path = tmp_path / "roster.csv"
    path.write_text(
        ROSTER_HEADER
        + "C200000,Ann,Lee,ann.lee@example.org,Some Library,2027-06-30\n"
        + "C200001,Bo,Kim,not-an-address,Some Library,2027-06-30\n"
        + "C 2/1,Cy,Ng,cy.ng@example.org,Some Library,2027-06-30\n"
        + ",Di,Oh,di.oh@example.org,Some Library,2027-06-30\n"
    )
    result = members.import_roster(uow, path, actor="chair", dry_run=True)
    assert [(r["line"], r.get("member_id")) for r in result.rejected] == [
        (3, "C200001"),
        (4, None),  # the id itself is what is wrong: the reason says so
        (5, None),
    ]
