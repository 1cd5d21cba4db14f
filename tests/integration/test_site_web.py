"""The participants' site through its HTTP interface (Starlette's TestClient against
``create_app``) on SQLite and PostgreSQL: the whole path a member takes, and each page."""

import email
import html
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from domain.cycle_states import CycleEvent, Trigger
from flows.usecases import audit, cycles, members
from flows.web import PortalSettings, create_app
from flows.web.mail_kick import MailKick
from flows.web.rate_limits import Limit, SignInLimits, SlidingWindow
from infra.uow import UnitOfWork
from tests.builders import Clock, paired_cycle

DATA = Path(__file__).resolve().parents[1] / "data"
YEAR = 2026
AUG_2 = datetime(2026, 8, 2, 12, tzinfo=UTC)
AUG_10 = datetime(2026, 8, 10, 15, tzinfo=UTC)
A = ("C100010", "thabo.xu.10@example.org", "Thabo Xu")
B = ("C100011", "aiko.fujita.11@example.org", "Aiko Fujita")
SECRET = "test-secret-key-" + "x" * 40
LINK = re.compile(r"/sign-in/([A-Za-z0-9_-]{20,})")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Site:
    """A site on the test database, its clock, and where its mail lands."""

    uow: UnitOfWork
    clock: Clock
    mail_dir: Path
    database_url: str
    portal_url: str = "http://testserver"
    clients: list[TestClient] = field(default_factory=list)

    def client(self, **limits: Limit) -> TestClient:
        settings = PortalSettings(self.portal_url, SECRET, self.database_url)
        sign_in_limits = SignInLimits(
            SlidingWindow(limits.get("per_address", Limit(5, 900))),
            SlidingWindow(limits.get("per_client", Limit(20, 900))),
        )
        app = create_app(settings, clock=self.clock, limits=sign_in_limits)
        client = TestClient(app, base_url=self.portal_url, follow_redirects=False)
        self.clients.append(client)
        return client

    def links(self) -> list[str]:
        """Sign-in link tokens in the mail folder, oldest first."""
        found: list[tuple[float, str]] = []
        for path in self.mail_dir.glob("*.eml"):
            message = email.message_from_bytes(path.read_bytes())
            for part in message.walk():
                if part.get_content_type() == "text/plain":
                    body = part.get_payload(decode=True)
                    assert isinstance(body, bytes)
                    found += [(path.stat().st_mtime, t) for t in LINK.findall(body.decode())]
        return [token for _, token in sorted(found)]


def csrf_of(page: str) -> str:
    match = CSRF.search(page)
    assert match, "the page has no csrf_token field"
    return match.group(1)


def sign_in(site: Site, client: TestClient, address: str, lands_on: str = "/me") -> str:
    """Ask for a link, read it from the mail, press "Sign in" (which leads to
    ``lands_on``); returns the token."""
    before = set(site.links())
    token_page = client.get("/sign-in")
    answer = client.post(
        "/sign-in", data={"email": address, "csrf_token": csrf_of(token_page.text)}
    )
    assert answer.status_code == 200
    (token,) = set(site.links()) - before
    page = client.get(f"/sign-in/{token}")
    done = client.post(f"/sign-in/{token}", data={"csrf_token": csrf_of(page.text)})
    assert done.status_code == 303 and done.headers["location"] == lands_on
    return token


def open_call(uow: UnitOfWork) -> None:
    cycles.create_cycle(uow, YEAR, timezone="America/Chicago", milestones={}, actor="chair")
    cycles.fire_event(
        uow, YEAR, CycleEvent.open_call, actor="s", trigger=Trigger.schedule, now=AUG_2
    )
    members.import_roster(uow, DATA / "roster.csv", actor="chair", now=AUG_2)


@pytest.fixture
def site(
    uow: UnitOfWork, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Site]:
    # the site sends its sign-in mail to this folder, whatever else the process was given
    monkeypatch.setenv("MENTORING_MAIL_DIR", str(tmp_path / "home" / "mail"))
    monkeypatch.delenv("MENTORING_SMTP_HOST", raising=False)
    open_call(uow)
    made = Site(uow, Clock(AUG_10), tmp_path / "home" / "mail", database_url)
    yield made
    for client in made.clients:
        client.close()


