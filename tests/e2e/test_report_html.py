"""The assessment report: its HTML opens offline in a real (headless) Chromium and draws
its charts, and the Prefect flow publishes its markdown as the cycle's artifact."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest
from prefect.artifacts import Artifact

from domain.cycle_states import CycleEvent, Trigger
from flows.assessment_report import publish_assessment_report
from flows.usecases import assessment, cycles
from infra import db
from infra.assessment_report import render_report
from infra.tables import AssessmentResponseRow, PairingSetRow, PairRow
from infra.uow import UnitOfWork
from tests.browser import launched, page_allowing
from tests.builders import DATA, paired_cycle

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "assessment-report.png"
QUESTIONS = ("overall", "goals_met", "would_recommend", "will_continue")


def earlier_cycle(uow: UnitOfWork, year: int, answers: list[tuple[int, int, bool, bool]]) -> None:
    """A past cycle stored as rows: one pair per answer plus two pairs who did not answer."""
    cycles.create_cycle(uow, year, timezone="America/Chicago", milestones={}, actor="chair")
    at = datetime(year + 1, 7, 10, tzinfo=UTC)
    with uow:
        pairing = PairingSetRow(cycle_year=year, status="approved", proposed_at=at)
        uow.session.add(pairing)
        uow.session.flush()
        for n in range(len(answers) + 2):
            uow.session.add(
                PairRow(
                    set_id=pairing.id,
                    mentor_id=f"M{year}-{n}",
                    mentee_id=f"E{year}-{n}",
                    score=1.0,
                    explanation="",
                    status="active",
                )
            )
        for n, (overall, goals, recommend, cont) in enumerate(answers):
            uow.session.add(
                AssessmentResponseRow(
                    cycle_year=year,
                    member_id=f"E{year}-{n}",
                    role="mentee",
                    submitted_at=at,
                    overall=overall,
                    goals_met=goals,
                    would_recommend=recommend,
                    will_continue=cont,
                    comments="",
                )
            )
        uow.commit()


@pytest.fixture(scope="module")
def report_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Cycle 2026 ended with the sample survey imported, after two earlier cycles."""
    url = f"sqlite:///{tmp_path_factory.mktemp('report') / 'mentoring.db'}"
    db.upgrade(url)
    uow = UnitOfWork(db.session_factory(url))
    earlier_cycle(uow, 2024, [(3, 3, True, False), (4, 3, True, True), (2, 2, False, False)])
    earlier_cycle(uow, 2025, [(4, 4, True, True), (4, 3, True, False), (5, 4, True, True)])
    paired_cycle(uow)
    for event, month, day, year in (
        (CycleEvent.start_orientation, 11, 20, 2026),
        (CycleEvent.start_mentoring, 12, 1, 2026),
        (CycleEvent.end_mentoring, 7, 1, 2027),
    ):
        when = datetime(year, month, day, 12, tzinfo=UTC)
        cycles.fire_event(uow, 2026, event, actor="s", trigger=Trigger.schedule, now=when)
    assessment.import_responses(uow, 2026, DATA / "assessment.csv", actor="chair")
    return url


@pytest.fixture(scope="module")
def report_file(report_database: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    uow = UnitOfWork(db.session_factory(report_database))
    path = tmp_path_factory.mktemp("html") / "assessment-2026.html"
    path.write_text(render_report(assessment.report(uow, 2026).as_dict(), "html"), encoding="utf-8")
    return path


@pytest.mark.browser
def test_the_html_report_draws_every_chart_offline(chromium: Path, report_file: Path) -> None:
    html = report_file.read_text(encoding="utf-8")
    assert "C1000" not in html and "E2025-" not in html
    refused: list[str] = []
    # its own Playwright, closed at the test's end: a Playwright left running keeps an
    # event loop that turns the next test's Prefect calls into coroutines
    with (
        launched(chromium) as running,
        page_allowing(running, "file://", (1200, 900), refused) as page,
    ):
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(report_file.as_uri())
        page.wait_for_selector("#chart-trend .main-svg", timeout=20_000)
        plots: Any = page.eval_on_selector_all(
            ".js-plotly-plot",
            "nodes => nodes.map(n => [n.id, n.querySelectorAll('.main-svg').length, "
            "n.querySelectorAll('.bars .point').length, "
            "n.querySelectorAll('.scatterlayer .trace').length])",
        )
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)
    drawn = {plot_id: (svgs, bars, lines) for plot_id, svgs, bars, lines in plots}
    assert set(drawn) == {f"chart-{q}" for q in QUESTIONS} | {"chart-trend"}
    assert all(svgs >= 1 for svgs, _, _ in drawn.values())
    assert [drawn[f"chart-{q}"][1] for q in QUESTIONS] == [5, 5, 2, 2]
    assert drawn["chart-trend"][2] == 5
    assert errors == [] and refused == []
    assert SCREENSHOT.stat().st_size > 10_000


@pytest.mark.prefect
def test_the_flow_publishes_the_report_as_the_cycles_markdown_artifact(
    report_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MENTORING_DATABASE_URL", report_database)
    result = publish_assessment_report(2026)
    assert result == {
        "year": 2026,
        "artifact_key": "cycle-2026-assessment",
        "responses": 61,
        "response_rate": 0.6489,
    }
    artifact = cast(Artifact | None, Artifact.get("cycle-2026-assessment"))
    assert artifact is not None and artifact.type == "markdown"
    assert str(artifact.data).startswith("# Core Mentoring Program: assessment of cycle 2026")
    assert "| mentees | 35 | 60 | 58% |" in str(artifact.data)
