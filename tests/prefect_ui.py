"""The real Prefect stack the browser tests drive, and the committee's moves in its UI.

A real ``prefect server start`` on a free port (temporary PREFECT_HOME), the work pool,
``prefect deploy --all`` with the project's prefect.yaml and a process worker, all on a
temporary SQLite database, optionally behind Prefect's sign-in; Chromium (Debian's, see
tests/browser.py) fills the forms the committee fills. Screenshots go to docs/screenshots/.
"""

import csv
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flows import prefect_server
from tests.browser import page_allowing

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page, Response

SHOTS = prefect_server.PROJECT_ROOT / "docs" / "screenshots"
RUN_TIMEOUT_MS = 90_000
"""How long a run may take to end: the worker starts a Python process per run, and the
machine running the tests may be busy."""
ENDED = re.compile(r"^(Completed|Failed|Crashed|Cancelled)$")

FormFill = Callable[["Locator"], None]
"""Fills a run form, given the page's main area."""


@dataclass(frozen=True)
class Stack:
    """A running server, its deployments and worker, and the program's database beside it."""

    base_url: str
    env: dict[str, str]
    logs: Path
    auth: str | None = None

    def mentoring(self, *args: str) -> str:
        """Run ``mentoring ARGS`` on the test database; its standard output."""
        done = subprocess.run(
            [*mentoring_command(), *args],
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


def mentoring_command() -> list[str]:
    script = Path(sys.executable).with_name("mentoring")
    return [str(script)] if script.exists() else [sys.executable, "-m", "flows.cli"]


def _no_preparation(stack: Stack) -> None:
    """Nothing to do while the server starts."""


@contextmanager
def running_stack(
    folder: Path,
    prepare: Callable[[Stack], None] = _no_preparation,
    *,
    auth: str | None = None,
    schedules: bool = True,
) -> Iterator[Stack]:
    """Server, work pool, deployments and worker on a temporary database in ``folder``.

    ``prepare`` runs (the schema is created first) while the server starts. ``auth``
    (``user:password``) puts the UI and the API behind Prefect's sign-in, as ``mentoring
    serve --auth`` does. Without ``schedules`` the server creates no scheduled runs, so
    only what the test starts runs (mail is delivered when the test says so)."""
    port = prefect_server.free_port()
    home = folder / "prefect-home"
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "MENTORING_"))}
    base.update(
        MENTORING_DATABASE_URL=f"sqlite:///{folder / 'mentoring.db'}",
        MENTORING_HOME=str(folder / "mentoring-home"),
        PREFECT_WORKER_QUERY_SECONDS="2",
        PREFECT_WORKER_PREFETCH_SECONDS="2",
    )
    server_env = prefect_server.server_env(base, "127.0.0.1", port, home, auth)
    if not schedules:
        server_env["PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED"] = "false"
    api_url = prefect_server.api_url_for("127.0.0.1", port)
    env = prefect_server.client_env(base, api_url, home, auth)
    with (
        (folder / "server.log").open("wb") as server_log,
        (folder / "worker.log").open("wb") as worker_log,
    ):
        server = prefect_server.start_server(server_env, server_log)
        worker = None
        try:
            stack = Stack(f"http://127.0.0.1:{port}", env, folder, auth)
            stack.mentoring("db", "upgrade")  # while the server starts
            prepare(stack)
            prefect_server.wait_until_healthy(api_url, server, timeout=120)
            prefect_server.ensure_work_pool(env)
            prefect_server.deploy_all(env)
            worker = prefect_server.start_worker(env, log=worker_log)
            yield stack
        finally:
            if worker is not None:
                prefect_server.stop_worker(worker)
            prefect_server.stop(server, 1, 15.0)


@contextmanager
def committee_page(stack: Stack, browser: Any) -> Iterator["Page"]:
    """A page of ``browser`` that may only talk to the local server. Its actions and
    ``expect``'s checks wait up to 30 s: the UI redraws after the server answers, which on
    a machine busy with the rest of the suite takes longer than Playwright's 5 s."""
    from playwright.sync_api import expect

    expect.set_options(timeout=30_000)
    with page_allowing(browser, stack.base_url, (1400, 1000)) as page:
        page.set_default_timeout(30_000)
        yield page


