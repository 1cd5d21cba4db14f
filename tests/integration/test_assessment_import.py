"""Survey imports and the assessment report on a real database, with the shipped samples."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from domain.cycle_states import CycleEvent, Trigger
from domain.errors import DomainError
from flows.cli.assessment import assessment_app
from flows.usecases import assessment, audit, cycles
from infra.tables import AssessmentResponseRow, AuditRow, PairingSetRow, PairRow
from infra.uow import UnitOfWork
from tests.builders import DATA, paired_cycle

JULY_10 = datetime(2027, 7, 10, 15, tzinfo=UTC)
HEADER = "submitted_at,member_id,role,overall,goals_met,would_recommend,will_continue,comments\n"
MENTOR_ONLY, MENTEE_ONLY, BOTH, NOT_PAIRED = "C100002", "C100001", "C100016", "C100003"


def walk(uow: UnitOfWork, *events: tuple[CycleEvent, datetime], year: int = 2026) -> None:
    for event, when in events:
        cycles.fire_event(uow, year, event, actor="s", trigger=Trigger.schedule, now=when)


TO_ACTIVE = (
    (CycleEvent.start_orientation, datetime(2026, 11, 20, 12, tzinfo=UTC)),
    (CycleEvent.start_mentoring, datetime(2026, 12, 1, 12, tzinfo=UTC)),
)
END = (CycleEvent.end_mentoring, datetime(2027, 7, 1, 12, tzinfo=UTC))


@pytest.fixture
def ended(uow: UnitOfWork) -> UnitOfWork:
    """Cycle 2026 with the sample pairs (34 mentors, 60 mentees, 12 both), mentoring ended."""
    paired_cycle(uow)
    walk(uow, *TO_ACTIVE, END)
    return uow


def stored(uow: UnitOfWork) -> int:
    with uow:
        return int(uow.session.scalar(select(func.count()).select_from(AssessmentResponseRow)) or 0)


def write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "survey.csv"
    path.write_text(HEADER + "".join(f"{line}\n" for line in lines))
    return path


def test_the_sample_survey_checks_dry_then_imports_with_its_repeat_replacing_the_first(
    ended: UnitOfWork,
) -> None:
    dry = assessment.import_responses(
        ended, 2026, DATA / "assessment.csv", actor="chair", dry_run=True, now=JULY_10
    )
    assert (dry.imported, dry.replaced, dry.dry_run) == (61, 1, True)
    assert stored(ended) == 0
    assert audit.history(ended, 2026).records[-1].kind != "assessment_imported"
    result = assessment.import_responses(
        ended, 2026, DATA / "assessment.csv", actor="chair", now=JULY_10
    )
    assert (result.imported, result.replaced, result.rejected) == (61, 1, [])
    assert stored(ended) == 61
    with ended:
        again = ended.session.scalars(
            select(AssessmentResponseRow).where(AssessmentResponseRow.member_id == "C100014")
        ).one()
    assert (again.overall, again.will_continue) == (4, True)
    record = audit.history(ended, 2026).records[-1]
    assert (record.kind, record.actor) == ("assessment_imported", "chair")
    fields = dict(record.fields)
    seals = fields.pop("seals")
    assert fields == {
        "file": "assessment.csv",
        "imported": 61,
        "replaced": 1,
        "rejected": [],
    }
    # The import sealed each of the 61 answers it stored (one of them replaced in place).
    assert isinstance(seals, dict) and seals["rows"] == 61
    assert audit.verify(ended).problems == []


def test_lines_from_outside_the_pairs_or_in_the_wrong_role_are_refused_by_line(
    ended: UnitOfWork, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        f"2027-07-02T10:00,{MENTOR_ONLY},mentor,5,4,yes,yes,Great year",
        f"2027-07-02T11:00,{NOT_PAIRED},mentee,4,4,yes,yes,",
        f"2027-07-02T12:00,{MENTEE_ONLY},mentor,4,4,yes,no,",
        f"2027-07-02T13:00,{BOTH},mentor,4,3,yes,yes,",
        f"2027-07-02T14:00,{BOTH},mentee,3,3,no,no,",
        f"2027-07-02T15:00,{MENTEE_ONLY},mentee,7,4,yes,no,",
        "2027-07-02T16:00,C10/0001,mentee,4,4,yes,no,",
    )
    result = assessment.import_responses(ended, 2026, path, actor="chair", now=JULY_10)
    assert (result.imported, result.replaced) == (3, 0)
    assert [r["line"] for r in result.rejected] == [3, 4, 7, 8]
    assert [r.get("member_id") for r in result.rejected] == [
        NOT_PAIRED,
        MENTEE_ONLY,
        MENTEE_ONLY,
        None,  # a malformed id is the reason's business, not the member column's
    ], "a refused line names its member, as a refused roster line does"
    assert "holds a space or a '/'" in result.rejected[3]["reason"]
    assert f"member {NOT_PAIRED} is not a participant of cycle 2026" in result.rejected[0]["reason"]
    assert "as mentee, not as mentor; use role mentee" in result.rejected[1]["reason"]
    assert (
        "overall '7' is not allowed; use a whole number from 1 to 5"
        in (result.rejected[2]["reason"])
    )
    assert stored(ended) == 3


def test_a_later_import_replaces_a_members_earlier_answer(
    ended: UnitOfWork, tmp_path: Path
) -> None:
    first = write(tmp_path, f"2027-07-02T10:00,{BOTH},mentee,2,2,no,no,meh")
    assessment.import_responses(ended, 2026, first, actor="chair", now=JULY_10)
    second = write(tmp_path, f"2027-07-09T10:00,{BOTH},mentee,5,5,yes,yes,Better now")
    result = assessment.import_responses(ended, 2026, second, actor="chair", now=JULY_10)
    assert (result.imported, result.replaced) == (1, 1)
    with ended:
        row = ended.session.scalars(select(AssessmentResponseRow)).one()
    assert (row.overall, row.comments) == (5, "Better now")
    kinds = [r.kind for r in audit.history(ended, 2026).records]
    assert kinds.count("assessment_imported") == 2


def test_responses_are_refused_outside_the_survey_window_naming_the_state(
    uow: UnitOfWork,
) -> None:
    paired_cycle(uow)
    walk(uow, *TO_ACTIVE)
    with pytest.raises(DomainError, match=r"cycle 2026 is in state active: .* ended"):
        assessment.import_responses(uow, 2026, DATA / "assessment.csv", actor="chair")
    walk(
        uow,
        END,
        (CycleEvent.complete_assessment, datetime(2027, 8, 1, 12, tzinfo=UTC)),
    )
    with pytest.raises(DomainError, match="state assessed"):
        assessment.import_responses(uow, 2026, DATA / "assessment.csv", actor="chair")
    assert stored(uow) == 0


def earlier_cycle(uow: UnitOfWork) -> None:
    """Cycle 2025 as rows: two pairs (one ended early), three answers out of four places."""
    cycles.create_cycle(uow, 2025, timezone="America/Chicago", milestones={}, actor="chair")
    at = datetime(2026, 7, 10, tzinfo=UTC)
    with uow:
        pairing = PairingSetRow(cycle_year=2025, status="approved", proposed_at=at)
        uow.session.add(pairing)
        uow.session.flush()
        for mentor, mentee, status in (("M1", "E1", "active"), ("M2", "E2", "ended")):
            uow.session.add(
                PairRow(
                    set_id=pairing.id,
                    mentor_id=mentor,
                    mentee_id=mentee,
                    score=1.0,
                    explanation="",
                    status=status,
                )
            )
        for member, role, overall, cont in (("M1", "mentor", 3, False), ("E1", "mentee", 5, True)):
            uow.session.add(
                AssessmentResponseRow(
                    cycle_year=2025,
                    member_id=member,
                    role=role,
                    submitted_at=at,
                    overall=overall,
                    goals_met=3,
                    would_recommend=True,
                    will_continue=cont,
                    comments="",
                )
            )
        uow.commit()


def test_the_report_trend_and_cycle_outcomes_cover_every_cycle_with_answers(
    ended: UnitOfWork,
) -> None:
    earlier_cycle(ended)
    assessment.import_responses(ended, 2026, DATA / "assessment.csv", actor="chair")
    trend = assessment.report(ended, 2026).as_dict()["trend"]
    assert trend["years"] == [2025, 2026]
    assert trend["series"]["response_rate"] == [1.0, 0.6489]
    assert trend["series"]["overall"] == [4.0, 4.0656]
    assert trend["change"]["will_continue"] == pytest.approx(0.6885 - 0.5, abs=1e-4)
    assert assessment.report(ended, 2025).trend.years == (2025,)
    with ended:
        rate = assessment.response_rate(ended, 2026)
    assert (rate["responses"], rate["participants"], rate["response_rate"]) == (61, 94, 0.6489)
    mentees = rate["by_role"]["mentee"]
    assert (mentees["responses"], mentees["participants"], mentees["response_rate"]) == (
        35,
        60,
        0.5833,
    )
    outcomes = {o.year: o.as_dict() for o in assessment.cycle_outcomes(ended)}
    assert outcomes[2025] == {
        "year": 2025,
        "state": "planned",
        "pairs": 1,
        "completion": 0.5,
        "responses": 2,
        "response_rate": 1.0,
        "mean_overall": 4.0,
    }
    assert (outcomes[2026]["pairs"], outcomes[2026]["completion"]) == (60, 1.0)
    assert outcomes[2026]["mean_overall"] == 4.0656


def test_the_survey_tool_export_imports_through_the_shipped_mapping_on_the_command_line(
    ended: UnitOfWork, tmp_path: Path
) -> None:
    runner = CliRunner()
    imported = runner.invoke(
        assessment_app,
        [
            "import",
            "2026",
            str(DATA / "assessment_survey_export.csv"),
            "--mapping",
            "survey_tool_assessment",
            "--actor",
            "chair",
            "--json",
        ],
    )
    assert imported.exit_code == 0, imported.output
    assert json.loads(imported.stdout) == {
        "imported": 61,
        "replaced": 1,
        "rejected": [],
        "dry_run": False,
    }
    report = json.loads(runner.invoke(assessment_app, ["report", "2026", "--json"]).stdout)
    assert (report["responses"], report["participants"], report["people"]) == (61, 94, 82)
    assert report["response_rate"] == 0.6489
    assert report["by_role"] == {
        "mentor": {"responses": 26, "participants": 34, "response_rate": 0.7647},
        "mentee": {"responses": 35, "participants": 60, "response_rate": 0.5833},
    }
    assert report["distributions"]["overall"] == {"1": 0, "2": 0, "3": 9, "4": 39, "5": 13}
    assert report["distributions"]["will_continue"] == {"yes": 42, "no": 19}
    assert report["means"] == {"overall": 4.0656, "goals_met": 3.8852}
    assert report["will_continue_share"] == 0.6885
    assert len(report["comments"]) == 34
    markdown = runner.invoke(assessment_app, ["report", "2026", "--format", "md"]).stdout
    assert markdown.startswith("# Core Mentoring Program: assessment of cycle 2026")
    assert "| mentees | 35 | 60 | 58% |" in markdown
    html = tmp_path / "report.html"
    written = runner.invoke(assessment_app, ["report", "2026", "-f", "html", "-o", str(html)])
    assert written.exit_code == 0 and written.stdout == ""
    assert "C1000" not in markdown and "C1000" not in html.read_text()


def test_complete_assessment_records_the_response_rate_it_closed_with(
    ended: UnitOfWork, tmp_path: Path
) -> None:
    survey = write(
        tmp_path,
        f"2027-07-02T10:00,{MENTOR_ONLY},mentor,4,4,yes,yes,",
        f"2027-07-03T10:00,{MENTEE_ONLY},mentee,5,4,yes,no,",
    )
    assessment.import_responses(ended, 2026, survey, actor="chair", now=JULY_10)
    walk(ended, (CycleEvent.complete_assessment, datetime(2027, 8, 1, 12, tzinfo=UTC)))
    closing = audit.history(ended, 2026).transitions[-1]
    with ended:
        record = ended.session.get(AuditRow, closing.seq)
        assert record is not None
        recorded = record.fields["assessment"]
    assert recorded["responses"] == 2
    assert recorded["by_role"]["mentor"]["responses"] == 1
    assert recorded["response_rate"] == round(2 / recorded["participants"], 4)


def test_survey_lines_that_are_not_csv_are_refused_by_line_and_the_rest_go_in(
    ended: UnitOfWork, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        f"2027-07-02T10:00,{MENTOR_ONLY},mentor,5,4,yes,yes,Great, really great",
        f"2027-07-02T11:00,{MENTEE_ONLY},mentee,4,4,yes,yes,fine",
        f'2027-07-02T13:00,{BOTH},mentor,4,3,yes,yes,"never closed',
        f"2027-07-02T14:00,{BOTH},mentee,3,3,no,no,",
    )
    result = assessment.import_responses(ended, 2026, path, actor="chair", now=JULY_10)
    assert result.imported == 1
    assert [r["line"] for r in result.rejected] == [2, 4]
    assert "has 9 cells but the header has 8" in result.rejected[0]["reason"]
    assert "lines 4–5 were read as one value" in result.rejected[1]["reason"]
    assert stored(ended) == 1
