"""What the browser tests of the participants' site share: axe-core and a screenshot on
every page, driving a page with the keyboard alone, reading links from the mail folder,
and signing in from the mailed link."""

import email
import email.policy
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flows import prefect_server

SHOTS = prefect_server.PROJECT_ROOT / "docs" / "screenshots"
SIGN_IN_LINK = re.compile(r"https?://[^\s\"'<>]+/sign-in/[A-Za-z0-9_-]+")


@dataclass
class PageChecks:
    """Screenshots every page it is shown (docs/screenshots/portal-NAME.png) and runs
    axe-core on it (all rules axe runs by default: WCAG 2.x A and AA and best practices);
    violations are kept so the test photographs and checks every page before failing with
    all of them."""

    problems: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)

    def check(self, page: Any, name: str) -> None:
        from axe_playwright_python.sync_playwright import Axe

        SHOTS.mkdir(parents=True, exist_ok=True)
        page.wait_for_load_state("load")
        page.screenshot(path=str(SHOTS / f"portal-{name}.png"), full_page=True)
        self.names.append(name)
        results = Axe().run(page)
        if results.violations_count:
            self.problems.append(f"== axe on {name} ({page.url}) ==\n{results.generate_report()}")

    def assert_clean(self) -> None:
        assert not self.problems, "\n\n".join(self.problems)


@dataclass
class Mailbox:
    """The .eml folder the program delivers to; each link is handed out once."""

    folder: Path
    describe: Callable[[], str] = lambda: ""
    read: set[tuple[Path, str]] = field(default_factory=set)

    def link(self, address: str, pattern: re.Pattern[str], timeout: float = 30.0) -> str:
        """The first link matching ``pattern`` in a mail to ``address`` not handed out
        before, once it has been delivered."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for path in sorted(self.folder.glob("*.eml")):
                message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
                if address not in str(message["To"]):
                    continue
                body = message.get_body(("plain", "html"))
                found = pattern.search(body.get_content()) if body is not None else None
                if found and (path, found.group(0)) not in self.read:
                    self.read.add((path, found.group(0)))
                    return found.group(0)
            time.sleep(0.2)
        raise AssertionError(
            f"no mail to {address} with a link like {pattern.pattern} in {self.folder}\n"
            f"{self.describe()}"
        )


def heading(page: Any) -> Any:
    return page.get_by_role("heading", level=1)


def sign_in(
    page: Any, base_url: str, mailbox: Mailbox, address: str, checks: PageChecks | None = None
) -> str:
    """Ask for a link, open it from the mail, press "Sign in"; the link used."""
    from playwright.sync_api import expect

    page.goto(f"{base_url}/")
    expect(page).to_have_url(f"{base_url}/sign-in")
    if checks:
        checks.check(page, "sign-in")
    page.get_by_label("Email address").fill(address)
    page.get_by_role("button", name="Send me a sign-in link").click()
    expect(heading(page)).to_have_text("Check your email")
    expect(page.get_by_text("If this address belongs to a current Core member")).to_be_visible()
    if checks:
        checks.check(page, "sign-in-sent")
    link = mailbox.link(address, SIGN_IN_LINK)
    assert link.startswith(f"{base_url}/sign-in/")
    page.goto(link)
    expect(heading(page)).to_have_text("Sign in to the mentoring program")
    if checks:
        checks.check(page, "sign-in-link")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base_url}/me")
    expect(heading(page)).to_have_text("Where I stand")
    return link


@dataclass(frozen=True)
class Focus:
    """The element that has the keyboard focus."""

    tag: str
    id: str
    name: str
    type: str
    value: str
    text: str
    href: str
    form_action: str


FOCUSED = """() => {
  const e = document.activeElement;
  const form = e && e.form ? new URL(e.form.action, location.href).pathname : "";
  return {
    tag: e ? e.tagName.toLowerCase() : "", id: (e && e.id) || "",
    name: (e && e.getAttribute("name")) || "", type: (e && e.getAttribute("type")) || "",
    value: (e && "value" in e && e.value != null) ? String(e.value) : "",
    text: e ? (e.innerText || "").trim().slice(0, 80) : "",
    href: (e && e.getAttribute("href")) || "", form_action: form,
  };
}"""


class Keyboard:
    """Drives a page with the keyboard alone, keeping the path the focus took."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.path: list[Focus] = []

    def focused(self) -> Focus:
        return Focus(**self.page.evaluate(FOCUSED))

    def tab_to(self, wanted: Callable[[Focus], bool], what: str, limit: int = 120) -> Focus:
        """Press Tab until the focus is on what ``wanted`` accepts."""
        self.path = []
        for _ in range(limit):
            self.page.keyboard.press("Tab")
            now = self.focused()
            self.path.append(now)
            if wanted(now):
                return now
        steps = "\n".join(
            f"  {f.tag} id={f.id!r} name={f.name!r} {f.text[:40]!r}" for f in self.path
        )
        raise AssertionError(
            f"Tab never reached {what} on {self.page.url}; the focus went:\n{steps}"
        )

    def field(self, name: str, value: str | None = None) -> Focus:
        return self.tab_to(
            lambda f: f.name == name and (value is None or f.value == value),
            f"field {name}" + (f" = {value}" if value else ""),
        )

    def type_into(self, name: str, text: str) -> None:
        """Replace the text of field ``name``."""
        self.field(name)
        self.page.keyboard.press("Control+a")
        self.page.keyboard.press("Delete")
        self.page.keyboard.type(text)

    def choose_radio(self, name: str, value: str) -> None:
        """Tab to radio group ``name``, then pick ``value`` with the arrow keys."""
        self.field(name)
        self.arrow_to(name, value)

    def arrow_to(self, name: str, value: str) -> None:
        """In the focused radio group, move with the arrow keys to ``value`` and check it."""
        for _ in range(12):
            if self.focused().value == value:
                self.page.keyboard.press("Space")
                return
            self.page.keyboard.press("ArrowDown")
        raise AssertionError(f"the arrow keys never reached {name} = {value}")

    def tick(self, name: str, value: str) -> None:
        """Check checkbox ``name`` = ``value`` with Space."""
        self.field(name, value)
        if not self.page.evaluate("() => document.activeElement.checked"):
            self.page.keyboard.press("Space")

    def select(self, name: str, value: str) -> None:
        """Pick ``value`` in select ``name`` by typing it (the list stays closed)."""
        self.field(name)
        self.page.keyboard.type(value)
        assert self.focused().value == value, f"typing did not select {value} in {name}"

    def press_button(self, action: str, text: str) -> None:
        """Tab to the submit button labelled ``text`` of the form posting to ``action``, Enter."""
        self.tab_to(
            lambda f: f.tag == "button" and f.form_action == action and text in f.text,
            f"the {text!r} button of {action}",
        )
        self.page.keyboard.press("Enter")
        self.page.wait_for_load_state()

    def follow_link(self, href: str) -> None:
        self.tab_to(lambda f: f.tag == "a" and f.href == href, f"the link to {href}")
        self.page.keyboard.press("Enter")
        self.page.wait_for_load_state()


