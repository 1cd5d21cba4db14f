"""The participants' site after pairing in a real (headless) browser: goals, the meeting
log, the monthly check-in opened from the reminder mail (with the keyboard alone), the
survey and the going-on question, each page and its error state checked with axe-core and
photographed to docs/screenshots/portal-*.png.

The site runs in this process (uvicorn in a thread) on a SQLite copy of the sample cycle,
its clock set to mid-January of mentoring and later to July, after the formal end: the
committee's part (pairing, the daily ticks that start mentoring, queue the check-in
reminders and end mentoring) runs through the same use cases the flows call, and the
reminders are delivered to the .eml folder the test reads the link from.
"""

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from domain.engagement import CheckIn
from domain.pairs import Pair
from flows import prefect_server
from flows.usecases import notifications
from flows.usecases.tick import run_tick
from flows.web import PortalSettings, create_app
from infra import db
from infra.uow import UnitOfWork
from tests.browser import page_allowing
from tests.builders import Clock, paired_cycle
from tests.portal_browser import (
    Keyboard,
    Mailbox,
    PageChecks,
    heading,
    served,
    sign_in,
    sweep_with_tab,
)

pytestmark = pytest.mark.browser

YEAR = 2026
NOV_20 = datetime(2026, 11, 20, 12, tzinfo=UTC)
DEC_1 = datetime(2026, 12, 1, 12, tzinfo=UTC)
JAN_2 = datetime(2027, 1, 2, 12, tzinfo=UTC)
JAN_15 = datetime(2027, 1, 15, 18, tzinfo=UTC)
JULY_2 = datetime(2027, 7, 2, 12, tzinfo=UTC)
LAST_DAY = date(2027, 7, 31)
SECRET_KEY = "browser-test-key-" + "e" * 40
NOTE = "We talked about my manager"


@pytest.fixture(scope="session", autouse=True)
def prefect_harness() -> Iterator[None]:
    """Overrides the e2e harness: the site needs no Prefect server."""
    yield


@dataclass
class EngagedSite:
    """The site on a cycle whose mentoring runs, one pair's partners, and the mail folder."""

    base_url: str
    uow: UnitOfWork
    clock: Clock
    mailbox: Mailbox
    pair: Pair

    def email(self, member_id: str) -> str:
        with self.uow:
            member = self.uow.members.get(member_id)
            assert member is not None
            return member.email

    def tick(self, now: datetime) -> None:
        """The daily tick at ``now``, then a delivery of what it queued; the site's clock
        moves to ``now``."""
        report = run_tick(self.uow, now=now)
        assert not report.failed and not report.held, report.as_dict()
        notifications.deliver(self.uow)
        self.clock.now = now


def _one_pair_each(uow: UnitOfWork) -> Pair:
    """A pair whose partners are in no other pair and stay members to the end."""
    with uow:
        pairs = uow.pairings.approved_pairs(YEAR)
        seen = [m for p in pairs for m in p.members]
        for pair in pairs:
            found = [uow.members.get(m) for m in pair.members]
            current = all(m is not None and m.is_core_member(LAST_DAY) for m in found)
            if current and all(seen.count(m) == 1 for m in pair.members):
                return pair
    raise AssertionError("the sample cycle has no pair of partners in one pair each")


