"""The committee's path through the real Prefect UI, in a real (headless) browser.

A real ``prefect server start`` on a free port, the work pool, ``prefect deploy --all``
with the project's prefect.yaml and a process worker, on a temporary SQLite database
(tests/prefect_ui.py); then Chromium fills the forms the committee fills. This module
does not use the session's test harness (its server has no UI). Screenshots go to
docs/screenshots/.
"""

import re
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.prefect_ui import (
    RUN_TIMEOUT_MS,
    Stack,
    committee_page,
    final_state,
    resume,
    run_from_custom_form,
    running_stack,
    shot,
    show_log_line,
    write_csv,
)

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

pytestmark = pytest.mark.browser


@pytest.fixture(scope="session", autouse=True)
def prefect_harness() -> Iterator[None]:
    """Overrides the e2e harness: these tests talk to their own real server."""
    yield


@pytest.fixture(scope="module")
def stack(chromium: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Server, work pool, deployments and worker on a temporary database (cycle 2026)."""

    def create_the_cycle(stack: Stack) -> None:
        stack.mentoring("cycle", "create", "2026")

    with running_stack(tmp_path_factory.mktemp("prefect-ui"), create_the_cycle) as running:
        yield running


@pytest.fixture
def page(stack: Stack, chromium: Path) -> Iterator["Page"]:
    """A Chromium page that may only talk to the local server."""
    with committee_page(stack, chromium) as page:
        yield page


def test_the_committee_opens_the_call_from_the_custom_run_form(page: "Page", stack: Stack) -> None:
    from playwright.sync_api import expect

    page.goto(f"{stack.base_url}/v2/deployments")
    main = page.get_by_role("main")
    expect(main.get_by_text(re.compile(r"^\d+ Deployments?$"))).to_be_visible()
    # ten a page, by name: the committee's forms come first (the rest by the search box)
    for name in ("Announce the pairings", "Begin mentoring", "Cancel this year"):
        link = main.get_by_role("link", name=name, exact=True).and_(
            page.locator('[href*="/deployments/deployment/"]')
        )
        expect(link).to_be_visible()
    shot(page, "ui-deployments.png")
    step = "Open the call for applications"

    def fill(form: "Locator") -> None:
        # Only what a person fills in: their name, the year, a reason; no event, no trigger.
        expect(form.get_by_role("textbox", name="your_name", exact=True)).to_be_visible()
        expect(form.get_by_role("textbox", name="trigger")).to_have_count(0)
        form.get_by_role("textbox", name="your_name", exact=True).fill("Pat Chair (UI)")
        form.get_by_role("textbox", name=re.compile(r"^year")).fill("2026")
        form.get_by_role("textbox", name=re.compile(r"^reason")).fill("UI test")

    run_id = run_from_custom_form(page, stack, step, fill, "ui-custom-run-form.png")
    final_state(page, stack)
    show_log_line(page, "is now open for applications")
    shot(page, "ui-run-completed.png")

    assert stack.mentoring_json("cycle", "show", "2026")["state"] == "call_open"
    transitions = stack.mentoring_json("audit", "2026")["transitions"]
    assert [
        (t["event"], t["target"], t["actor"], t["trigger"], t["flow_run_id"]) for t in transitions
    ] == [("open_call", "call_open", "Pat Chair (UI)", "manual", run_id)]


def _cycle_ready_for_pairing(stack: Stack, folder: Path) -> int:
    """A cycle whose applications closed days ago, with five applicants (via the CLI).

    Its year is next year, so it never meets the other test's cycle 2026; its call dates
    are moved into the past so that every step is due, whatever today is.
    """
    year = date.today().year + 1
    opened = date.today() - timedelta(days=4)
    people = [
        ("UI001", "mentor", "Technology;Leadership & Management", "senior", "academic", "2"),
        ("UI002", "mentor", "Leadership & Management", "mid", "public", "1"),
        ("UI003", "mentee", "Technology", "early", "academic", ""),
        ("UI004", "mentee", "Leadership & Management", "student", "public", ""),
        ("UI005", "mentee", "Technology", "early", "school", ""),
    ]
    roster, applications = [], []
    for member_id, role, areas, stage, kind, capacity in people:
        email, library = f"{member_id.lower()}@example.org", f"{member_id} Library"
        roster.append(
            {"member_id": member_id, "first_name": "Test", "last_name": member_id,
             "email": email, "institution": library, "membership_expires": "2099-12-31"}
        )  # fmt: skip
        applications.append(
            {"submitted_at": f"{opened.isoformat()}T12:00:00-06:00", "member_id": member_id,
             "email": email, "role": role, "areas": areas, "career_stage": stage,
             "institution": library, "library_type": kind, "time_zone": "America/Chicago",
             "goals": f"grow in {areas}", "max_mentees": capacity}
        )  # fmt: skip
    stack.mentoring(
        "cycle", "create", str(year), "--open-call", opened.isoformat(),
        "--close-applications", (opened + timedelta(days=1)).isoformat(),
        "--announce-pairings", (opened + timedelta(days=2)).isoformat(),
    )  # fmt: skip
    stack.mentoring("members", "import", str(write_csv(folder / "roster.csv", roster)))
    stack.mentoring("cycle", "advance", str(year), "open_call", "--actor", "test")
    apps = write_csv(folder / "applications.csv", applications)
    stack.mentoring("applications", "import", str(year), str(apps))
    stack.mentoring("cycle", "advance", str(year), "close_applications", "--actor", "test")
    return year


def _start_review(stack: Stack, year: int) -> str:
    """Start a "Review the pairings" run through the API (the Resume form is what is
    tested)."""
    from prefect import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with (
        temporary_settings(updates={PREFECT_API_URL: stack.env["PREFECT_API_URL"]}),
        get_client(sync_client=True) as client,
    ):
        deployment = client.read_deployment_by_name("Review the pairings/Review the pairings")
        run = client.create_flow_run_from_deployment(
            deployment.id, parameters={"year": str(year), "your_name": "Pat Chair (UI)"}
        )
    return str(run.id)


def _wait_for_state(stack: Stack, year: int, state: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while stack.mentoring_json("cycle", "show", str(year))["state"] != state:
        assert time.monotonic() < deadline, f"cycle {year} never reached {state}\n" + (
            stack.log_tail("worker.log")
        )
        time.sleep(1)


def test_the_committee_approves_pairings_in_the_resume_form(
    page: "Page", stack: Stack, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    year = _cycle_ready_for_pairing(stack, tmp_path)
    run_id = _start_review(stack, year)

    page.goto(f"{stack.base_url}/v2/runs/flow-run/{run_id}")
    main = page.get_by_role("main")
    expect(main.get_by_text("Paused", exact=True).first).to_be_visible(timeout=RUN_TIMEOUT_MS)
    main.get_by_role("tab", name="Artifacts").click()
    expect(main.get_by_text(f"cycle-{year}-pairings").first).to_be_visible()
    shot(page, "ui-review-paused.png")
    main.get_by_role("button", name="Open menu").first.click()
    page.get_by_role("menuitem", name="Resume").click()
    dialog = page.get_by_role("dialog", name="Resume Flow Run")
    reviewer = dialog.get_by_role("textbox", name="Reviewer")
    reviewer.fill("Pat Chair (UI)")
    expect(reviewer).to_have_value("Pat Chair (UI)")
    approve = dialog.get_by_role("switch", name="Approve (Optional)")
    approve.click()
    expect(approve).to_be_checked()
    shot(page, "ui-resume-form.png")
    resume(page, dialog)

    # approving emits mentoring.pairings.approved, which triggers announce-when-approved;
    # the announcement date has passed, so that run moves the cycle to paired
    _wait_for_state(stack, year, "paired")
    final_state(page, stack)
    history = stack.mentoring_json("audit", str(year))
    approvals = [d for d in history["pairing_decisions"] if d["decision"] == "approved"]
    assert [r["actor"] for r in approvals] == ["Pat Chair (UI)"]
    announced = history["transitions"][-1]
    assert (announced["event"], announced["actor"], announced["trigger"]) == (
        "announce_pairings",
        "automation",
        "event",
    )
    assert announced["flow_run_id"] not in (None, run_id)
