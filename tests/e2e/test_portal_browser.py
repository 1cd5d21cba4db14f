"""The participants' site in a real (headless) browser: a member's whole path, the apply
path with the keyboard alone, and axe-core on every page (and that it reports a problem).

Each test starts ``mentoring portal`` as a subprocess on a free port, on a temporary
MENTORING_HOME with its own SQLite database and .eml mail folder; the committee's part
(schema, roster, cycle, opening the call) goes through the ``mentoring`` command as a
committee runs it. Sign-in links are read from the mail the site delivers itself. Every
page is checked with axe-core (all rules axe runs by default: WCAG 2.x A and AA and best
practices) and photographed to docs/screenshots/portal-*.png.
"""

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from flows import prefect_server
from tests.browser import page_allowing
from tests.cli import mentoring
from tests.portal_browser import (
    SIGN_IN_LINK,
    Keyboard,
    Mailbox,
    PageChecks,
    heading,
    sign_in,
    sweep_with_tab,
)

pytestmark = pytest.mark.browser

YEAR = date.today().year + 1
"""Next year's cycle: its default calendar is all ahead but for the call, set to open a few
seconds after the test starts (the site takes applications from the call's date on)."""
CALL_OPENS_AFTER = timedelta(seconds=6)
SECRET_KEY = "browser-test-key-" + "k" * 40
MEMBERS = [
    ("B0001", "Ada", "Byron", "ada.byron@example.org"),
    ("B0002", "Grace", "Hopper", "grace.hopper@example.org"),
    ("B0003", "Alan", "Turing", "alan.turing@example.org"),
]
CLOSED_CALL = re.compile(
    r"The call for applications is closed(; the next call opens \w{3} \w{3} \d+, \d{4}, .+ time"
    r"|, and the next call has not been announced yet)\."
)
"""What a closed call says: when the next call opens; or, once that date has passed and the
call is still not opened (here, a few seconds into a test), that none is announced."""


@pytest.fixture(scope="session", autouse=True)
def prefect_harness() -> Iterator[None]:
    """Overrides the e2e harness: the site needs no Prefect server."""
    yield


@dataclass
class Portal:
    """One running ``mentoring portal`` and the committee's command line beside it."""

    base_url: str
    env: dict[str, str]
    mail_dir: Path
    log: Path
    call_opens: datetime | None = None
    mailbox: Mailbox = field(init=False)

    def __post_init__(self) -> None:
        self.mailbox = Mailbox(self.mail_dir, self.log_tail)

    def mentoring(self, *args: str) -> str:
        """``mentoring ARGS`` on the site's database; its standard output."""
        run = mentoring(*args, env=self.env)
        assert run.code == 0, f"mentoring {' '.join(args)}: {run.stderr}"
        return run.stdout

    def create_cycle(self) -> None:
        """Cycle YEAR, planned, its call due a few seconds from now."""
        self.call_opens = (datetime.now(UTC) + CALL_OPENS_AFTER).replace(microsecond=0)
        self.mentoring(
            "cycle", "create", str(YEAR), "--actor", "Committee",
            "--open-call", self.call_opens.isoformat(),
        )  # fmt: skip

    def open_call(self) -> None:
        """The committee opens the call once its date has come."""
        assert self.call_opens is not None, "create_cycle first"
        time.sleep(max(0.0, (self.call_opens - datetime.now(UTC)).total_seconds() + 0.5))
        self.mentoring("cycle", "advance", str(YEAR), "open_call", "--actor", "Committee")

    def log_tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "--- portal log ---\n" + "\n".join(text.splitlines()[-lines:])


def _write_roster(path: Path) -> None:
    expires = date(YEAR + 2, 1, 1).isoformat()
    rows = ["member_id,first_name,last_name,email,institution,membership_expires"]
    rows += [
        f"{i},{first},{last},{mail},Prairie State University Library,{expires}"
        for i, first, last, mail in MEMBERS
    ]
    path.write_text("\n".join(rows) + "\n")


def _wait_until_serving(url: str, server: subprocess.Popen[bytes], portal: Portal) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(
                f"mentoring portal exited {server.returncode}\n{portal.log_tail()}"
            )
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise AssertionError(f"mentoring portal did not answer /healthz\n{portal.log_tail()}")