@pytest.fixture
def site(
    chromium: Path, sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[EngagedSite]:
    """The sample cycle paired, mentoring begun, January's check-in reminders delivered;
    the site serving it on a free port with its clock on January 15."""
    port = prefect_server.free_port()
    base_url = f"http://127.0.0.1:{port}"
    path = tmp_path / "mentoring.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    for name, value in {
        "MENTORING_DATABASE_URL": url,
        "MENTORING_HOME": str(tmp_path / "home"),
        "MENTORING_MAIL_DIR": str(tmp_path / "mail"),
        "MENTORING_PORTAL_URL": base_url,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("MENTORING_SMTP_HOST", raising=False)
    uow = UnitOfWork(db.session_factory(url))
    paired_cycle(uow, YEAR)
    clock = Clock(JAN_15)
    engaged = EngagedSite(base_url, uow, clock, Mailbox(tmp_path / "mail"), _one_pair_each(uow))
    for when in (NOV_20, DEC_1, JAN_2):
        engaged.tick(when)
    clock.now = JAN_15
    app = create_app(PortalSettings(base_url, SECRET_KEY, url), clock=clock)
    with served(app, port):
        yield engaged


@pytest.fixture
def page(site: EngagedSite, chromium_browser: Any) -> Iterator[Any]:
    """A Chromium page that may only talk to the site."""
    with page_allowing(chromium_browser, site.base_url, (1200, 900)) as page:
        page.set_default_timeout(15_000)
        yield page


def _check_in_link(site: EngagedSite, address: str) -> str:
    """The link in January's check-in reminder to ``address``."""
    link = site.mailbox.link(address, re.compile(re.escape(site.base_url) + r"/check-in\b"))
    assert link == f"{site.base_url}/check-in"
    return link


def test_the_monthly_check_in_from_the_reminder_mail_with_the_keyboard_alone(
    site: EngagedSite, page: Any
) -> None:
    from playwright.sync_api import expect

    checks = PageChecks()
    address = site.email(site.pair.mentee_id)
    sign_in(page, site.base_url, site.mailbox, address)
    link = _check_in_link(site, address)
    page.goto(link)  # one click from the mail
    expect(page).to_have_url(link)
    expect(heading(page)).to_have_text("Monthly check-in")
    checks.check(page, "check-in")
    sweep_with_tab(page)

    keys = Keyboard(page)
    keys.choose_radio("score", "4")
    keys.press_button("/check-in", "Send my check-in")
    summary = page.get_by_role("alert")
    expect(summary.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link")).to_have_text(
        [
            "Choose whether you have met this month",
            "Choose whether you would like the committee to get in touch",
        ]
    )
    expect(page.locator("#met-error")).to_contain_text("Choose whether you have met this month")
    expect(page.locator("input[name=score][value='4']")).to_be_checked()
    checks.check(page, "check-in-errors")
    sweep_with_tab(page)

    keys.follow_link("#met")
    assert keys.focused().name == "met", "the summary's link did not move the focus to met"
    keys.arrow_to("met", "yes")
    keys.choose_radio("contact_committee", "no")
    keys.press_button("/check-in", "Send my check-in")
    expect(heading(page)).to_have_text("Check-in received")
    expect(page.get_by_text("your check-in for January 2027 is kept")).to_be_visible()
    checks.check(page, "check-in-received")

    with site.uow:
        [kept] = site.uow.engagement.check_ins(site.pair.id, ZoneInfo("America/Chicago"))
    assert (kept.member_id, kept.month, kept.answer) == (
        site.pair.mentee_id,
        "2027-01",
        CheckIn(met=True, score=4, contact_committee=False),
    )
    checks.assert_clean()


def test_goals_meetings_the_survey_and_going_on_pass_axe_with_their_errors(
    site: EngagedSite, page: Any
) -> None:
    from playwright.sync_api import expect

    checks = PageChecks()
    sign_in(page, site.base_url, site.mailbox, site.email(site.pair.mentor_id))
    checks.check(page, "me-paired")

    page.get_by_role("link", name="Your pair's goals").click()
    expect(heading(page)).to_have_text("Your pair's goals")
    checks.check(page, "goals")
    page.get_by_role("button", name="Save the goals").click()
    expect(page.get_by_role("alert").get_by_role("link")).to_have_attribute("href", "#goals")
    checks.check(page, "goals-errors")
    page.get_by_label("Goal 1").fill("Plan a budget")
    page.get_by_label("Goal 2 (optional)").fill("Lead a project")
    page.get_by_role("button", name="Save the goals").click()
    expect(page.get_by_role("listitem").filter(has_text="Lead a project")).to_be_visible()
    checks.check(page, "goals-set")

    page.get_by_role("link", name="Your pair's meetings").click()
    expect(heading(page)).to_have_text("Your pair's meetings")
    checks.check(page, "meetings")
    page.get_by_label("The day you met").fill("2027-01-14")
    page.get_by_label("About how long, in minutes").fill("9999")
    page.get_by_label("Video").check()
    page.get_by_label("A note (optional)").fill(NOTE)
    page.get_by_role("button", name="Log the meeting").click()
    expect(page.get_by_role("alert").get_by_role("link")).to_have_attribute("href", "#minutes")
    expect(page.get_by_label("A note (optional)")).to_have_value(NOTE)
    checks.check(page, "meetings-errors")
    page.get_by_label("About how long, in minutes").fill("45")
    page.get_by_role("button", name="Log the meeting").click()
    expect(page.get_by_role("cell", name=NOTE)).to_be_visible()
    checks.check(page, "meetings-logged")

    site.tick(JULY_2)  # formal mentoring ends; the session's day is over
    sign_in(page, site.base_url, site.mailbox, site.email(site.pair.mentor_id))
    page.get_by_role("link", name="The program's survey").click()
    expect(heading(page)).to_have_text("The program's survey")
    expect(page.get_by_role("listitem").filter(has_text="Plan a budget")).to_be_visible()
    checks.check(page, "survey")
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_role("alert").get_by_role("link")).to_have_count(4)
    checks.check(page, "survey-errors")
    for legend, answer in (
        ("Overall, how would you rate the program?", "4"),
        ("The program met my goals", "5 (fully)"),
        ("Would you recommend the program to a colleague?", "Yes"),
        ("Will you go on meeting your partner on your own?", "Yes"),
    ):
        page.get_by_role("group", name=legend).get_by_label(answer, exact=True).check()
    page.get_by_role("button", name="Send my answers").click()
    expect(heading(page)).to_have_text("Thank you")
    checks.check(page, "survey-done")

    page.goto(f"{site.base_url}/me")
    page.get_by_role("link", name="Do you go on meeting on your own?").click()
    expect(heading(page)).to_have_text("Do you go on meeting?")
    checks.check(page, "continuing")
    page.get_by_role("button", name="Send my answer").click()
    expect(page.get_by_role("alert").get_by_role("link")).to_have_attribute("href", "#continuing")
    checks.check(page, "continuing-errors")
    page.get_by_label("Yes").check()
    page.get_by_role("button", name="Send my answer").click()
    expect(heading(page)).to_have_text("Answer received")
    checks.check(page, "continuing-done")
    checks.assert_clean()


