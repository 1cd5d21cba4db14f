"""The committee's path through the real Prefect UI, in a real (headless) browser.

A real ``prefect server start`` on a free port (temporary PREFECT_HOME), the work pool,
``prefect deploy --all`` with the project's prefect.yaml and a process worker, all on a
temporary SQLite database; then Chromium fills the forms the committee fills. This module
does not use the session's test harness (its server has no UI). Screenshots go to
docs/screenshots/.
"""

import csv
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from flows import prefect_server
from tests.browser import page_allowing

pytestmark = pytest.mark.browser

SHOTS = prefect_server.PROJECT_ROOT / "docs" / "screenshots"
RUN_TIMEOUT_MS = 60_000


@pytest.fixture(scope="session", autouse=True)
def prefect_harness() -> Iterator[None]:
    """Overrides the e2e harness: these tests talk to their own real server."""
    yield


@dataclass(frozen=True)
class Stack:
    base_url: str
    env: dict[str, str]
    logs: Path

    def mentoring(self, *args: str) -> str:
        """Run ``mentoring ARGS`` on the test database; its standard output."""
        done = subprocess.run(
            [*_mentoring_command(), *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, f"mentoring {' '.join(args)}: {done.stderr}"
        return done.stdout

    def mentoring_json(self, *args: str) -> Any:
        """``mentoring ARGS --json``, parsed."""
        return json.loads(self.mentoring(*args, "--json"))

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.logs / name
        text = path.read_text(errors="replace") if path.exists() else ""
        return f"--- {name} ---\n" + "\n".join(text.splitlines()[-lines:])


def _mentoring_command() -> list[str]:
    script = Path(sys.executable).with_name("mentoring")
    return [str(script)] if script.exists() else [sys.executable, "-m", "flows.cli"]


@pytest.fixture(scope="module")
def stack(chromium: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Server, work pool, deployments and worker on a temporary database (cycle 2026)."""
    tmp = tmp_path_factory.mktemp("prefect-ui")
    port = prefect_server.free_port()
    home = tmp / "prefect-home"
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "MENTORING_"))}
    base.update(
        MENTORING_DATABASE_URL=f"sqlite:///{tmp / 'mentoring.db'}",
        MENTORING_HOME=str(tmp / "mentoring-home"),
        PREFECT_WORKER_QUERY_SECONDS="2",
        PREFECT_WORKER_PREFETCH_SECONDS="2",
    )
    api_url = prefect_server.api_url_for("127.0.0.1", port)
    env = prefect_server.client_env(base, api_url, home, None)
    with (tmp / "server.log").open("wb") as server_log, (tmp / "worker.log").open("wb") as wlog:
        server = prefect_server.start_server(
            prefect_server.server_env(base, "127.0.0.1", port, home, None), server_log
        )
        worker = None
        try:
            stack = Stack(base_url=f"http://127.0.0.1:{port}", env=env, logs=tmp)
            stack.mentoring("db", "upgrade")  # while the server starts
            stack.mentoring("cycle", "create", "2026")
            prefect_server.wait_until_healthy(api_url, server, timeout=90)
            prefect_server.ensure_work_pool(env)
            prefect_server.deploy_all(env)
            worker = prefect_server.start_worker(env, log=wlog)
            yield stack
        finally:
            if worker is not None:
                prefect_server.stop_worker(worker)
            prefect_server.stop(server, 1, 15.0)


@pytest.fixture
def page(stack: Stack, chromium: Path) -> Iterator[Any]:
    """A Chromium page that may only talk to the local server."""
    with page_allowing(chromium, stack.base_url, (1400, 1000)) as page:
        page.set_default_timeout(30_000)
        yield page


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def _final_state(page: Any, stack: Stack) -> str:
    """Wait on the flow run page until the run ends; its final state's name."""
    from playwright.sync_api import expect

    ended = re.compile(r"^(Completed|Failed|Crashed|Cancelled)$")
    badge = page.get_by_role("main").get_by_text(ended).first
    expect(badge).to_be_visible(timeout=RUN_TIMEOUT_MS)
    state = str(badge.inner_text())
    assert state == "Completed", stack.log_tail("worker.log")
    return state


def _show_log_line(page: Any, text: str) -> None:
    """Reload the run page until its logs (sent when the run ends) show ``text``."""
    from playwright.sync_api import expect

    for _ in range(10):
        page.reload()
        page.get_by_role("tab", name="Logs").click()
        line = page.get_by_role("main").get_by_text(text).first
        try:
            expect(line).to_be_visible(timeout=2_000)
            return
        except AssertionError:
            continue
    expect(line).to_be_visible()


def test_the_committee_opens_the_call_from_the_custom_run_form(page: Any, stack: Stack) -> None:
    from playwright.sync_api import expect

    page.goto(f"{stack.base_url}/v2/deployments")
    step = "Open the call for applications"
    deployment_link = page.get_by_role("link", name=step, exact=True).and_(
        page.locator('[href*="/deployments/deployment/"]')
    )
    expect(deployment_link).to_be_visible()
    for name in ("Close applications", "Announce the pairings", "Cancel this year"):
        expect(page.get_by_role("link", name=name, exact=True).first).to_be_visible()
    _shot(page, "ui-deployments.png")

    deployment_link.click()
    page.get_by_role("button", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Custom run").click()
    # Only what a person fills in: their name, the year, a reason; no event, no trigger.
    expect(page.get_by_role("textbox", name="trigger")).to_have_count(0)
    page.get_by_role("textbox", name="your_name", exact=True).fill("Pat Chair (UI)")
    page.get_by_role("textbox", name=re.compile(r"^year")).fill("2026")
    page.get_by_role("textbox", name=re.compile(r"^reason")).fill("UI test")
    _shot(page, "ui-custom-run-form.png")
    page.get_by_role("button", name="Submit").click()

    toast = page.get_by_role("region", name=re.compile("Notifications")).get_by_role("listitem")
    expect(toast.first).to_contain_text("scheduled to start")
    match = re.match(r"(\S+) scheduled to start", toast.first.inner_text())
    assert match, toast.first.inner_text()
    page.get_by_role("link", name="View run").click()
    page.wait_for_url(re.compile(r".*/runs/flow-run/[0-9a-f-]{36}.*"))
    run_id = re.search(r"flow-run/([0-9a-f-]{36})", page.url)
    assert run_id
    main = page.get_by_role("main")
    expect(main.get_by_role("navigation", name="breadcrumb").first).to_contain_text(match[1])
    _final_state(page, stack)
    _show_log_line(page, "is now open for applications")
    _shot(page, "ui-run-completed.png")

    assert stack.mentoring_json("cycle", "show", "2026")["state"] == "call_open"
    transitions = stack.mentoring_json("audit", "2026")["transitions"]
    assert [
        (t["event"], t["target"], t["actor"], t["trigger"], t["flow_run_id"]) for t in transitions
    ] == [("open_call", "call_open", "Pat Chair (UI)", "manual", run_id[1])]


def _write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


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
    stack.mentoring("members", "import", str(_write_csv(folder / "roster.csv", roster)))
    stack.mentoring("cycle", "advance", str(year), "open_call", "--actor", "test")
    apps = _write_csv(folder / "applications.csv", applications)
    stack.mentoring("applications", "import", str(year), str(apps))
    stack.mentoring("cycle", "advance", str(year), "close_applications", "--actor", "test")
    return year


def _start_review(stack: Stack, year: int) -> str:
    """Start a review-pairings run through the API (the Resume form is what is tested)."""
    from prefect import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with (
        temporary_settings(updates={PREFECT_API_URL: stack.env["PREFECT_API_URL"]}),
        get_client(sync_client=True) as client,
    ):
        deployment = client.read_deployment_by_name("review-pairings/review-pairings")
        run = client.create_flow_run_from_deployment(
            deployment.id, parameters={"year": year, "timeout_hours": 1, "poll_seconds": 1}
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
    page: Any, stack: Stack, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    year = _cycle_ready_for_pairing(stack, tmp_path)
    run_id = _start_review(stack, year)

    page.goto(f"{stack.base_url}/v2/runs/flow-run/{run_id}")
    main = page.get_by_role("main")
    expect(main.get_by_text("Paused", exact=True).first).to_be_visible(timeout=RUN_TIMEOUT_MS)
    main.get_by_role("tab", name="Artifacts").click()
    expect(main.get_by_text(f"cycle-{year}-pairings").first).to_be_visible()
    _shot(page, "ui-review-paused.png")
    main.get_by_role("button", name="Open menu").first.click()
    page.get_by_role("menuitem", name="Resume").click()
    dialog = page.get_by_role("dialog", name="Resume Flow Run")
    reviewer = dialog.get_by_role("textbox", name="Reviewer")
    reviewer.fill("Pat Chair (UI)")
    expect(reviewer).to_have_value("Pat Chair (UI)")
    approve = dialog.get_by_role("switch", name="Approve (Optional)")
    approve.click()
    expect(approve).to_be_checked()
    _shot(page, "ui-resume-form.png")
    dialog.get_by_role("button", name="Resume").click()
    # the dialog closes once the server has accepted the input; a loaded CI machine
    # can take longer than Playwright's 5 s default to answer
    expect(dialog).to_be_hidden(timeout=RUN_TIMEOUT_MS)

    # approving emits mentoring.pairings.approved, which triggers announce-when-approved;
    # the announcement date has passed, so that run moves the cycle to paired
    _wait_for_state(stack, year, "paired")
    _final_state(page, stack)
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
