"""The participants' site after pairing, through its HTTP interface on SQLite and
PostgreSQL: goals, the meeting log, the monthly check-in (a flagged one announced), the
survey and the continuing question; only a pair's partners see or write its records, and
what one partner writes is not shown to the other."""

import html
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from domain.cycle_states import CycleEvent, Trigger
from domain.engagement import goals_task_key
from domain.followups import survey_task_key
from domain.pairs import Pair
from flows.usecases import assessment, cycles, program
from flows.usecases.effects import Mailer
from flows.web import engagement_pages
from infra.uow import UnitOfWork
from tests.integration.test_engagement import JAN_15, JULY_2, SECRET, active_cycle, records, tasks
from tests.integration.test_site_web import Clock, Site, csrf_of, sign_in

YEAR = 2026
LAST_DAY = date(2027, 7, 31)
SURVEY_COLUMNS = (
    "submitted_at,member_id,role,overall,goals_met,would_recommend,will_continue,comments"
)
GOOD_SURVEY = {
    "overall": "4",
    "goals_met": "5",
    "would_recommend": "yes",
    "will_continue": "no",
    "comments": "More  meetings\nnext year",
}


@dataclass
class Engaged:
    """A site on an active cycle (mid-January), a pair whose partners stay members to the
    end, and a member of another pair."""

    site: Site
    pairs: list[Pair]
    pair: Pair
    stranger: str

    def email(self, member_id: str) -> str:
        with self.site.uow:
            member = self.site.uow.members.get(member_id)
            assert member is not None
            return member.email

    def client_of(self, member_id: str) -> TestClient:
        client = self.site.client()
        sign_in(self.site, client, self.email(member_id))
        return client


def _current(uow: UnitOfWork, member_ids: Sequence[str]) -> bool:
    with uow:
        found = [uow.members.get(m) for m in member_ids]
        return all(m is not None and m.is_core_member(LAST_DAY) for m in found)


@pytest.fixture
def engaged(uow: UnitOfWork, database_url: str, tmp_path: Path) -> Iterator[Engaged]:
    pairs = active_cycle(uow)
    kept = [p for p in pairs if _current(uow, p.members)]
    pair = kept[0]
    stranger = next(m for p in kept[1:] for m in p.members if m not in pair.members)
    site = Site(uow, Clock(JAN_15), tmp_path / "home" / "mail", database_url)
    yield Engaged(site, pairs, pair, stranger)
    for client in site.clients:
        client.close()


def _post(client: TestClient, path: str, data: Mapping[str, str | list[str]]) -> str:
    """Post ``data`` with the token of the form at ``path``; returns the answer's text."""
    page = client.get(path)
    answer = client.post(path, data={**data, "csrf_token": csrf_of(page.text)})
    return str(answer.text)


def test_goals_set_by_one_partner_are_seen_by_the_other(engaged: Engaged) -> None:
    pair = engaged.pair
    mentee = engaged.client_of(pair.mentee_id)
    me = mentee.get("/me")
    assert "Your pair" in me.text and 'href="/check-in"' in me.text
    to_goals = mentee.get("/pair/goals")
    assert to_goals.status_code == 303
    assert to_goals.headers["location"] == f"/pair/{pair.id}/goals"
    path = to_goals.headers["location"]
    form = mentee.get(path)
    assert form.status_code == 200 and "has not set its goals yet" in form.text
    wrong = mentee.post(path, data={"goals": ["", ""], "csrf_token": csrf_of(form.text)})
    assert wrong.status_code == 400 and 'href="#goals"' in wrong.text
    saved = mentee.post(
        path,
        data={"goals": ["Plan a budget", "Lead a project", ""], "csrf_token": csrf_of(form.text)},
    )
    assert saved.status_code == 303 and saved.headers["location"] == path

    mentor = engaged.client_of(pair.mentor_id)
    seen = mentor.get(path)
    assert "<li>Plan a budget</li>" in seen.text and "<li>Lead a project</li>" in seen.text
    goal_tasks = tasks(engaged.site.uow, "/goals/")
    for role in ("mentor", "mentee"):
        key = goals_task_key(YEAR, role, pair.mentor_id, pair.mentee_id)
        assert goal_tasks[key].done_at is not None
    [record] = records(engaged.site.uow, "goals_set")
    assert (record["actor"], record["trigger"]) == (pair.mentee_id, "site")