def sign_in(page: "Page", stack: Stack, screenshot: str | None = None) -> None:
    """Open the Deployments page through Prefect's sign-in page (``user:password`` in its
    one box), photographed as ``screenshot`` if named."""
    assert stack.auth, "this stack has no sign-in"
    page.goto(f"{stack.base_url}/v2/deployments")
    page.wait_for_url(re.compile(r".*/login.*"))
    box = page.get_by_placeholder("admin:pass")
    box.fill(stack.auth)
    if screenshot:
        shot(page, screenshot)
    page.get_by_role("button", name="Login").click()
    page.wait_for_url(re.compile(r".*/v2/deployments.*"))


def shot(page: "Page", name: str, showing: "Locator | None" = None) -> None:
    """The whole page, as docs/screenshots/NAME, without the notices that come and go;
    once ``showing`` is visible (an artifact's page is sometimes drawn again)."""
    from playwright.sync_api import expect

    if showing is not None:
        expect(showing).to_be_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True, style=_NO_NOTICES)


_NO_NOTICES = "[data-sonner-toaster], [data-sonner-toast] { visibility: hidden !important; }"


def final_state(page: "Page", stack: Stack, expected: str = "Completed") -> str:
    """Wait on the flow run page until the run ends; its final state's name, which must
    be ``expected``."""
    from playwright.sync_api import expect

    badge = page.get_by_role("main").get_by_text(ENDED).first
    expect(badge).to_be_visible(timeout=RUN_TIMEOUT_MS)
    state = str(badge.inner_text())
    assert state == expected, stack.log_tail("worker.log")
    return state


def show_log_line(page: "Page", text: str) -> None:
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


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def open_deployment(page: "Page", stack: Stack, name: str) -> None:
    """The deployment the committee knows by ``name``, found with the Deployments page's
    search box (the page lists ten at a time)."""
    from playwright.sync_api import expect

    page.goto(f"{stack.base_url}/v2/deployments")
    main = page.get_by_role("main")
    expect(main.get_by_text(re.compile(r"^\d+ Deployments?$"))).to_be_visible()
    main.get_by_role("textbox", name="Search deployments").fill(name)
    # the search applies after a pause, drawing the list again: wait until it has
    expect(main.get_by_role("row").filter(has_not_text=name)).to_have_count(1)  # the header
    link = main.get_by_role("link", name=name, exact=True).and_(
        page.locator('[href*="/deployments/deployment/"]')
    )
    link.click()
    expect(page).to_have_url(re.compile(r".*/deployments/deployment/[0-9a-f-]{36}.*"))
    expect(page.get_by_role("button", name="Run", exact=True)).to_be_visible()


def run_from_custom_form(
    page: "Page",
    stack: Stack,
    deployment: str,
    fill: FormFill,
    screenshot: str | None = None,
) -> str:
    """Open ``deployment``'s Custom run form, let ``fill`` fill it (it gets the page's
    main area), photograph it as ``screenshot`` if named, Submit, follow View run; the
    run's id. The page is left on the run's page."""
    open_deployment(page, stack, deployment)
    _choose_from_run_menu(page, "Custom run")
    page.wait_for_url(re.compile(r".*/deployments/deployment/[0-9a-f-]{36}/run.*"))
    fill(page.get_by_role("main"))
    if screenshot:
        shot(page, screenshot)
    _create_run(page, page.get_by_role("button", name="Submit").click)
    return _view_run(page)


def quick_run(page: "Page", stack: Stack, deployment: str) -> str:
    """Start ``deployment`` with its defaults (Run → Quick run), follow View run; the run's
    id. The page is left on the run's page."""
    open_deployment(page, stack, deployment)
    _create_run(page, lambda: _choose_from_run_menu(page, "Quick run"))
    return _view_run(page)


