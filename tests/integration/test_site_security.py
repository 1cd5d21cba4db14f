"""The participants' site's security (OWASP ASVS level 2 for authentication and sessions):
CSRF, links, sessions, another member's session on every route, headers, rate limits,
logs, and the secret key; on SQLite and PostgreSQL."""

import email
import logging
import os
import re
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from domain.cycle_states import CycleEvent, Trigger
from flows import prefect_server
from flows.usecases import cycles, members
from flows.web import PortalSettings, create_app
from flows.web.headers import CONTENT_SECURITY_POLICY
from flows.web.rate_limits import Limit, SignInLimits, SlidingWindow
from flows.web.secret_key import SecretKeyMissing, portal_secret_key
from infra.tables import ApplicationRow, MessageRow
from infra.uow import UnitOfWork
from tests.builders import Clock
from tests.cli import mentoring_here

DATA = Path(__file__).resolve().parents[1] / "data"
YEAR = 2026
AUG_2 = datetime(2026, 8, 2, 12, tzinfo=UTC)
AUG_10 = datetime(2026, 8, 10, 15, tzinfo=UTC)
A = ("C100010", "thabo.xu.10@example.org", "Thabo Xu")
B = ("C100011", "aiko.fujita.11@example.org", "Aiko Fujita")
EXPIRED_MEMBER = "ada.novak.3@example.org"  # membership ended 2026-01-27
SECRET = "test-secret-key-" + "y" * 40
LINK = re.compile(r"/sign-in/([A-Za-z0-9_-]{20,})")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ANSWER = "If this address belongs to a current Core member, a sign-in link is on its way."
PER_ADDRESS, PER_CLIENT = Limit(5, 900), Limit(20, 900)
APPLICATION = {
    "role": "mentee",
    "areas": ["Technology"],
    "career_stage": "early",
    "library_type": "public",
    "time_zone": "America/Chicago",
    "goals": "learn to lead a small team",
    "max_mentees": "",
}


@dataclass
class Site:
    uow: UnitOfWork
    clock: Clock
    mail_dir: Path
    database_url: str
    clients: list[TestClient] = field(default_factory=list)

    def client(
        self,
        portal_url: str = "http://testserver",
        per_address: Limit = PER_ADDRESS,
        per_client: Limit = PER_CLIENT,
    ) -> TestClient:
        settings = PortalSettings(portal_url, SECRET, self.database_url)
        limits = SignInLimits(SlidingWindow(per_address), SlidingWindow(per_client))
        app = create_app(settings, clock=self.clock, limits=limits)
        client = TestClient(app, base_url=portal_url, follow_redirects=False)
        self.clients.append(client)
        return client

    def links(self) -> set[str]:
        found: set[str] = set()
        for path in self.mail_dir.glob("*.eml"):
            message = email.message_from_bytes(path.read_bytes())
            for part in message.walk():
                if part.get_content_type() == "text/plain":
                    body = part.get_payload(decode=True)
                    assert isinstance(body, bytes)
                    found |= set(LINK.findall(body.decode()))
        return found

    def count(self, table: type) -> int:
        with self.uow:
            return int(self.uow.session.scalar(select(func.count()).select_from(table)) or 0)


def csrf_of(page: str) -> str:
    match = CSRF.search(page)
    assert match, "the page has no csrf_token field"
    return match.group(1)


def ask_for_link(client: TestClient, address: str) -> httpx.Response:
    page = client.get("/sign-in")
    answer: httpx.Response = client.post(
        "/sign-in", data={"email": address, "csrf_token": csrf_of(page.text)}
    )
    return answer


def new_link(site: Site, client: TestClient, address: str) -> str:
    before = site.links()
    assert ask_for_link(client, address).status_code == 200
    (token,) = site.links() - before
    return token


def redeem(client: TestClient, token: str) -> httpx.Response:
    page = client.get(f"/sign-in/{token}")
    answer: httpx.Response = client.post(
        f"/sign-in/{token}", data={"csrf_token": csrf_of(page.text)}
    )
    return answer


def sign_in(site: Site, client: TestClient, address: str) -> None:
    assert redeem(client, new_link(site, client, address)).status_code == 303


