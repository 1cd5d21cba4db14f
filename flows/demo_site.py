"""The demo's members on the participants' site, over HTTP as a member does.

The site runs in this process on a free port, one server for each part of the demo
(applications, mentoring, the survey), on a clock the demo sets to the day of each visit.
Each visit signs in from the link the site mailed to the mail folder and posts the site's
forms with their ``csrf_token``, keeping within the site's limits on sign-in requests (5
per address and 20 per client in any 15 minutes). What the site refuses ends the demo,
saying what the page said.

Once formal mentoring has begun, three pairs set their goals, log their meetings month by
month and answer check-ins; one of them answers a check-in that needs the committee
(score 2 of 5, "get in touch"). After the formal end, their partners answer the survey and
say whether they go on meeting.
"""

import email
import email.policy
import re
import secrets
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from domain.pairs import Pair
from flows.demo_data import SiteApplicant

CHICAGO = ZoneInfo("America/Chicago")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ROLE = re.compile(r'name="role" value="([^"]+)"')
HEADING = re.compile(r"<h1>([^<]+)</h1>")
SUMMARY = re.compile(r'class="error-summary-list">(.*?)</ul>', re.DOTALL)
SIGN_IN_LINK = re.compile(r"https?://[^\s\"'<>]+/sign-in/[A-Za-z0-9_-]+")
ENGAGED_PAIRS = 3


def at(year: int, month: int, day: int, hour: int = 7) -> datetime:
    """A moment of the demo's simulated year, in the committee's zone."""
    return datetime(year, month, day, hour, tzinfo=CHICAGO)


class SiteClock:
    """The site's clock: real time running on from the moment the demo last set."""

    def __init__(self, start: datetime) -> None:
        self._at = start.astimezone(UTC)
        self._set = time.monotonic()

    def set(self, when: datetime) -> None:
        self._at = when.astimezone(UTC)
        self._set = time.monotonic()

    def __call__(self) -> datetime:
        return self._at + timedelta(seconds=time.monotonic() - self._set)


@dataclass
class SiteActivity:
    """What the demo's members did on the site, counted as the site accepted it."""

    sign_ins: int = 0
    applications: int = 0
    goals: int = 0
    meetings: int = 0
    check_ins: int = 0
    survey_answers: int = 0
    continuing_answers: int = 0
    flagged_pairs: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def since(self, before: "SiteActivity") -> "SiteActivity":
        """What was done after ``before`` (an earlier copy of this)."""
        counts = {
            name: value - getattr(before, name)
            for name, value in asdict(self).items()
            if isinstance(value, int)
        }
        return SiteActivity(**counts, flagged_pairs=self.flagged_pairs[len(before.flagged_pairs) :])


@dataclass(frozen=True)
class Site:
    """The running site: its address, its clock, the mail folder it delivers to."""

    url: str
    clock: SiteClock
    mail: Path
    activity: SiteActivity