@pytest.fixture
def portal(chromium: Path, tmp_path: Path) -> Iterator[Portal]:
    """``mentoring portal`` on a free port: roster imported, cycle YEAR planned, its call
    due in a few seconds."""
    port = prefect_server.free_port()
    base_url = f"http://127.0.0.1:{port}"
    home = tmp_path / "home"
    env = {
        "MENTORING_HOME": str(home),
        "MENTORING_DATABASE_URL": f"sqlite:///{tmp_path / 'mentoring.db'}",
        "MENTORING_MAIL_DIR": str(tmp_path / "mail"),
        "MENTORING_PORTAL_URL": base_url,
        "MENTORING_SECRET_KEY": SECRET_KEY,
        "MENTORING_SMTP_HOST": "",
    }
    portal = Portal(base_url, env, tmp_path / "mail", tmp_path / "portal.log")
    portal.mentoring("db", "upgrade")
    _write_roster(tmp_path / "roster.csv")
    portal.mentoring("members", "import", str(tmp_path / "roster.csv"), "--actor", "Committee")
    portal.create_cycle()
    with portal.log.open("wb") as log:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "flows.cli",
                "portal",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_until_serving(base_url, server, portal)
            yield portal
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


@pytest.fixture
def page(portal: Portal, chromium_browser: Any) -> Iterator[Any]:
    """A Chromium page that may only talk to the site."""
    with page_allowing(chromium_browser, portal.base_url, (1200, 900)) as page:
        page.set_default_timeout(15_000)
        yield page