@pytest.fixture
def site(
    uow: UnitOfWork, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Site]:
    # the site sends its sign-in mail to this folder, whatever else the process was given
    monkeypatch.setenv("MENTORING_MAIL_DIR", str(tmp_path / "home" / "mail"))
    monkeypatch.delenv("MENTORING_SMTP_HOST", raising=False)
    cycles.create_cycle(uow, YEAR, timezone="America/Chicago", milestones={}, actor="chair")
    cycles.fire_event(
        uow, YEAR, CycleEvent.open_call, actor="s", trigger=Trigger.schedule, now=AUG_2
    )
    members.import_roster(uow, DATA / "roster.csv", actor="chair", now=AUG_2)
    made = Site(uow, Clock(AUG_10), tmp_path / "home" / "mail", database_url)
    yield made
    for client in made.clients:
        client.close()


# --- CSRF -------------------------------------------------------------------------------

FORMS = ["/sign-in", "/sign-out", "/apply", "/withdraw", "/withdraw/confirm"]


@pytest.mark.parametrize("token", [None, "forged", "from-another-session"])
def test_a_post_without_the_sessions_csrf_token_is_refused(site: Site, token: str | None) -> None:
    client = site.client()
    sign_in(site, client, A[1])
    other = site.client()
    given = {"None": None, "forged": "forged"}.get(str(token), csrf_of(other.get("/sign-in").text))
    fields = {"email": A[1], "reason": "x", **APPLICATION}
    messages = site.count(MessageRow)
    for path in [*FORMS, "/sign-in/some-token"]:
        data = fields if given is None else {**fields, "csrf_token": given}
        answer = client.post(path, data=data)
        assert answer.status_code == 403, path
        assert "This form has expired" in answer.text and "Traceback" not in answer.text
    assert site.count(ApplicationRow) == 0 and site.count(MessageRow) == messages
    assert client.get("/me").status_code == 200  # still signed in: sign-out was refused too


def test_a_post_that_is_not_a_form_is_refused(site: Site) -> None:
    client = site.client()
    client.get("/sign-in")
    answer = client.post("/sign-in", json={"email": A[1]})
    assert answer.status_code == 415 and "Traceback" not in answer.text


# --- sign-in links ------------------------------------------------------------------------


def test_the_link_page_does_not_use_the_link_up(site: Site) -> None:
    client = site.client()
    token = new_link(site, client, A[1])
    for _ in range(3):  # a mail scanner fetching the link
        page = client.get(f"/sign-in/{token}")
        assert page.status_code == 200 and ">Sign in</button>" in page.text
    assert redeem(client, token).headers["location"] == "/me"


def test_forged_used_and_expired_links_are_refused_with_a_plain_page(site: Site) -> None:
    client = site.client()
    forged = redeem(client, "A" * 43)
    assert forged.status_code == 400 and "This sign-in link is not valid." in forged.text
    assert 'href="/sign-in"' in forged.text
    too_long = client.post(
        "/sign-in/" + "x" * 500, data={"csrf_token": csrf_of(client.get("/sign-in").text)}
    )
    assert too_long.status_code == 400

    token = new_link(site, client, A[1])
    assert redeem(client, token).status_code == 303
    used = redeem(site.client(), token)
    assert used.status_code == 410 and "already been used" in used.text

    late = new_link(site, client, A[1])
    site.clock.now = AUG_10 + timedelta(minutes=31)
    expired = redeem(site.client(), late)
    assert expired.status_code == 410 and "has expired" in expired.text
    for page in (forged, used, expired):
        assert "Traceback" not in page.text and page.text.count("<h1") == 1


def test_the_same_answer_for_a_stranger_and_a_lapsed_member_and_nothing_sent(site: Site) -> None:
    client = site.client()
    messages = site.count(MessageRow)
    pages = [ask_for_link(client, a) for a in ("nobody@example.org", EXPIRED_MEMBER, A[1])]
    assert [p.status_code for p in pages] == [200, 200, 200]
    assert len({p.text for p in pages}) == 1
    assert ANSWER in pages[0].text
    assert site.count(MessageRow) == messages + 1  # only the member's link
    assert len(site.links()) == 1


def test_a_session_expires_and_a_forged_cookie_is_ignored(site: Site) -> None:
    client = site.client()
    sign_in(site, client, A[1])
    cookie = client.cookies["mentoring_session"]
    signed, _, signature = cookie.rpartition(".")
    forged = site.client()
    forged.cookies.set("mentoring_session", signed + "." + signature[::-1])
    assert forged.get("/me").headers["location"] == "/sign-in"
    site.clock.now = AUG_10 + timedelta(hours=12, minutes=1)
    assert client.get("/me").headers["location"] == "/sign-in"