def test_a_logged_meeting_closes_the_month_s_check_in_and_its_note_stays_with_its_writer(
    engaged: Engaged,
) -> None:
    pair = engaged.pair
    mentor = engaged.client_of(pair.mentor_id)
    path = f"/pair/{pair.id}/meetings"
    form = mentor.get(path)
    assert 'name="met_on"' in form.text and 'name="mode"' in form.text
    meeting = {"met_on": "2027-01-14", "minutes": "45", "mode": "video", "note": SECRET}
    too_long = mentor.post(
        path, data={**meeting, "minutes": "9999", "csrf_token": csrf_of(form.text)}
    )
    assert too_long.status_code == 400 and 'href="#minutes"' in too_long.text
    assert 'value="2027-01-14"' in too_long.text and SECRET in too_long.text  # input kept
    assert records(engaged.site.uow, "meeting_logged") == []
    logged = mentor.post(path, data={**meeting, "csrf_token": csrf_of(form.text)})
    assert logged.status_code == 303
    assert SECRET in mentor.get(path).text

    suffix = f"/{pair.mentor_id}/{pair.mentee_id}"
    january = tasks(engaged.site.uow, f"/check-in/2027-01{suffix}")
    assert january and all(t.done_at is not None for t in january.values())
    mentee_view = engaged.client_of(pair.mentee_id).get(path)
    assert "2027-01-14" in mentee_view.text and "video" in mentee_view.text
    assert SECRET not in mentee_view.text


def test_a_low_check_in_flags_the_pair_and_announces_it_without_telling_the_partner(
    engaged: Engaged, monkeypatch: pytest.MonkeyPatch
) -> None:
    announced: list[tuple[int, int, tuple[str, ...]]] = []
    monkeypatch.setattr(  # no Prefect API in these tests: the page's import is spied on
        engagement_pages,
        "announce_needs_attention",
        lambda year, pair_id, reasons: announced.append((year, pair_id, tuple(reasons))),
    )
    pair = engaged.pair
    mentee = engaged.client_of(pair.mentee_id)
    form = mentee.get("/check-in")
    assert form.status_code == 200
    assert "<legend>How is it going?</legend>" in form.text and 'name="score"' in form.text
    empty = mentee.post("/check-in", data={"csrf_token": csrf_of(form.text)})
    assert empty.status_code == 400 and 'href="#met"' in empty.text
    answer = {"met": "yes", "score": "2", "contact_committee": "no"}
    sent = mentee.post("/check-in", data={**answer, "csrf_token": csrf_of(form.text)})
    assert sent.status_code == 200 and "Check-in received" in sent.text
    assert "2 of 5" not in sent.text
    assert announced == [(YEAR, pair.id, ("a partner scored how it is going 2 of 5",))]
    suffix = f"/{pair.mentor_id}/{pair.mentee_id}"
    [task] = tasks(engaged.site.uow, f"/attention/2027-01{suffix}").values()
    assert task.audience == "committee" and task.done_at is None
    [record] = records(engaged.site.uow, "checked_in")
    assert (record["actor"], record["trigger"], record["flagged"]) == (pair.mentee_id, "site", True)

    mentor = engaged.client_of(pair.mentor_id)
    for page in ("/me", f"/pair/{pair.id}/meetings", f"/pair/{pair.id}/goals", "/check-in"):
        text = mentor.get(page).text
        assert "2 of 5" not in text and "going 2" not in text, page
    assert "going 2 of 5" in mentee.get(f"/pair/{pair.id}/meetings").text  # the writer's own

    theirs = next(p for p in engaged.pairs if engaged.stranger in p.members)
    fine = {"pair_id": str(theirs.id), "met": "yes", "score": "5", "contact_committee": "no"}
    assert "Check-in received" in _post(engaged.client_of(engaged.stranger), "/check-in", fine)
    assert len(announced) == 1, "a check-in that flags nothing is not announced"