GOOD = {
    "role": "mentor",
    "areas": ["Technology", "Assessment"],
    "career_stage": "senior",
    "library_type": "special",
    "time_zone": "America/New_York",
    "goals": "help a new law librarian find their feet",
    "max_mentees": "2",
}


def test_a_member_signs_in_applies_corrects_an_error_sees_it_and_withdraws(site: Site) -> None:
    client = site.client()
    assert client.get("/").headers["location"] == "/sign-in"
    sign_in(site, client, A[1].upper())  # any case
    assert client.get("/").headers["location"] == "/me"
    me = client.get("/me")
    assert me.status_code == 200 and A[2] in me.text and "Apply now" in me.text

    form = client.get("/apply")
    assert form.status_code == 200 and 'name="areas"' in form.text
    wrong = client.post(
        "/apply", data={**GOOD, "max_mentees": "9", "csrf_token": csrf_of(form.text)}
    )
    assert wrong.status_code == 400
    assert 'role="alert"' in wrong.text and "There is a problem" in wrong.text
    assert 'href="#max_mentees"' in wrong.text
    assert 'aria-describedby="max_mentees-hint max_mentees-error"' in wrong.text
    assert 'value="9"' in wrong.text  # the input is kept
    assert "help a new law librarian" in wrong.text
    assert 'value="Technology" checked' in wrong.text

    right = client.post("/apply", data={**GOOD, "csrf_token": csrf_of(wrong.text)})
    assert right.status_code == 200, right.text
    assert "Application received" in right.text and "confirmation mail follows" in right.text
    me = client.get("/me")
    assert "received" in me.text and "on this site" in me.text and "New York time" in me.text
    again = client.get("/apply")
    assert "replaces your earlier application" in again.text
    assert 'value="mentor" checked' in again.text and 'value="2"' in again.text

    taken = [r for r in audit.history(site.uow, YEAR).records if r.actor == A[0]]
    assert [(r.kind, r.fields["trigger"]) for r in taken] == [("applications_imported", "site")]

    ask = client.get("/withdraw")
    assert 'name="reason"' in ask.text
    empty = client.post("/withdraw", data={"reason": " ", "csrf_token": csrf_of(ask.text)})
    assert empty.status_code == 400 and 'href="#reason"' in empty.text
    sure = client.post("/withdraw", data={"reason": "a new job", "csrf_token": csrf_of(ask.text)})
    assert "Are you sure? Your partners and the committee will be told." in sure.text
    assert 'action="/withdraw/confirm"' in sure.text
    done = client.post(
        "/withdraw/confirm", data={"reason": "a new job", "csrf_token": csrf_of(sure.text)}
    )
    assert done.status_code == 200 and "You have withdrawn" in done.text
    assert "withdrawn" in client.get("/me").text
    assert client.get("/withdraw").status_code == 409
    left = [r for r in audit.history(site.uow, YEAR).records if r.kind == "participant_withdrawn"]
    assert [(r.actor, r.fields["trigger"], r.fields["reason"]) for r in left] == [
        (A[0], "site", "a new job")
    ]


def test_signing_out_ends_the_session_even_for_a_copied_cookie(site: Site) -> None:
    client = site.client()
    sign_in(site, client, A[1])
    copied = dict(client.cookies)
    out = client.post("/sign-out", data={"csrf_token": csrf_of(client.get("/me").text)})
    assert out.status_code == 200 and "You are signed out" in out.text
    assert client.get("/me").headers["location"] == "/sign-in"
    thief = TestClient(client.app, base_url=site.portal_url, follow_redirects=False)
    site.clients.append(thief)
    thief.cookies.update(copied)
    assert thief.get("/me").headers["location"] == "/sign-in"


def test_a_mailed_link_to_a_member_page_leads_there_after_signing_in(site: Site) -> None:
    client = site.client()
    asked = client.get("/apply?from=call")
    assert asked.status_code == 303 and asked.headers["location"] == "/sign-in"
    sign_in(site, client, A[1], lands_on="/apply?from=call")
    assert client.get("/apply?from=call").status_code == 200


