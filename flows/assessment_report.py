"""Publish a cycle's assessment report as a markdown artifact the committee reads in the UI.

Triggered by ``mentoring.cycle.complete_assessment`` (the survey window has closed), or run
by hand at any time to see the answers so far. Publishing again adds a new version under
the same artifact key, and the UI shows the latest.
"""

from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact

from flows.usecases import assessment
from flows.usecases.assessment import AssessmentReport
from infra.assessment_report import render_report
from infra.uow import UnitOfWork


def artifact_key(year: int) -> str:
    """Prefect artifact keys allow lowercase letters, digits and dashes only."""
    return f"cycle-{year}-assessment"


@task(retries=2, retry_delay_seconds=5)
def build_report(year: int) -> AssessmentReport:
    """The report's figures, read in one transaction."""
    return assessment.report(UnitOfWork.from_settings(), year)


@task
def publish(year: int, report: AssessmentReport) -> str:
    """Post the report as markdown under the cycle's assessment key."""
    key = artifact_key(year)
    create_markdown_artifact(
        key=key,
        markdown=render_report(report.as_dict(), "md"),
        description=f"Assessment of mentoring cycle {year}: {report.responses} responses",
    )
    return key


@flow(name="publish-assessment-report", log_prints=True)
def publish_assessment_report(year: int) -> dict[str, Any]:
    """Build cycle YEAR's assessment report and publish it as an artifact.

    Args:
        year: the cycle's year (the year its call for applications opens).
    """
    report = build_report(year)
    key = publish(year, report)
    get_run_logger().info(
        "cycle %s assessment: %s responses, response rate %s; artifact %s",
        year,
        report.responses,
        report.response_rate,
        key,
    )
    return {
        "year": year,
        "artifact_key": key,
        "responses": report.responses,
        "response_rate": report.response_rate,
    }