def _choose_from_run_menu(page: "Page", choice: str) -> None:
    """Open the deployment page's Run menu and choose ``choice``. The page may be drawn
    again while it loads, closing the menu under the pointer: then it is opened again."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    item = page.get_by_role("menuitem", name=choice)
    for _ in range(3):
        page.get_by_role("button", name="Run", exact=True).click()
        try:
            item.click(timeout=5_000)
            return
        except PlaywrightTimeout:
            continue
    page.get_by_role("button", name="Run", exact=True).click()
    item.click()


def _create_run(page: "Page", press: Callable[[], None]) -> None:
    """``press`` the button that asks the server for a new run; it must be created."""
    answer = _pressed_until_answered(page, press, "/create_flow_run")
    assert answer.status == 201, f"creating the run: {answer.status} {answer.text()[:300]}"


def resume(page: "Page", dialog: "Locator") -> None:
    """Press the Resume form's Resume button until the server takes the answer, then wait
    for the form to close (a busy machine may take longer than Playwright's default)."""
    from playwright.sync_api import expect

    press = dialog.get_by_role("button", name="Resume").click
    answer = _pressed_until_answered(page, press, "/resume")
    assert answer.ok, f"resuming the run: {answer.status} {answer.text()[:300]}"
    expect(dialog).to_be_hidden(timeout=RUN_TIMEOUT_MS)


def _pressed_until_answered(page: "Page", press: Callable[[], None], path_end: str) -> "Response":
    """``press`` a button that POSTs to a path ending in ``path_end``; the server's answer.
    A 503 is the Prefect server's SQLite refusing a write that another writer overtook
    ("database is locked"; docs/prefect.md, "Unknown error while creating flow run"):
    nothing was changed, the UI does not retry, and the committee presses again."""
    from playwright.sync_api import Response

    def asked(response: Response) -> bool:
        request = response.request
        return request.method == "POST" and request.url.endswith(path_end)

    for _ in range(3):
        with page.expect_response(asked) as answered:
            press()
        if answered.value.status != 503:
            break
    return answered.value


def _view_run(page: "Page") -> str:
    from playwright.sync_api import expect

    toasts = page.get_by_role("region", name=re.compile("Notifications")).get_by_role("listitem")
    toast = toasts.filter(has_text="scheduled to start").first
    expect(toast).to_be_visible()
    match = re.search(r"(\S+) scheduled to start", toast.inner_text())
    assert match, toast.inner_text()
    toast.get_by_role("link", name="View run").click()
    page.wait_for_url(re.compile(r".*/runs/flow-run/[0-9a-f-]{36}.*"))
    run_id = re.search(r"flow-run/([0-9a-f-]{36})", page.url)
    assert run_id, page.url
    expect(
        page.get_by_role("main").get_by_role("navigation", name="breadcrumb").first
    ).to_contain_text(match[1])
    return run_id[1]


def state_message(page: "Page") -> str:
    """The run's state message, as its Details tab shows it (on the run's page)."""
    main = page.get_by_role("main")
    main.get_by_role("tab", name="Details").click()
    term = main.get_by_role("term").filter(has_text="State Message")
    return str(term.locator("xpath=following-sibling::dd[1]").inner_text())


def run_artifact(page: "Page", key: str) -> "Locator":
    """Open the artifact ``key`` from the run page's Artifacts tab (reloading until the
    run's artifacts are listed); the rendered page."""
    from playwright.sync_api import expect

    main = page.get_by_role("main")
    card = main.get_by_role("link").filter(has=page.get_by_role("heading", name=key, exact=True))
    for _ in range(10):
        main.get_by_role("tab", name="Artifacts").click()
        try:
            expect(card).to_be_visible(timeout=2_000)
            break
        except AssertionError:
            page.reload()
    card.click()
    return _artifact_shown(page)


def artifact_by_key(page: "Page", stack: Stack, key: str) -> "Locator":
    """Open the latest version of the artifact ``key`` from the Artifacts page (its card,
    then the newest version on the key's page); the rendered page. The card is clicked in
    the full list: after a search in the page's search box, the click on a card
    sometimes ended back on the list."""
    page.goto(f"{stack.base_url}/v2/artifacts")
    main = page.get_by_role("main")
    main.get_by_role("link").filter(has=page.get_by_role("heading", name=key, exact=True)).click()
    page.wait_for_url(re.compile(r".*/artifacts/key/.*"))
    main.get_by_role("link", name=re.compile(r"^[0-9a-f]{8}$")).first.click()
    return _artifact_shown(page)


def _artifact_shown(page: "Page") -> "Locator":
    page.wait_for_url(re.compile(r".*/artifacts/artifact/[0-9a-f-]{36}.*"))
    shown = page.get_by_role("main").get_by_role("tabpanel", name="Artifact")
    rendered = shown.get_by_test_id("markdown-display")  # not the raw text beside it
    rendered.get_by_role("heading", level=1).wait_for()
    return rendered
