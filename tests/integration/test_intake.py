"""Roster and application imports on a real database, with the shipped sample files."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from domain.cycle_states import CycleEvent, Trigger
from domain.errors import DomainError
from flows.usecases import applications, audit, cycles, members
from infra.form_mapping import load_mapping
from infra.tables import ApplicationRow, MemberRow
from infra.uow import UnitOfWork
from tests.cli import mentoring

DATA = Path(__file__).resolve().parents[1] / "data"
OPEN = datetime(2026, 8, 1, 12, tzinfo=UTC)
HEADER = (
    "submitted_at,member_id,email,role,areas,career_stage,institution,library_type,"
    "time_zone,goals,max_mentees\n"
)


def count(uow: UnitOfWork, table: type) -> int:
    with uow:
        return int(uow.session.scalar(select(func.count()).select_from(table)) or 0)


@pytest.fixture
def open_call(uow: UnitOfWork) -> UnitOfWork:
    cycles.create_cycle(uow, 2026, timezone="America/Chicago", milestones={}, actor="chair")
    cycles.fire_event(
        uow, 2026, CycleEvent.open_call, actor="s", trigger=Trigger.schedule, now=OPEN
    )
    members.import_roster(uow, DATA / "roster.csv", actor="chair", now=OPEN)
    return uow


def test_the_roster_imports_and_reimporting_changes_nothing(uow: UnitOfWork) -> None:
    first = members.import_roster(uow, DATA / "roster.csv", actor="chair")
    assert (first.added, first.updated, first.rejected) == (400, 0, [])
    again = members.import_roster(uow, DATA / "roster.csv", actor="chair")
    assert (again.added, again.updated, again.unchanged) == (0, 0, 400)
    assert count(uow, MemberRow) == 400


def test_a_changed_roster_line_updates_the_member(uow: UnitOfWork, tmp_path: Path) -> None:
    members.import_roster(uow, DATA / "roster.csv", actor="chair")
    text = (DATA / "roster.csv").read_text().replace("2028-03-16", "2029-01-01", 1)
    (tmp_path / "r.csv").write_text(text)
    result = members.import_roster(uow, tmp_path / "r.csv", actor="chair")
    assert (result.added, result.updated) == (0, 1)


def test_the_sample_applications_import_with_reasons_for_refusals(open_call: UnitOfWork) -> None:
    result = applications.import_applications(
        open_call, 2026, DATA / "applications.csv", actor="chair", now=OPEN
    )
    assert result.imported + len(result.rejected) + len(set(result.replaced)) >= 120 - 1
    assert result.imported == count(open_call, ApplicationRow)
    for refusal in result.rejected:
        assert refusal["line"] >= 2 and refusal["reason"]


def test_both_google_form_exports_import_through_the_shipped_mappings(
    open_call: UnitOfWork,
) -> None:
    for name in ("mentor", "mentee"):
        result = applications.import_applications(
            open_call,
            2026,
            DATA / f"{name}_form.csv",
            actor="chair",
            mapping=load_mapping(f"google_forms_{name}"),
            now=OPEN,
        )
        assert result.imported > 0
    with open_call:
        roles = set(open_call.session.scalars(select(ApplicationRow.role)))
    assert roles == {"mentor", "mentee", "both"}


def test_a_dry_run_writes_nothing(open_call: UnitOfWork) -> None:
    result = applications.import_applications(
        open_call, 2026, DATA / "applications.csv", actor="chair", dry_run=True, now=OPEN
    )
    assert result.imported > 0 and count(open_call, ApplicationRow) == 0


def test_bad_lines_are_named_and_the_good_ones_go_in(open_call: UnitOfWork, tmp_path: Path) -> None:
    good = (DATA / "applications.csv").read_text().splitlines()[1]
    bad_role = good.replace(",mentor,", ",sensei,").replace(",mentee,", ",sensei,")
    unknown = (
        "2026-08-05T10:00,C999999,x@example.org,mentee,Technology,early,X,public,"
        "America/Chicago,goal,\n"
    )
    path = tmp_path / "apps.csv"
    path.write_text(HEADER + good + "\n" + bad_role + "\n" + unknown)
    result = applications.import_applications(open_call, 2026, path, actor="chair", now=OPEN)
    assert result.imported == 1
    assert [
        (r["line"], "role" in r["reason"] or "roster" in r["reason"]) for r in result.rejected
    ] == [(3, True), (4, True)]
    assert "not on the Core roster" in result.rejected[1]["reason"]


def test_a_repeated_application_replaces_the_earlier_one(
    open_call: UnitOfWork, tmp_path: Path
) -> None:
    good = (DATA / "applications.csv").read_text().splitlines()[1]
    path = tmp_path / "a.csv"
    path.write_text(HEADER + good + "\n")
    applications.import_applications(open_call, 2026, path, actor="chair", now=OPEN)
    path.write_text(HEADER + good.replace("facilities planning", "new goals") + "\n")
    result = applications.import_applications(open_call, 2026, path, actor="chair", now=OPEN)
    assert result.replaced == ["C100079"]
    with open_call:
        goals = open_call.session.scalars(select(ApplicationRow.goals)).all()
    assert goals == ["new goals and renovation"]
    record = audit.history(open_call, 2026).records[-1]
    assert record.kind == "applications_imported" and record.fields["replaced"] == ["C100079"]


def test_applications_are_refused_once_the_call_has_closed(open_call: UnitOfWork) -> None:
    cycles.fire_event(
        open_call,
        2026,
        CycleEvent.close_applications,
        actor="s",
        trigger=Trigger.schedule,
        now=datetime(2026, 10, 1, 12, tzinfo=UTC),
    )
    with pytest.raises(
        DomainError,
        match=r"accepted only while the call is open.*the committee can accept late applications",
    ):
        applications.import_applications(open_call, 2026, DATA / "applications.csv", actor="chair")
    refused = mentoring("applications", "import", "2026", str(DATA / "applications.csv"))
    assert refused.code == 1
    assert "the committee can accept late applications" in refused.stderr
    assert "--allow-late" in refused.stderr
    assert count(open_call, ApplicationRow) == 0


def sample_lines(count: int) -> list[str]:
    return (DATA / "applications.csv").read_text().splitlines()[1 : count + 1]


def test_every_line_that_is_not_csv_is_refused_on_its_own_and_the_others_still_count(
    open_call: UnitOfWork, tmp_path: Path
) -> None:
    first, second, third = sample_lines(3)
    path = tmp_path / "apps.csv"
    path.write_text(
        HEADER
        + first
        + "\n"
        + second
        + ",one cell,too many\n"
        + third
        + "\n"
        + '2026-08-05T10:00,"C100001,a@example.org,mentee\n'
        + "swallowed,line\n"
    )
    result = applications.import_applications(open_call, 2026, path, actor="chair", now=OPEN)
    assert result.imported == 2
    assert [r["line"] for r in result.rejected] == [3, 5]
    assert "has 13 cells but the header has 11" in result.rejected[0]["reason"]
    assert "a quote opened here is never closed" in result.rejected[1]["reason"]
    assert "lines 5–6" in result.rejected[1]["reason"]
    assert count(open_call, ApplicationRow) == 2


def test_a_roster_line_with_too_many_cells_is_refused_and_the_rest_load(
    uow: UnitOfWork, tmp_path: Path
) -> None:
    lines = (DATA / "roster.csv").read_text().splitlines()
    path = tmp_path / "roster.csv"
    path.write_text("\n".join([lines[0], lines[1], lines[2] + ",extra", lines[3]]) + "\n")
    result = members.import_roster(uow, path, actor="chair")
    assert result.added == 2
    assert [(r["line"], "7 cells" in r["reason"]) for r in result.rejected] == [(3, True)]


def test_a_roster_with_no_valid_line_is_refused_naming_its_first_problem(
    uow: UnitOfWork, tmp_path: Path
) -> None:
    header = (DATA / "roster.csv").read_text().splitlines()[0]
    path = tmp_path / "roster.csv"
    path.write_text(header + '\nC1,"Ann,Lee,a@example.org,Lib,2027-01-01\n')
    with pytest.raises(DomainError, match=r"no valid roster line \(first problem: line 2: a quote"):
        members.import_roster(uow, path, actor="chair")
    assert count(uow, MemberRow) == 0


def test_what_concerns_the_whole_file_is_refused_in_one_sentence(
    open_call: UnitOfWork, tmp_path: Path
) -> None:
    first, second = sample_lines(2)
    path = tmp_path / "apps.csv"
    path.write_bytes((HEADER + first + "\n" + second + "\n").encode() + b"caf\xe9,x\n")
    with pytest.raises(DomainError, match=r"apps\.csv is not UTF-8: line 4 holds the byte 0xe9"):
        applications.import_applications(open_call, 2026, path, actor="chair", now=OPEN)
    with pytest.raises(DomainError, match=r"^cannot open .*nowhere\.csv: No such file"):
        members.import_roster(open_call, tmp_path / "nowhere.csv", actor="chair")
    path.write_text("member_id,name\nC1,Ann\n")
    with pytest.raises(DomainError, match=r"^apps\.csv: unknown column\(s\) 'name' and missing"):
        members.import_roster(open_call, path, actor="chair")
    assert count(open_call, ApplicationRow) == 0


def test_a_member_listed_twice_in_the_roster_is_reported_and_the_later_line_is_used(
    uow: UnitOfWork, tmp_path: Path
) -> None:
    lines = (DATA / "roster.csv").read_text().splitlines()
    again = lines[1].replace("Metro City Public Library", "Lakeshore Library")
    path = tmp_path / "roster.csv"
    path.write_text("\n".join([lines[0], lines[1], lines[2], again]) + "\n")
    result = members.import_roster(uow, path, actor="chair")
    assert (result.added, result.rejected) == (
        2,
        [
            {
                "line": 2,
                "member_id": "C100000",
                "reason": "member C100000 is listed again on line 4; a roster lists each "
                "member once, and the later line was used",
            }
        ],
    )
    with uow:
        member = uow.members.get("C100000")
    assert member is not None and member.institution == "Lakeshore Library"