def test_the_session_cookie_is_httponly_lax_and_secure_behind_https(site: Site) -> None:
    plain_cookie = site.client().get("/sign-in").headers["set-cookie"]
    assert "mentoring_session=" in plain_cookie
    assert "HttpOnly" in plain_cookie and "SameSite=Lax" in plain_cookie
    assert "Secure" not in plain_cookie and "Max-Age=43200" in plain_cookie
    secure = site.client("https://mentoring.example.org").get("/sign-in")
    assert "Secure" in secure.headers["set-cookie"]


def test_signing_in_starts_a_new_session_with_a_new_csrf_token(site: Site) -> None:
    client = site.client()
    token = new_link(site, client, A[1])
    before = csrf_of(client.get(f"/sign-in/{token}").text)
    redeem(client, token)
    assert csrf_of(client.get("/me").text) != before


def test_a_member_whose_membership_lapsed_cannot_apply(site: Site, tmp_path: Path) -> None:
    client = site.client()
    sign_in(site, client, A[1])
    form = client.get("/apply")
    roster = (DATA / "roster.csv").read_text().replace("2028-01-15", "2026-08-10")
    (tmp_path / "roster.csv").write_text(roster)
    members.import_roster(site.uow, tmp_path / "roster.csv", actor="chair", now=AUG_10)
    site.clock.now = AUG_10 + timedelta(hours=11)  # the session lasts; the membership not
    refused = client.post("/apply", data={**APPLICATION, "csrf_token": csrf_of(form.text)})
    assert refused.status_code == 403 and "not current" in refused.text
    assert site.count(ApplicationRow) == 0
    assert client.get("/me").headers["location"] == "/sign-in"


# --- another member's session on every route ------------------------------------------------


def test_member_bs_session_never_shows_or_changes_member_as_data(site: Site) -> None:
    a, b = site.client(), site.client()
    sign_in(site, a, A[1])
    a.post("/apply", data={**APPLICATION, "csrf_token": csrf_of(a.get("/apply").text)})
    sign_in(site, b, B[1])
    # Nothing in the address or a form picks the member: ids given are ignored.
    for path in (
        "/me",
        f"/me?member_id={A[0]}",
        "/apply",
        "/withdraw",
        "/me/data.json",
        f"/me/data.json?member_id={A[0]}",
        "/me/orientation.ics",
    ):
        page = b.get(path)
        assert A[0] not in page.text and A[1] not in page.text and A[2] not in page.text, path
        assert "learn to lead a small team" not in page.text, path
    assert B[2] in b.get("/me").text
    token = csrf_of(b.get("/me").text)
    confirm = b.post(
        "/withdraw/confirm", data={"reason": "x", "csrf_token": token, "member_id": A[0]}
    )
    assert confirm.status_code == 409  # B has nothing to withdraw; A's application stays
    b.post(
        "/apply", data={**APPLICATION, "goals": "b's own", "member_id": A[0], "csrf_token": token}
    )
    with site.uow:
        rows = {r.member_id: r.goals for r in site.uow.session.scalars(select(ApplicationRow))}
    assert rows == {A[0]: "learn to lead a small team", B[0]: "b's own"}
    assert "withdrawn" not in a.get("/me").text


def test_member_pages_without_a_session_go_to_sign_in(site: Site) -> None:
    client = site.client()
    for path in ("/me", "/apply", "/withdraw", "/me/data.json", "/me/orientation.ics"):
        answer = client.get(path)
        assert answer.status_code == 303 and answer.headers["location"] == "/sign-in", path
    token = csrf_of(client.get("/sign-in").text)
    for path in ("/apply", "/withdraw", "/withdraw/confirm"):
        answer = client.post(path, data={**APPLICATION, "reason": "x", "csrf_token": token})
        assert answer.status_code == 303 and answer.headers["location"] == "/sign-in", path
    assert site.count(ApplicationRow) == 0


# --- headers ---------------------------------------------------------------------------------


def test_security_headers_on_every_page(site: Site) -> None:
    client = site.client()
    answers = [client.get(p) for p in ("/", "/sign-in", "/healthz", "/static/site.css", "/nope")]
    token = new_link(site, client, A[1])
    answers += [client.get(f"/sign-in/{token}"), redeem(client, token)]
    answers += [client.get(p) for p in ("/me", "/apply", "/withdraw", "/me/data.json")]
    answers.append(client.post("/apply", data=APPLICATION))  # refused: no token
    for answer in answers:
        headers = answer.headers
        assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY, answer.url
        assert "script-src 'none'" in headers["content-security-policy"]
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["x-content-type-options"] == "nosniff"
        if not answer.url.path.startswith("/static/"):
            assert headers["cache-control"] == "no-store", answer.url
    assert all("<script" not in a.text and "style=" not in a.text for a in answers)