def _in_several_pairs(uow: UnitOfWork) -> str:
    """A member in more than one pair who stays a member to the end."""
    with uow:
        seen = [m for p in uow.pairings.approved_pairs(YEAR) for m in p.members]
        for member_id in sorted(set(seen)):
            member = uow.members.get(member_id)
            if seen.count(member_id) > 1 and member and member.is_core_member(LAST_DAY):
                return member_id
    raise AssertionError("the sample cycle has no member in several pairs")


def test_a_member_in_several_pairs_chooses_the_pair(site: EngagedSite, page: Any) -> None:
    from playwright.sync_api import expect

    checks = PageChecks()
    sign_in(page, site.base_url, site.mailbox, site.email(_in_several_pairs(site.uow)))
    page.get_by_role("link", name="Your pair's goals").click()
    expect(heading(page)).to_have_text("Your pair's goals")
    expect(page.get_by_text("You are in more than one pair")).to_be_visible()
    checks.check(page, "pair-choice")

    page.goto(f"{site.base_url}/check-in")
    pairs = page.get_by_role("group", name="Which pair is this about?")
    expect(pairs.get_by_role("radio")).not_to_have_count(0)
    page.get_by_role("button", name="Send my check-in").click()
    expect(page.get_by_role("alert").get_by_role("link")).to_have_text(
        [
            "Choose the pair this is about",
            "Choose whether you have met this month",
            "Choose how it is going, from 1 (badly) to 5 (very well)",
            "Choose whether you would like the committee to get in touch",
        ]
    )
    checks.check(page, "check-in-pairs-errors")
    checks.assert_clean()
