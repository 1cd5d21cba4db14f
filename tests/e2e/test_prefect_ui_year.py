"""The committee walks a whole year in the real Prefect UI, signed in, without the CLI.

Its own stack (tests/prefect_ui.py) behind Prefect's sign-in, without the scheduler, so
that mail goes out when the committee says so, and with an empty program database. In
headless Chromium: start last year's cycle from the "Start a new year" form (a past year,
so every default date up to the announcement has passed), import the roster and the
applications (each checked first, then imported), open and close the call, review the
pairings from "Review the pairings" by name and approve them, let the automation announce
them, deliver the mail, read the status page, the history and the history as it stood,
and make a mistake. The ``mentoring`` command is used only to check what each page
claims. Each page is photographed as docs/screenshots/ui-year-NN-*.png.
"""

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest

from tests.prefect_ui import (
    RUN_TIMEOUT_MS,
    FormFill,
    Stack,
    artifact_by_key,
    committee_page,
    final_state,
    quick_run,
    resume,
    run_artifact,
    run_from_custom_form,
    running_stack,
    shot,
    show_log_line,
    sign_in,
    state_message,
    write_csv,
)

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

pytestmark = pytest.mark.browser

YEAR = date.today().year - 1
"""Last year's cycle: its call, close and announcement dates have all passed."""
CHAIR = "Pat Chair"
CHICAGO = ZoneInfo("America/Chicago")


@dataclass(frozen=True)
class Person:
    member_id: str
    first: str
    last: str
    role: str
    areas: str
    stage: str
    library: str
    kind: str
    capacity: str = ""

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"

    @property
    def email(self) -> str:
        return f"{self.first}.{self.last}@example.org".lower()


PEOPLE = (
    Person("C300001", "Ada", "Lovelace", "mentor", "Technology;Leadership & Management",
           "senior", "Analytical Library", "academic", "1"),
    Person("C300002", "Grace", "Hopper", "mentor", "Leadership & Management", "mid",
           "Harbor Public Library", "public", "1"),
    Person("C300003", "Alan", "Turing", "mentee", "Technology", "early",
           "Bletchley College Library", "academic"),
    Person("C300004", "Katherine", "Johnson", "mentee", "Leadership & Management", "student",
           "Langley Public Library", "public"),
    Person("C300006", "Dorothy", "Vaughan", "mentee", "Technology", "early",
           "West Computing Library", "public"),
)  # fmt: skip
"""Two mentors with one place each and three mentees: one mentee is not paired."""
BAD_ADDRESS = "not-an-address"
LAST_LINE = str(len(PEOPLE) + 2)
"""The number of a file's bad last line (line 1 is the header)."""
NOT_ON_ROSTER = "C300099"


@pytest.fixture(scope="session", autouse=True)
def prefect_harness() -> Iterator[None]:
    """Overrides the e2e harness: this test talks to its own real server."""
    yield