TAB_STOPS = """() => {
  const selector = "a[href], button, input:not([type=hidden]), select, textarea, [tabindex]";
  const from = document.activeElement;
  const fromTop = !from || from === document.body;
  const stops = [];
  const groups = new Set();
  for (const e of document.querySelectorAll(selector)) {
    if (e.tabIndex < 0 || e.disabled || !e.getClientRects().length) continue;
    if (!fromTop && !(from.compareDocumentPosition(e) & (4 | 16))) continue;
    if (e.type === "radio") {
      if (groups.has(e.name)) continue;
      groups.add(e.name);
    }
    stops.push(e.type === "radio" ? "radio group " + e.name : e.outerHTML.split(">")[0] + ">");
  }
  return stops;
}"""
FOCUS_SEEN = """() => {
  const e = document.activeElement;
  const style = getComputedStyle(e);
  const shown = (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0)
    || style.boxShadow !== "none";
  const key = e.type === "radio" ? "radio group " + e.name : e.outerHTML.split(">")[0] + ">";
  return [key, shown];
}"""


def sweep_with_tab(page: Any) -> None:
    """Tab through every stop after the focus (from the top on a page just loaded), in
    document order, each with a visible focus indicator: no stop skipped, no trap."""
    stops: list[str] = page.evaluate(TAB_STOPS)
    reached: list[str] = []
    unseen: list[str] = []
    for _ in stops:
        page.keyboard.press("Tab")
        key, shown = page.evaluate(FOCUS_SEEN)
        reached.append(key)
        if not shown:
            unseen.append(key)
    assert reached == stops, f"Tab order on {page.url}:\n{reached}\nexpected\n{stops}"
    assert not unseen, f"no visible focus indicator on {page.url}: {unseen}"


@contextmanager
def served(app: Any, port: int) -> Iterator[str]:
    """``app`` served by uvicorn on 127.0.0.1:``port`` in a thread; its address."""
    import uvicorn

    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, access_log=False, log_level="warning")
    )
    thread = threading.Thread(target=server.run, name="portal-under-test", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive(), "the site stopped while starting"
            assert time.monotonic() < deadline, "the site did not start in 30 s"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