def test_another_member_gets_the_same_404_on_every_route_of_a_pair_not_theirs(
    engaged: Engaged,
) -> None:
    pair = engaged.pair
    names = _names(engaged, pair.members)
    owner = engaged.client_of(pair.mentor_id)
    _post(owner, f"/pair/{pair.id}/goals", {"goals": ["A goal only the pair sees"]})
    other = engaged.client_of(engaged.stranger)
    token = csrf_of(other.get("/me").text)
    attempts = [
        other.get(f"/pair/{pair.id}/goals"),
        other.get(f"/pair/{pair.id}/meetings"),
        other.post(f"/pair/{pair.id}/goals", data={"goals": "x", "csrf_token": token}),
        other.post(
            f"/pair/{pair.id}/meetings",
            data={"met_on": "2027-01-14", "minutes": "30", "mode": "call", "csrf_token": token},
        ),
        other.post(
            "/check-in",
            data={
                "pair_id": str(pair.id),
                "met": "yes",
                "score": "5",
                "contact_committee": "no",
                "csrf_token": token,
            },
        ),
        other.get("/pair/999999/goals"),
    ]
    for answer in attempts:
        assert answer.status_code == 404, answer.request.url
        assert "There is no page at this address." in answer.text
        assert "A goal only the pair sees" not in answer.text
        assert not any(name in answer.text for name in names)
    assert [r["actor"] for r in records(engaged.site.uow, "goals_set")] == [pair.mentor_id]
    assert records(engaged.site.uow, "meeting_logged") == []
    assert records(engaged.site.uow, "checked_in") == []


def _names(engaged: Engaged, member_ids: Sequence[str]) -> list[str]:
    with engaged.site.uow:
        found = [engaged.site.uow.members.get(m) for m in member_ids]
        return [m.full_name for m in found if m is not None]


def test_every_form_without_the_session_s_token_is_refused(engaged: Engaged) -> None:
    pair = engaged.pair
    client = engaged.client_of(pair.mentee_id)
    posts = {
        f"/pair/{pair.id}/goals": {"goals": "Grow"},
        f"/pair/{pair.id}/meetings": {"met_on": "2027-01-14", "minutes": "30", "mode": "call"},
        "/check-in": {"met": "yes", "score": "1", "contact_committee": "yes"},
        "/continuing": {"continuing": "yes"},
        "/survey": {**GOOD_SURVEY, "role": "mentee"},
    }
    for path, data in posts.items():
        for token in (None, "forged-token"):
            sent = data if token is None else {**data, "csrf_token": token}
            answer = client.post(path, data=sent)
            assert answer.status_code == 403, path
            assert "This form has expired" in answer.text
    for kind in ("goals_set", "meeting_logged", "checked_in", "continuing_said"):
        assert records(engaged.site.uow, kind) == []


def _end_mentoring(engaged: Engaged) -> None:
    cycles.fire_event(
        engaged.site.uow,
        YEAR,
        CycleEvent.end_mentoring,
        actor="s",
        trigger=Trigger.schedule,
        now=JULY_2,
    )
    engaged.site.clock.now = JULY_2