@pytest.fixture(scope="module")
def stack(chromium: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The stack behind sign-in, without schedules; no cycle yet."""
    folder = tmp_path_factory.mktemp("prefect-ui-year")
    with running_stack(folder, auth="chair:a-long-secret", schedules=False) as running:
        yield running


@pytest.fixture
def page(stack: Stack, chromium_browser: Any) -> Iterator["Page"]:
    with committee_page(stack, chromium_browser) as page:
        yield page


def _roster(folder: Path) -> Path:
    """The members, then one line with a bad e-mail address (the last line)."""
    rows = [
        {"member_id": p.member_id, "first_name": p.first, "last_name": p.last,
         "email": p.email, "institution": p.library, "membership_expires": "2099-12-31"}
        for p in PEOPLE
    ]  # fmt: skip
    rows.append(
        {"member_id": "C300005", "first_name": "Bad", "last_name": "Address",
         "email": BAD_ADDRESS, "institution": "Nowhere Library",
         "membership_expires": "2099-12-31"}
    )  # fmt: skip
    return write_csv(folder / "roster.csv", rows)


def _applications(folder: Path) -> Path:
    """The applications, submitted in August of the cycle's year, then one from someone
    not on the roster (the last line)."""
    rows = [
        {"submitted_at": f"{YEAR}-08-{10 + n:02d}T12:00:00-05:00", "member_id": p.member_id,
         "email": p.email, "role": p.role, "areas": p.areas, "career_stage": p.stage,
         "institution": p.library, "library_type": p.kind, "time_zone": "America/Chicago",
         "goals": f"grow in {p.areas}", "max_mentees": p.capacity}
        for n, p in enumerate(PEOPLE)
    ]  # fmt: skip
    rows.append({**rows[-1], "member_id": NOT_ON_ROSTER, "email": "someone@example.org"})
    return write_csv(folder / "applications.csv", rows)


def _fill_import(source: Path, *, year: bool, check_only: bool) -> FormFill:
    def fill(form: "Locator") -> None:
        from playwright.sync_api import expect

        form.get_by_role("textbox", name="your_name", exact=True).fill(CHAIR)
        form.get_by_role("textbox", name="source", exact=True).fill(str(source))
        if year:
            form.get_by_role("textbox", name=re.compile(r"^year")).fill(str(YEAR))
        dry_run = form.get_by_role("switch", name=re.compile(r"^dry_run"))
        if not check_only:
            dry_run.click()
        expect(dry_run).to_be_checked(checked=check_only)

    return fill


def _fill_step(form: "Locator") -> None:
    """A step's form: your name and the year; no reason (each date has passed)."""
    form.get_by_role("textbox", name="your_name", exact=True).fill(CHAIR)
    form.get_by_role("textbox", name=re.compile(r"^year")).fill(str(YEAR))


def _fill_review(form: "Locator") -> None:
    """The review's form: your name and the year, and no machine parameter to leave alone."""
    from playwright.sync_api import expect

    for machine in ("max_rounds", "timeout_hours", "poll_seconds", "now"):
        expect(form.get_by_text(machine, exact=True)).to_have_count(0)
    _fill_step(form)


def _on(day: date, clock: str) -> str:
    """A default milestone as the program's pages say it, with its year, passed."""
    return f"{day:%a %b} {day.day}, {day.year}, {clock} Chicago time (passed)"


def _state(stack: Stack) -> str:
    return str(stack.mentoring_json("cycle", "show", str(YEAR))["state"])


def _wait_for_state(stack: Stack, state: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while _state(stack) != state:
        assert time.monotonic() < deadline, f"cycle {YEAR} never reached {state}\n" + (
            stack.log_tail("worker.log")
        )
        time.sleep(1)


@pytest.mark.timeout(600)
def test_the_committee_walks_a_whole_year_in_the_ui(
    page: "Page", stack: Stack, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    main = page.get_by_role("main")
    roster, applications = _roster(tmp_path), _applications(tmp_path)
    sign_in(page, stack, "ui-year-00-sign-in.png")
    # ten a page, by name: the committee's forms come first (the rest by the search box)
    expect(main.get_by_text(re.compile(r"^\d+ Deployments?$"))).to_be_visible()
    for name in ("Announce the pairings", "Begin mentoring", "Cancel this year"):
        link = main.get_by_role("link", name=name, exact=True).and_(
            page.locator('[href*="/deployments/deployment/"]')
        )
        expect(link).to_be_visible()
    shot(page, "ui-deployments.png")

    # 0. The year: last year's cycle, started from its form; its dates have passed.
    run_from_custom_form(
        page, stack, "Start a new year", _fill_step, "ui-year-01-new-year-form.png"
    )
    final_state(page, stack)
    assert state_message(page) == (
        f"Cycle {YEAR} is started (by {CHAIR}) and planned: its call for applications opens "
        f"{_on(date(YEAR, 8, 1), '12:00 AM')} and closes {_on(date(YEAR, 9, 30), '11:59 PM')}; "
        f"the pairings are announced {_on(date(YEAR, 11, 5), '12:00 AM')}."
    )
    shot(page, "ui-year-02-year-started.png")
    assert _state(stack) == "planned"

    # 1. The roster: checked first (nothing saved, the bad line named), then imported.
    run_from_custom_form(
        page,
        stack,
        "Import the membership roster",
        _fill_import(roster, year=False, check_only=True),
        "ui-year-03-roster-form.png",
    )
    final_state(page, stack)
    show_log_line(page, "Nothing was saved")
    assert f"{len(PEOPLE)} members would be added" in state_message(page)
    checked = run_artifact(page, "roster-import")
    expect(checked.get_by_role("heading", level=1)).to_contain_text("nothing was saved")
    bad_line = checked.get_by_role("row").filter(has_text=BAD_ADDRESS)
    expect(bad_line.get_by_role("cell").first).to_have_text(LAST_LINE)
    expect(bad_line).to_contain_text("is not an email address")
    shot(page, "ui-year-04-roster-checked.png", bad_line)
    assert stack.mentoring_json("members", "import", str(roster), "--dry-run")["added"] == len(
        PEOPLE
    )

    run_from_custom_form(
        page,
        stack,
        "Import the membership roster",
        _fill_import(roster, year=False, check_only=False),
    )
    final_state(page, stack)
    assert state_message(page).startswith(
        f"Roster imported (by {CHAIR}): {len(PEOPLE)} members added"
    )
    again = stack.mentoring_json("members", "import", str(roster), "--dry-run")
    assert (again["added"], again["unchanged"]) == (0, len(PEOPLE))

    # 2. Open the call for applications, from the form with all three boxes filled.
    def fill_open_call(form: "Locator") -> None:
        expect(form.get_by_role("textbox", name="your_name", exact=True)).to_be_visible()
        expect(form.get_by_role("textbox", name="trigger")).to_have_count(0)
        _fill_step(form)
        form.get_by_role("textbox", name=re.compile(r"^reason")).fill("On time, as planned")
        shot(page, "ui-custom-run-form.png")

    open_call_run = run_from_custom_form(
        page, stack, "Open the call for applications", fill_open_call, "ui-year-05-open-call.png"
    )
    final_state(page, stack)
    assert f"Cycle {YEAR} is now open for applications" in state_message(page)
    show_log_line(page, "is now open for applications")
    shot(page, "ui-run-completed.png")
    assert _state(stack) == "call_open"

    # 3. The applications: checked, then imported.
    run_from_custom_form(
        page,
        stack,
        "Import applications",
        _fill_import(applications, year=True, check_only=True),
        "ui-year-06-applications-form.png",
    )
    final_state(page, stack)
    assert f"{len(PEOPLE)} applications would be imported, 1 refused" in state_message(page)
    checked = run_artifact(page, f"cycle-{YEAR}-import-applications")
    refused = checked.get_by_role("row").filter(has_text=f"{NOT_ON_ROSTER} is not on")
    expect(refused.get_by_role("cell").first).to_have_text(LAST_LINE)
    shot(page, "ui-year-07-applications-checked.png", refused)
    assert stack.mentoring_json("applications", "list", str(YEAR)) == []

    run_from_custom_form(
        page, stack, "Import applications", _fill_import(applications, year=True, check_only=False)
    )
    final_state(page, stack)
    assert state_message(page).startswith(f"Imported {len(PEOPLE)} applications into cycle {YEAR}")
    listed = stack.mentoring_json("applications", "list", str(YEAR))
    assert sorted(a["member_id"] for a in listed) == [p.member_id for p in PEOPLE]

    # 4. Close applications; the moment after is the "as it stood" of step 7.
    run_from_custom_form(page, stack, "Close applications", _fill_step)
    final_state(page, stack)
    assert f"Cycle {YEAR} is now closed for applications" in state_message(page)
    shot(page, "ui-year-08-applications-closed.png")
    closed = datetime.now(CHICAGO).replace(microsecond=0) + timedelta(seconds=1)

    # 5. The pairing review: started from its form (your name, the year), read by name,
    # approved.
    run_id = run_from_custom_form(
        page, stack, "Review the pairings", _fill_review, "ui-year-09-review-form.png"
    )
    expect(main.get_by_text("Paused", exact=True).first).to_be_visible(timeout=RUN_TIMEOUT_MS)
    main.get_by_role("tab", name="Artifacts").click()
    expect(main.get_by_text(f"cycle-{YEAR}-pairings").first).to_be_visible()
    shot(page, "ui-review-paused.png")
    proposal = run_artifact(page, f"cycle-{YEAR}-pairings")
    for person in PEOPLE:
        expect(proposal.get_by_text(person.name).first).to_be_visible()
    expect(proposal.get_by_role("heading", name="Pairs (2)")).to_be_visible()
    expect(proposal.get_by_role("heading", name="Not paired (1)")).to_be_visible()
    shot(page, "ui-year-10-pairings.png", proposal.get_by_text(PEOPLE[-1].name).first)

    page.goto(f"{stack.base_url}/v2/runs/flow-run/{run_id}")
    main.get_by_role("button", name="Open menu").first.click()
    page.get_by_role("menuitem", name="Resume").click()
    dialog = page.get_by_role("dialog", name="Resume Flow Run")
    reviewer = dialog.get_by_role("textbox", name="Reviewer")
    reviewer.fill(CHAIR)
    expect(reviewer).to_have_value(CHAIR)
    approve = dialog.get_by_role("switch", name="Approve (Optional)")
    approve.click()
    expect(approve).to_be_checked()
    shot(page, "ui-year-11-resume.png")
    shot(page, "ui-resume-form.png")
    resume(page, dialog)
    # the approval's event starts announce-when-approved; the date has passed: paired
    _wait_for_state(stack, "paired")
    final_state(page, stack)
    assert state_message(page) == (
        f"The pairings of cycle {YEAR} are approved (2 pairs, by {CHAIR}); their date "
        f"({date(YEAR, 11, 5):%a} Nov 5, {YEAR}, 12:00 AM Chicago time) has passed, so they "
        "are announced now."
    )

    # 6. The mail, delivered by hand, and what went out.
    quick_run(page, stack, "deliver-notifications")
    final_state(page, stack)
    mail = run_artifact(page, "mail-delivery")
    sent = mail.get_by_role("table").first
    expect(sent.get_by_role("row").filter(has_text="Pairing notice")).to_contain_text(
        PEOPLE[0].email
    )
    expect(sent.get_by_role("row").filter(has_text="Application received")).to_be_visible()
    expect(mail.get_by_text("No message was refused by this run.")).to_be_visible()
    shot(page, "ui-year-12-mail-delivery.png", sent)

    # 7. The year's pages: status, history, and the history as it stood after the close
    # (asked for first: it runs while the committee reads the others).
    as_of = closed.strftime("%Y-%m-%d %H:%M:%S")

    def fill_as_of(form: "Locator") -> None:
        form.get_by_role("textbox", name=re.compile(r"^year")).fill(str(YEAR))
        form.get_by_role("textbox", name=re.compile(r"^as_of")).fill(as_of)

    as_of_run = run_from_custom_form(page, stack, "Show the history as it stood", fill_as_of)
    page.goto(f"{stack.base_url}/v2/artifacts")
    expect(main.get_by_role("heading", name=f"cycle-{YEAR}-history", exact=True)).to_be_visible()
    shot(page, "ui-year-13-artifacts.png")
    status = artifact_by_key(page, stack, f"cycle-{YEAR}")
    expect(status.get_by_role("heading", level=1)).to_have_text(f"Cycle {YEAR}")
    expect(status.get_by_text("The pairings are announced")).to_be_visible()
    next_step = status.get_by_role("paragraph").filter(has_text="Next step:")
    expect(next_step).to_contain_text("Begin orientation")
    announced = status.get_by_role("row").filter(has_text="Announce the pairings")
    expect(announced).to_contain_text(
        f"{date(YEAR, 11, 5):%a} Nov 5, {YEAR}, 12:00 AM Chicago time (passed)"
    )
    expect(status.get_by_text(f"Pairs: 2 (approved by {CHAIR}")).to_be_visible()
    shot(page, "ui-year-14-status-page.png", announced)

    history = artifact_by_key(page, stack, f"cycle-{YEAR}-history")
    expect(history).to_contain_text("Announce the pairings")
    expect(history).to_contain_text(CHAIR)
    shot(page, "ui-year-15-history.png", history.get_by_role("heading", level=1))

    page.goto(f"{stack.base_url}/v2/runs/flow-run/{as_of_run}")
    final_state(page, stack)
    then = run_artifact(page, f"cycle-{YEAR}-history-as-of")
    expect(then.get_by_role("heading", level=1)).to_contain_text("Chicago time")
    expect(then.get_by_role("paragraph").filter(has_text="Then:")).to_contain_text(
        "Applications are closed"
    )
    expect(then.get_by_role("paragraph").filter(has_text="Now:")).to_contain_text(
        "The pairings are announced"
    )
    expect(then.get_by_text("No pairing decision by then.")).to_be_visible()
    shot(page, "ui-year-16-history-as-it-stood.png", then.get_by_role("heading", level=1))

    # 8. A mistake: cancelling without a reason ends Failed in one plain sentence.
    run_from_custom_form(page, stack, "Cancel this year", _fill_step)
    final_state(page, stack, "Failed")
    sentence = f"Cancelling cycle {YEAR} needs a reason: write it in the Reason box."
    assert state_message(page) == sentence
    show_log_line(page, sentence)
    logs = main.get_by_role("tabpanel", name="Logs")
    expect(logs.get_by_role("listitem").filter(has_text="Finished in state Failed")).to_be_visible()
    assert "Traceback" not in logs.inner_text()
    shot(page, "ui-year-17-cancel-refused.png")

    assert _state(stack) == "paired"
    story = stack.mentoring_json("audit", str(YEAR))
    decisions = [(d["decision"], d["actor"]) for d in story["pairing_decisions"]]
    assert decisions == [("proposed", CHAIR), ("approved", CHAIR)]
    steps = story["transitions"]
    assert [(t["event"], t["target"], t["actor"], t["trigger"]) for t in steps] == [
        ("open_call", "call_open", CHAIR, "manual"),
        ("close_applications", "applications_closed", CHAIR, "manual"),
        ("announce_pairings", "paired", "automation", "event"),
    ]
    assert steps[0]["flow_run_id"] == open_call_run
    assert steps[-1]["flow_run_id"] not in (None, run_id)