def test_only_member_pages_asked_for_by_get_are_remembered_for_after_sign_in(site: Site) -> None:
    client = site.client()
    client.post("/apply", data={"role": "mentor"})
    client.get("/sign-out-elsewhere")
    sign_in(site, client, A[1], lands_on="/me")


def test_a_closed_call_answers_when_the_next_one_opens(site: Site) -> None:
    cycles.create_cycle(site.uow, 2027, timezone="America/Chicago", milestones={}, actor="chair")
    site.clock.now = datetime(2026, 10, 2, 12, tzinfo=UTC)  # after Sep 30
    client = site.client()
    sign_in(site, client, A[1])
    closed = client.get("/apply")
    assert closed.status_code == 200
    assert "The call for applications is closed" in closed.text
    assert "Aug 1, 2027" in closed.text and "Chicago time" in closed.text
    posted = client.post("/apply", data={**GOOD, "csrf_token": csrf_of(closed.text)})
    assert "The call for applications is closed" in posted.text


def test_my_data_downloads_as_json_with_only_my_records(site: Site) -> None:
    client = site.client()
    sign_in(site, client, A[1])
    client.post("/apply", data={**GOOD, "csrf_token": csrf_of(client.get("/apply").text)})
    data = client.get("/me/data.json")
    assert data.status_code == 200
    assert data.headers["content-type"].startswith("application/json")
    assert (
        data.headers["content-disposition"] == 'attachment; filename="mentoring-data-C100010.json"'
    )
    assert A[1] in data.text and B[1] not in data.text
    assert client.get("/me/orientation.ics").status_code == 404


def test_a_paired_member_sees_partners_and_gets_the_orientation_file(
    uow: UnitOfWork, database_url: str, tmp_path: Path
) -> None:
    paired_cycle(uow)
    site = Site(
        uow, Clock(datetime(2026, 11, 10, 12, tzinfo=UTC)), tmp_path / "home" / "mail", database_url
    )
    client = site.client()
    # C100001 applied as a mentee in the sample and is paired.
    sign_in(site, client, "luis.novak.1@example.org")
    me = client.get("/me")
    assert "Your mentor:" in me.text and "Why you were paired" in me.text
    assert "(passed)" in me.text and "Honolulu time" in me.text
    invitation = client.get("/me/orientation.ics")
    assert invitation.status_code == 200
    assert invitation.headers["content-type"].startswith("text/calendar")
    assert b"BEGIN:VCALENDAR" in invitation.content
    client.close()


def test_healthz_static_and_unknown_pages(site: Site) -> None:
    client = site.client()
    assert client.get("/healthz").text == "ok"
    css = client.get("/static/site.css")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]
    missing = client.get("/nothing-here")
    assert missing.status_code == 404 and "There is no page at this address." in missing.text
    assert "Traceback" not in missing.text


def test_every_page_is_titled_with_one_heading_and_a_skip_link(site: Site) -> None:
    client = site.client()
    pages = [client.get("/sign-in")]
    sign_in(site, client, A[1])
    pages += [client.get(p) for p in ("/me", "/apply", "/withdraw")]
    for page in pages:
        assert '<html lang="en">' in page.text
        assert page.text.count("<h1") == 1
        assert 'href="#main"' in page.text
        assert re.search(r"<title>[^<]+ – Core Mentoring Program</title>", page.text)


def test_sign_in_mail_asked_for_during_a_delivery_gets_one_more_round() -> None:
    rounds: list[int] = []
    started, release = threading.Event(), threading.Event()

    def deliver() -> None:
        rounds.append(len(rounds))
        if len(rounds) == 1:
            started.set()
            release.wait(5)

    kick = MailKick(deliver)
    first = threading.Thread(target=kick.run)
    first.start()
    started.wait(5)
    kick.run()  # returns at once: the running delivery goes round again
    kick.run()
    release.set()
    first.join(5)
    assert rounds == [0, 1]
    kick.run()
    assert rounds == [0, 1, 2]