# --- rate limits -------------------------------------------------------------------------------


def test_sign_in_requests_are_limited_per_address_then_per_client(site: Site) -> None:
    client = site.client(per_address=Limit(2, 900), per_client=Limit(4, 900))
    answers = [ask_for_link(client, A[1]) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert all(ANSWER in a.text for a in answers)
    assert len(site.links()) == 2  # the third: the same answer, nothing sent
    fourth = ask_for_link(client, B[1])
    assert fourth.status_code == 200 and len(site.links()) == 3
    over = ask_for_link(client, B[1])
    assert over.status_code == 429 and ANSWER in over.text and len(site.links()) == 3


def test_the_address_limit_ignores_case(site: Site) -> None:
    client = site.client(per_address=Limit(1, 900))
    ask_for_link(client, A[1])
    ask_for_link(client, A[1].upper())
    assert len(site.links()) == 1


# --- logs ----------------------------------------------------------------------------------------


def test_no_token_secret_or_cookie_in_any_log_line(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = site.client()
    token = new_link(site, client, A[1])
    redeem(client, token)
    cookie = client.cookies["mentoring_session"]
    client.get("/me")
    redeem(client, token)  # used: refused
    server = [r for r in caplog.records if not r.name.startswith("httpx")]  # the browser's
    assert server, "nothing was logged at all: the test would prove nothing"
    logged = "".join(f"{r.getMessage()} {r.args}" for r in server)
    assert token not in logged and SECRET not in logged and cookie not in logged


def test_mentoring_portal_serves_healthz_and_logs_no_token(
    database_url: str, tmp_path: Path, uow: UnitOfWork
) -> None:
    port = prefect_server.free_port()
    env = {**os.environ, "MENTORING_SECRET_KEY": SECRET}
    log = tmp_path / "portal.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "flows.cli", "portal", "--port", str(port)],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while True:
                try:
                    health = httpx.get(f"{base}/healthz", timeout=1)
                    break
                except httpx.TransportError:
                    assert proc.poll() is None, log.read_text()
                    assert time.monotonic() < deadline, "the site did not answer in 30 s"
                    time.sleep(0.2)
            assert health.text == "ok"
            secret_token = "S3cretTokenValue_" + "z" * 30
            with httpx.Client(base_url=base) as client:
                page = client.get(f"/sign-in/{secret_token}")
                client.post(f"/sign-in/{secret_token}", data={"csrf_token": csrf_of(page.text)})
        finally:
            proc.terminate()
            proc.wait(timeout=15)
    said = log.read_text()
    assert f"127.0.0.1:{port}" in said
    assert secret_token not in said and SECRET not in said


# --- the secret key ------------------------------------------------------------------------------


def test_the_embedded_home_gets_a_secret_key_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    env = {"PATH": os.environ.get("PATH", "")}
    first = portal_secret_key(env)
    kept = tmp_path / "var" / "secret_key"
    assert kept.read_text().strip() == first and len(first) >= 48
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert portal_secret_key(env) == first
    assert portal_secret_key({"MENTORING_SECRET_KEY": SECRET}) == SECRET


def test_without_a_key_elsewhere_the_portal_refuses_to_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SecretKeyMissing, match="MENTORING_SECRET_KEY"):
        portal_secret_key({"MENTORING_HOME": str(tmp_path)})
    with pytest.raises(SecretKeyMissing, match="too short"):
        portal_secret_key({"MENTORING_SECRET_KEY": "short"})
    monkeypatch.delenv("MENTORING_SECRET_KEY", raising=False)
    monkeypatch.setenv("MENTORING_HOME", str(tmp_path))
    run = mentoring_here("portal")
    assert run.code == 1
    assert run.stderr.strip().splitlines() == [
        "error: MENTORING_SECRET_KEY is not set: the participants' site needs it to sign "
        "sessions (MENTORING_HOME is set, so none is generated)"
    ]
    assert not (tmp_path / "secret_key").exists()


def test_a_failing_database_gets_a_plain_page_with_the_headers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "empty.db").touch()  # a database without the program's tables
    app = create_app(PortalSettings("http://testserver", SECRET, f"sqlite:///{tmp_path}/empty.db"))
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as client:
        page = client.get("/sign-in/" + "A" * 43)
        answer = client.post("/sign-in/" + "A" * 43, data={"csrf_token": csrf_of(page.text)})
    assert answer.status_code == 500
    assert "Sorry, something went wrong" in answer.text and "Traceback" not in answer.text
    assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert answer.headers["cache-control"] == "no-store"
    assert "A" * 43 not in caplog.text