def test_survey_answers_are_stored_as_the_import_stores_them_and_close_the_task(
    engaged: Engaged, tmp_path: Path
) -> None:
    pair = engaged.pair
    mentee = engaged.client_of(pair.mentee_id)
    not_yet = mentee.get("/survey")
    assert "The survey is not open" in not_yet.text
    _end_mentoring(engaged)
    mentee = engaged.client_of(pair.mentee_id)  # a new day, a new session
    assert 'href="/survey"' in mentee.get("/me").text
    form = mentee.get("/survey")
    assert form.status_code == 200 and 'name="goals_met"' in form.text
    wrong = mentee.post(
        "/survey", data={"overall": "9", "role": "mentee", "csrf_token": csrf_of(form.text)}
    )
    assert wrong.status_code == 400
    for field in ("overall", "goals_met", "would_recommend", "will_continue"):
        assert f'href="#{field}"' in wrong.text, field
    uow = engaged.site.uow
    with uow:
        assert uow.responses.of_cycle(YEAR) == []
    done = mentee.post(
        "/survey", data={**GOOD_SURVEY, "role": "mentee", "csrf_token": csrf_of(form.text)}
    )
    assert done.status_code == 200 and "Your answers as a mentee are kept" in done.text
    with uow:
        [on_site] = uow.responses.of_cycle(YEAR)
    assert (on_site.member_id, on_site.role, on_site.overall, on_site.comments) == (
        pair.mentee_id,
        "mentee",
        4,
        "More meetings next year",
    )
    assert on_site.submitted_at == JULY_2
    [task] = tasks(uow, survey_task_key(YEAR, pair.mentee_id)).values()
    assert task.done_at is not None and task.done_by == f"{pair.mentee_id} (survey answered)"
    [record] = records(uow, "survey_answered")
    assert (record["actor"], record["trigger"], record["role"]) == (
        pair.mentee_id,
        "site",
        "mentee",
    )
    assert "More meetings" not in json.dumps(record)

    export = tmp_path / "assessment.csv"
    export.write_text(
        f"{SURVEY_COLUMNS}\n{JULY_2.isoformat()},{pair.mentee_id},mentee,4,5,yes,no,"
        '"More  meetings\nnext year"\n'
    )
    imported = assessment.import_responses(uow, YEAR, export, actor="chair", now=JULY_2)
    assert (imported.imported, imported.replaced, imported.rejected) == (1, 1, [])
    with uow:
        assert uow.responses.of_cycle(YEAR) == [on_site], "the import stores the same answer"

    continuing = _post(mentee, "/continuing", {"continuing": "yes"})
    assert "Answer received" in continuing
    [said] = records(uow, "continuing_said")
    assert (said["actor"], said["continuing"], said["pair_id"]) == (pair.mentee_id, True, pair.id)


def test_a_member_who_was_both_answers_the_survey_once_for_each_role(engaged: Engaged) -> None:
    mentors = {p.mentor_id for p in engaged.pairs}
    mentees = {p.mentee_id for p in engaged.pairs}
    both = sorted(m for m in mentors & mentees if _current(engaged.site.uow, [m]))[0]
    _end_mentoring(engaged)
    client = engaged.client_of(both)
    first = client.get("/survey")
    assert "answer once for each" in first.text and "as a mentor" in first.text
    done = client.post(
        "/survey", data={**GOOD_SURVEY, "role": "mentor", "csrf_token": csrf_of(first.text)}
    )
    assert 'href="/survey?role=mentee"' in done.text
    second = client.get("/survey?role=mentee")
    assert "answer as a mentee" in second.text
    client.post(
        "/survey",
        data={**GOOD_SURVEY, "overall": "2", "role": "mentee", "csrf_token": csrf_of(second.text)},
    )
    with engaged.site.uow:
        mine = [r for r in engaged.site.uow.responses.of_cycle(YEAR) if r.member_id == both]
    assert sorted((str(r.role), r.overall) for r in mine) == [("mentee", 2), ("mentor", 4)]
    assert len(records(engaged.site.uow, "survey_answered")) == 2


def test_the_check_in_and_survey_mails_link_to_the_site_unless_an_outside_form_is_set(
    engaged: Engaged,
) -> None:
    uow = engaged.site.uow
    with uow:
        mailer = Mailer(uow, uow.cycles.get(YEAR), portal_url="https://mentoring.example.org/")
    assert (mailer.program.checkin_url, mailer.program.survey_url) == (
        "https://mentoring.example.org/check-in",
        "https://mentoring.example.org/survey",
    )
    program.set_details(
        uow, YEAR, {"checkin_url": "https://forms.example.org/checkin"}, actor="chair"
    )
    with uow:
        mailer = Mailer(uow, uow.cycles.get(YEAR), portal_url="https://mentoring.example.org")
    assert mailer.program.checkin_url == "https://forms.example.org/checkin"
    assert mailer.program.survey_url == "https://mentoring.example.org/survey"


def test_the_new_pages_are_titled_with_one_heading(engaged: Engaged) -> None:
    pair = engaged.pair
    client = engaged.client_of(pair.mentor_id)
    for path in (f"/pair/{pair.id}/goals", f"/pair/{pair.id}/meetings", "/check-in"):
        page = client.get(path)
        assert page.status_code == 200 and page.text.count("<h1") == 1, path