FIELD_ERROR = re.compile(r'<p id="([a-z_]+)-error" class="error-message">(.*?)</p>', re.DOTALL)
SUMMARY_LINK = re.compile(r'<li><a href="#([a-z_]+)">(.*?)</a></li>')
CSV_WORDS = re.compile(
    r"career_stage|library_type|time_zone|max_mentees|submitted_at|member_id"
    r"|\bline \d+|\bcolumn\b|separated by|^(role|areas|goals)\b"
)
"""How the application CSV names its columns and lines: never in what the form says."""
BAD_FIELDS: list[tuple[dict[str, str | list[str]], str, str]] = [
    ({"role": ""}, "role", "Choose whether you want to be a mentor, a mentee, or both"),
    (
        {"role": "sponsor"},
        "role",
        "Choose from the list for “Do you want to be a mentor, a mentee, or both?”: "
        "'sponsor' is not one of its choices",
    ),
    ({"areas": []}, "areas", "Choose at least one of Core's areas you want to work on"),
    (
        {"areas": ["Technology", "Knitting"]},
        "areas",
        "Choose from the list for “Which of Core's areas do you want to work on?”: "
        "one of the areas sent is not one of its choices",
    ),
    ({"career_stage": ""}, "career_stage", "Choose where you are in your career"),
    ({"library_type": ""}, "library_type", "Choose what kind of library you work in"),
    (
        {"time_zone": "Mars/Olympus"},
        "time_zone",
        "Choose from the list for “Your time zone”: 'Mars/Olympus' is not one of its choices",
    ),
    (
        {"goals": "x" * 4001},
        "goals",
        "Your answer to “What do you hope to gain from the program, or to offer?” is 4,001 "
        "characters long; keep it to 4,000",
    ),
    (
        {"max_mentees": ""},
        "max_mentees",
        "Enter how many mentees you can take on, from 1 to 5: a mentor (or a member who is "
        "both) takes at least one",
    ),
    (
        {"max_mentees": "9"},
        "max_mentees",
        "Enter a whole number from 1 to 5 for “If you mentor: how many mentees can you take on?”",
    ),
    (
        {"max_mentees": "two"},
        "max_mentees",
        "Enter a whole number from 1 to 5 for “If you mentor: how many mentees can you take on?”",
    ),
    (
        {"role": "mentee"},
        "max_mentees",
        "Leave “If you mentor: how many mentees can you take on?” empty when you apply as a "
        "mentee only, or choose mentor or both",
    ),
]


def _said(pattern: re.Pattern[str], page: str) -> dict[str, str]:
    """Each field's message in ``page`` as a member reads it (markup and escapes gone)."""
    return {
        name: " ".join(html.unescape(re.sub(r"<[^>]+>", "", text)).split())
        for name, text in pattern.findall(page)
    }


def test_each_bad_field_is_named_as_the_form_labels_it(site: Site) -> None:
    client = site.client()
    sign_in(site, client, A[1])
    form = client.get("/apply")
    for label in ("Do you want to be a mentor, a mentee, or both?", "Your time zone"):
        assert html.escape(label) in form.text, "the messages quote the form's own labels"
    for changes, name, message in BAD_FIELDS:
        wrong = client.post("/apply", data={**GOOD, **changes, "csrf_token": csrf_of(form.text)})
        assert wrong.status_code == 400, changes
        assert _said(SUMMARY_LINK, wrong.text) == {name: message}, changes
        assert _said(FIELD_ERROR, wrong.text) == {name: f"Error: {message}"}, changes
        assert not CSV_WORDS.search(message), message
    with site.uow:
        assert site.uow.applications.get(YEAR, A[0]) is None, "nothing is stored"

    every = client.post(
        "/apply",
        data={"role": "mentr", "areas": "Nope", "csrf_token": csrf_of(form.text)},
    )
    said = _said(SUMMARY_LINK, every.text)
    assert list(said) == ["role", "areas", "career_stage", "library_type", "time_zone"]
    assert not any(CSV_WORDS.search(m) for m in said.values()), said