@contextmanager
def running_site(start: datetime, mail: Path, activity: SiteActivity) -> Iterator[Site]:
    """The participants' site on a free port in a thread, its clock set to ``start``."""
    import uvicorn

    from flows.prefect_server import free_port
    from flows.web import PortalSettings, create_app
    from infra.settings import Settings

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = PortalSettings(url, secrets.token_urlsafe(48), Settings.from_env().database_url)
    clock = SiteClock(start)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, clock=clock),
            host="127.0.0.1",
            port=port,
            access_log=False,
            log_level="warning",
        )
    )
    thread = threading.Thread(target=server.run, name="demo-site", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the participants' site did not start on {url}")
            time.sleep(0.05)
        yield Site(url, clock, mail, activity)
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@contextmanager
def signed_in(site: Site, address: str) -> Iterator["Visit"]:
    """A member's visit: a browser of their own, signed in from the link mailed to them."""
    with httpx.Client(base_url=site.url, timeout=30) as web:
        mailed = set(site.mail.glob("*.eml"))
        page = web.get("/sign-in")
        form = {"email": address, "csrf_token": _csrf(page.text)}
        _expect(web.post("/sign-in", data=form), 200, "", "sign-in request")
        link = _mailed_link(site.mail, address, mailed)
        page = web.get(link)
        _expect(web.post(link, data={"csrf_token": _csrf(page.text)}), 303, "", "sign-in")
        site.activity.sign_ins += 1
        yield Visit(site, web)


class Visit:
    """What a signed-in member does on the site's pages, each counted once accepted."""

    def __init__(self, site: Site, web: httpx.Client) -> None:
        self.site = site
        self.web = web

    def _send(
        self, page: str, form: dict[str, Any], status: int, heading: str, what: str
    ) -> httpx.Response:
        """Open ``page`` as a link from the member's page does (the site may redirect to the
        pair's own page) and post ``form`` back to it with the page's csrf_token; the
        answer must be ``status`` with ``heading``."""
        shown = self.web.get(page, follow_redirects=True)
        _expect(shown, 200, "", what)
        form = {**form, "csrf_token": _csrf(shown.text)}
        answer = self.web.post(shown.url.path, data=form)
        _expect(answer, status, heading, what)
        return answer

    def apply(self, form: dict[str, str | list[str]]) -> None:
        self._send("/apply", form, 200, "Application received", "application")
        self.site.activity.applications += 1

    def set_goals(self, goals: Sequence[str]) -> None:
        self._send("/pair/goals", {"goals": list(goals)}, 303, "", "goals")
        self.site.activity.goals += 1

    def log_meeting(self, met_on: date, minutes: int, mode: str) -> None:
        form = {"met_on": met_on.isoformat(), "minutes": str(minutes), "mode": mode, "note": ""}
        self._send("/pair/meetings", form, 303, "", "meeting log")
        self.site.activity.meetings += 1

    def check_in(self, *, met: bool, score: int, get_in_touch: bool) -> None:
        form = {
            "met": _yes_no(met),
            "score": str(score),
            "contact_committee": _yes_no(get_in_touch),
        }
        self._send("/check-in", form, 200, "Check-in received", "check-in")
        self.site.activity.check_ins += 1

    def answer_survey(self, answers: dict[str, str]) -> None:
        """Answer the survey for the role it asks about (each of the member's roles)."""
        page = self.web.get("/survey")
        while True:
            _expect(page, 200, "", "survey")
            role = ROLE.search(page.text)
            if role is None:
                raise RuntimeError("the site's survey page had no role field")
            form = {**answers, "role": role.group(1), "csrf_token": _csrf(page.text)}
            done = self.web.post("/survey", data=form)
            _expect(done, 200, "Thank you", "survey answers")
            self.site.activity.survey_answers += 1
            more = re.search(r'href="(/survey\?role=[a-z]+)"', done.text)
            if more is None:
                return
            page = self.web.get(more.group(1))

    def say_continuing(self, going_on: bool) -> None:
        form = {"continuing": _yes_no(going_on)}
        self._send("/continuing", form, 200, "Answer received", "going-on answer")
        self.site.activity.continuing_answers += 1


def apply_on_the_site(site: Site, applicant: SiteApplicant, when: datetime) -> None:
    """A member not in the imported file applies on the site as a mentee."""
    site.clock.set(when)
    with signed_in(site, applicant.email) as visit:
        visit.apply(applicant.form)


@dataclass(frozen=True)
class Partner:
    member_id: str
    email: str


@dataclass(frozen=True)
class EngagedPair:
    """A pair whose partners use the site; ``flagged``: one answers a check-in that needs
    the committee."""

    pair_id: int
    mentor: Partner
    mentee: Partner
    flagged: bool

    def partner(self, role: str) -> Partner:
        return self.mentor if role == "mentor" else self.mentee


def engaged_pairs(pairs: Sequence[Pair], emails: dict[str, str]) -> list[EngagedPair]:
    """The first :data:`ENGAGED_PAIRS` pairs whose partners are in no other pair (so the
    site's pages are about that pair, with no pair to choose); the last is the flagged one."""
    count: dict[str, int] = {}
    for pair in pairs:
        for member in pair.members:
            count[member] = count.get(member, 0) + 1
    alone = [p for p in pairs if all(count[m] == 1 for m in p.members)][:ENGAGED_PAIRS]
    return [
        EngagedPair(
            p.id,
            Partner(p.mentor_id, emails[p.mentor_id]),
            Partner(p.mentee_id, emails[p.mentee_id]),
            flagged=n == len(alone) - 1,
        )
        for n, p in enumerate(alone)
    ]


@dataclass(frozen=True)
class MentoringVisit:
    """One round of visits while mentoring runs: on ``when`` one partner (``role``) of each
    pair logs the meetings of the days ``met_on`` and answers the month's check-in; with
    ``goals`` they set the pair's goals first. In the ``flagging`` round the flagged pair
    logs no meeting and its check-in needs the committee; it makes no visit after it."""

    when: datetime
    role: str
    met_on: tuple[date, ...]
    check_in: bool = True
    goals: bool = False
    flagging: bool = False


GOALS = ("Prepare for a first supervisory role", "Plan a systems migration")


def mentoring_visits(year: int) -> list[MentoringVisit]:
    """The rounds of visits of cycle ``year``, December to May, in order."""
    y = year + 1
    return [
        MentoringVisit(at(year, 12, 8), "mentee", (date(year, 12, 5),), check_in=False, goals=True),
        MentoringVisit(at(y, 1, 12), "mentor", (date(y, 1, 9),)),
        MentoringVisit(at(y, 3, 12), "mentee", (date(y, 2, 10), date(y, 3, 9)), flagging=True),
        MentoringVisit(at(y, 5, 12), "mentor", (date(y, 4, 8), date(y, 5, 6))),
    ]


def visit_pairs(site: Site, pairs: Sequence[EngagedPair], visit: MentoringVisit) -> SiteActivity:
    """One round of ``visit`` on the site; returns what was done in it."""
    site.clock.set(visit.when)
    before = replace(site.activity, flagged_pairs=list(site.activity.flagged_pairs))
    for pair in pairs:
        if pair.pair_id in site.activity.flagged_pairs:
            continue
        flags = pair.flagged and visit.flagging
        with signed_in(site, pair.partner(visit.role).email) as member:
            if visit.goals:
                member.set_goals(GOALS)
            for day in () if flags else visit.met_on:
                member.log_meeting(day, 45, "video")
            if visit.check_in:
                member.check_in(met=not flags, score=2 if flags else 4, get_in_touch=flags)
        if flags:
            site.activity.flagged_pairs.append(pair.pair_id)
    return site.activity.since(before)


@dataclass(frozen=True)
class SurveyRound:
    """The survey on the site: the (member, role) places answered, and all that was done."""

    places: frozenset[tuple[str, str]]
    done: SiteActivity


def survey_on_the_site(site: Site, pairs: Sequence[EngagedPair], when: datetime) -> SurveyRound:
    """After the formal end: each partner answers the survey and says whether the pair goes
    on; the mentees of the pairs not flagged log their June meeting first."""
    site.clock.set(when)
    before = replace(site.activity, flagged_pairs=list(site.activity.flagged_pairs))
    places = set()
    for pair in pairs:
        for role in ("mentee", "mentor"):
            partner = pair.partner(role)
            with signed_in(site, partner.email) as member:
                if role == "mentee" and not pair.flagged:
                    member.log_meeting(date(when.year, 6, 10), 60, "in_person")
                member.answer_survey(_survey_answers(pair.flagged))
                member.say_continuing(not pair.flagged)
            places.add((partner.member_id, role))
    return SurveyRound(frozenset(places), site.activity.since(before))


def _survey_answers(flagged: bool) -> dict[str, str]:
    if flagged:
        return {"overall": "2", "goals_met": "2", "would_recommend": "no", "will_continue": "no"}
    return {"overall": "5", "goals_met": "4", "would_recommend": "yes", "will_continue": "yes"}


def _yes_no(answer: bool) -> str:
    return "yes" if answer else "no"


def _csrf(page: str) -> str:
    found = CSRF.search(page)
    if found is None:
        raise RuntimeError("a page of the participants' site had no csrf_token field")
    return found.group(1)


def _expect(answer: httpx.Response, status: int, heading: str, what: str) -> None:
    """The page a form accepted answers with; anything else ends the demo, saying what
    the page said (its heading and the problems in its error summary)."""
    said = [h.strip() for h in HEADING.findall(answer.text)]
    if answer.status_code == status and (not heading or said[:1] == [heading]):
        return
    summary = SUMMARY.search(answer.text)
    said += [p.strip() for p in re.findall(r">([^<>]+)<", summary.group(1))] if summary else []
    raise RuntimeError(
        f"the site refused the demo's {what} (HTTP {answer.status_code}): {'; '.join(said)}"
    )


def _mailed_link(mail: Path, address: str, before: set[Path], timeout: float = 30) -> str:
    """The sign-in link in a mail to ``address`` that the site delivered to the folder
    since ``before`` (the mails there then)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in set(mail.glob("*.eml")) - before:
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            body = message.get_body(("plain",))
            found = SIGN_IN_LINK.search(body.get_content()) if body is not None else None
            if found and address in str(message["To"]):
                return found.group(0)
        time.sleep(0.05)
    raise RuntimeError(f"no sign-in mail to {address} arrived in {mail}")