def test_after_the_end_another_member_cannot_answer_for_a_pair_not_theirs(
    engaged: Engaged,
) -> None:
    pair = engaged.pair
    _end_mentoring(engaged)
    other = engaged.client_of(engaged.stranger)
    page = other.get("/continuing")
    assert page.status_code == 200 and 'name="continuing"' in page.text
    refused = other.post(
        "/continuing",
        data={"pair_id": str(pair.id), "continuing": "no", "csrf_token": csrf_of(page.text)},
    )
    assert refused.status_code == 404 and "There is no page at this address." in refused.text
    assert records(engaged.site.uow, "continuing_said") == []
    for path in (f"/pair/{pair.id}/goals", f"/pair/{pair.id}/meetings"):
        assert other.get(path).status_code == 404


def _summary(page: str) -> dict[str, str]:
    """The error summary's messages by the field each links to, as a member reads them."""
    return {
        name: html.unescape(text)
        for name, text in re.findall(r'<li><a href="#([a-z_]+)">(.*?)</a></li>', page)
    }


def test_each_refused_answer_is_named_as_its_page_labels_it(engaged: Engaged) -> None:
    pair = engaged.pair
    mentee = engaged.client_of(pair.mentee_id)
    form = mentee.get("/check-in")
    token = csrf_of(form.text)
    for legend in ("Have you met this month?", "How is it going?"):
        assert f"<legend>{legend}</legend>" in form.text
    empty = mentee.post("/check-in", data={"csrf_token": token})
    assert _summary(empty.text) == {
        "met": "Choose whether you have met this month",
        "score": "Choose how it is going, from 1 (badly) to 5 (very well)",
        "contact_committee": "Choose whether you would like the committee to get in touch",
    }
    answer = {"met": "yes", "score": "7", "contact_committee": "no", "csrf_token": token}
    forged = mentee.post("/check-in", data=answer)
    assert _summary(forged.text) == {
        "score": "“How is it going?”: 7 is out of range; use a whole number from 1 to 5"
    }

    meetings = f"/pair/{pair.id}/meetings"
    day = {"met_on": "14/01/2027", "minutes": "45", "mode": "call", "csrf_token": token}
    assert _summary(mentee.post(meetings, data=day).text) == {
        "met_on": "“The day you met”: '14/01/2027' is not a date; use one such as 2027-01-14"
    }
    no_day = mentee.post(meetings, data={**day, "met_on": " "})
    assert _summary(no_day.text) == {"met_on": "Enter the day you met, for example 2027-01-14"}
    all_wrong = mentee.post(
        meetings, data={"met_on": "2027-01-16", "minutes": "", "mode": "email", "csrf_token": token}
    )
    assert all_wrong.status_code == 400
    assert _summary(all_wrong.text) == {
        "met_on": "“The day you met”: 2027-01-16 is in the future; log a meeting once it has "
        "taken place",
        "minutes": "Enter about how long you met, in minutes",
        "mode": "“How did you meet?”: 'email' is not allowed; use in_person, call or video",
    }
    for name in ("met_on", "minutes", "mode"):
        assert all_wrong.text.count(f'id="{name}-error"') == 1, f"{name}'s problem beside it"
    goals = mentee.post(f"/pair/{pair.id}/goals", data={"goals": ["", " "], "csrf_token": token})
    assert _summary(goals.text) == {"goals": "Write at least one goal for your pair"}
    too_long = mentee.post(f"/pair/{pair.id}/goals", data={"goals": "g" * 501, "csrf_token": token})
    assert _summary(too_long.text) == {
        "goals": "Your answer to “One to three goals for your pair” is 501 characters long; "
        "keep it to 500"
    }
    for kind in ("goals_set", "meeting_logged", "checked_in"):
        assert records(engaged.site.uow, kind) == []

    _end_mentoring(engaged)
    mentee = engaged.client_of(pair.mentee_id)
    survey = mentee.get("/survey")
    wrong = mentee.post(
        "/survey",
        data={**GOOD_SURVEY, "overall": "", "would_recommend": "maybe", "role": "mentee",
              "csrf_token": csrf_of(survey.text)},
    )  # fmt: skip
    assert _summary(wrong.text) == {
        "overall": "Choose how you rate the program overall, from 1 to 5",
        "would_recommend": "“Would you recommend the program to a colleague?”: 'maybe' is not "
        "allowed; use yes or no",
    }