def test_a_member_signs_in_applies_corrects_an_error_and_withdraws(
    portal: Portal, page: Any
) -> None:
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import expect

    checks = PageChecks()
    member_id, first, last, address = MEMBERS[0]
    link = sign_in(page, portal.base_url, portal.mailbox, address, checks)
    expect(page.get_by_text(f"Signed in as {first} {last}")).to_be_visible()
    checks.check(page, "me-before")

    page.get_by_role("navigation").get_by_role("link", name="Apply").click()
    expect(heading(page)).to_have_text("The call for applications is closed")
    expect(page.get_by_role("main")).to_contain_text(CLOSED_CALL)
    checks.check(page, "closed-call")

    portal.open_call()
    page.goto(f"{portal.base_url}/me")
    page.get_by_role("link", name="Apply now").click()
    expect(heading(page)).to_have_text("Apply to the mentoring program")
    checks.check(page, "apply")
    page.locator("input[name=role][value=mentor]").check()
    page.locator("input[name=areas][value='Technology']").check()
    page.locator("input[name=areas][value='Assessment']").check()
    page.locator("input[name=career_stage][value=senior]").check()
    page.get_by_label("What kind of library do you work in?").select_option("academic")
    page.get_by_label("Your time zone").select_option("America/New_York")
    page.get_by_label("What do you hope to gain").fill("Coaching new managers")
    page.get_by_label("how many mentees").fill("9")
    page.get_by_role("button", name="Send my application").click()

    summary = page.get_by_role("alert")
    expect(summary.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(summary).to_be_focused()
    error_link = summary.get_by_role("link")
    expect(error_link).to_have_count(1)
    expect(error_link).to_have_attribute("href", "#max_mentees")
    field_ = page.locator("#max_mentees")
    expect(field_).to_have_value("9")
    expect(field_).to_have_attribute("aria-describedby", re.compile(r"\bmax_mentees-error\b"))
    message = page.locator("#max_mentees-error")
    expect(message).to_contain_text(error_link.inner_text().strip())
    expect(page.locator("input[name=role][value=mentor]")).to_be_checked()
    expect(page.get_by_label("What do you hope to gain")).to_have_value("Coaching new managers")
    checks.check(page, "apply-errors")
    error_link.click()
    expect(page).to_have_url(f"{portal.base_url}/apply#max_mentees")
    expect(field_).to_be_in_viewport()

    field_.fill("2")
    page.get_by_role("button", name="Send my application").click()
    expect(heading(page)).to_have_text("Application received")
    expect(page.get_by_text("A confirmation mail follows")).to_be_visible()
    checks.check(page, "received")

    page.get_by_role("main").get_by_role("link", name="Where I stand").click()
    expect(page.get_by_text("on this site")).to_be_visible()
    expect(page.get_by_role("definition").filter(has_text="received")).to_be_visible()
    checks.check(page, "me-after")
    applications = json.loads(portal.mentoring("applications", "list", str(YEAR), "--json"))
    assert [(a["member_id"], a["source"]) for a in applications] == [(member_id, "site")]

    page.get_by_role("link", name="Withdraw from the program").click()
    expect(heading(page)).to_have_text("Withdraw from the program")
    checks.check(page, "withdraw")
    page.get_by_label("Why are you withdrawing?").fill("A new job leaves me no time this year")
    page.get_by_role("button", name="Continue").click()
    expect(heading(page)).to_have_text("Are you sure?")
    expect(page.get_by_text("A new job leaves me no time this year")).to_be_visible()
    checks.check(page, "withdraw-confirm")
    page.get_by_role("button", name="Yes, withdraw").click()
    expect(heading(page)).to_have_text("You have withdrawn")
    checks.check(page, "withdraw-done")
    page.get_by_role("main").get_by_role("link", name="Where I stand").click()
    expect(page.get_by_role("definition").filter(has_text="withdrawn")).to_be_visible()

    page.goto(link)
    with page.expect_response(lambda r: r.url == link and r.request.method == "POST") as refused:
        page.get_by_role("button", name="Sign in").click()
    assert refused.value.status == 410
    expect(page.get_by_text("This sign-in link has already been used.")).to_be_visible()
    expect(page.get_by_role("link", name="Ask for a new link")).to_have_attribute(
        "href", "/sign-in"
    )
    checks.check(page, "sign-in-refused")
    checks.assert_clean()

    # The check itself works under the site's Content-Security-Policy: an unlabelled field
    # added to the page is reported.
    page.evaluate("() => document.querySelector('main').append(document.createElement('input'))")
    results = Axe().run(page)
    assert results.violations_count > 0
    assert "label" in results.generate_report()


def test_the_whole_apply_path_works_with_the_keyboard_alone(portal: Portal, page: Any) -> None:
    from playwright.sync_api import expect

    member_id, _, _, address = MEMBERS[1]
    keys = Keyboard(page)
    portal.open_call()
    page.goto(f"{portal.base_url}/sign-in")
    keys.type_into("email", address)
    keys.press_button("/sign-in", "Send me a sign-in link")
    expect(heading(page)).to_have_text("Check your email")
    link = portal.mailbox.link(address, SIGN_IN_LINK)
    page.goto(link)  # opened from the mail
    keys.press_button(link.removeprefix(portal.base_url), "Sign in")
    expect(page).to_have_url(f"{portal.base_url}/me")

    keys.follow_link("/apply")
    expect(heading(page)).to_have_text("Apply to the mentoring program")
    sweep_with_tab(page)
    keys.tick("areas", "Technology")
    keys.tick("areas", "Leadership & Management")
    keys.choose_radio("career_stage", "mid")
    keys.select("library_type", "public")
    keys.select("time_zone", "America/Denver")
    keys.type_into("goals", "Learning to lead a small team")
    keys.press_button("/apply", "Send my application")

    summary = page.get_by_role("alert")
    expect(summary.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link")).to_have_attribute("href", "#role")
    sweep_with_tab(page)
    keys.follow_link("#role")
    expect(page).to_have_url(f"{portal.base_url}/apply#role")
    assert keys.focused().name == "role", "the summary's link did not move the focus to role"
    keys.arrow_to("role", "mentor")
    expect(page.locator("input[name=role][value=mentor]")).to_be_checked()
    expect(page.locator("input[name=areas][value='Technology']")).to_be_checked()
    keys.type_into("max_mentees", "2")
    keys.press_button("/apply", "Send my application")
    expect(heading(page)).to_have_text("Application received")

    applications = json.loads(portal.mentoring("applications", "list", str(YEAR), "--json"))
    assert [(a["member_id"], a["role"], a["source"]) for a in applications] == [
        (member_id, "mentor", "site")
    ]
