"""The participants' site's use cases, on SQLite and PostgreSQL: signing in by a mailed
link, applying (the CSV intake's checks, audit and mail), where a member stands, and their
data (nothing about anyone else)."""

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import func, select, text

from domain.cycle_states import CycleEvent, Trigger
from domain.sign_in import EXPIRED, FORGED, NOT_CURRENT, USED
from flows.usecases import (
    applications,
    audit,
    audit_story,
    cycles,
    member_data,
    members,
    pairings,
    program,
    site_applications,
    standing,
)
from flows.usecases.sign_in import (
    SignedIn,
    SignInRefused,
    current_member,
    redeem_sign_in,
    request_sign_in,
)
from flows.usecases.site_applications import ApplicationRefused, ApplicationSaved, FieldProblem
from infra import db
from infra.tables import ApplicationRow, AuditRow, MessageRow, SignInLinkRow
from infra.uow import UnitOfWork
from tests.builders import AUG_2, DATA, NOV_5, OCT_1, cycle_with_applications

YEAR = 2026
PORTAL = "https://mentoring.core.example.org"
AUG_10 = datetime(2026, 8, 10, 15, tzinfo=UTC)
MEMBER = "C100011"  # current until 2027-08 or later, not in the sample applications
EXPIRED_MEMBER = "C100003"  # membership expired 2026-01-27
FORM: dict[str, str | list[str]] = {
    "role": "mentor",
    "areas": ["Technology", "Assessment"],
    "career_stage": "mid",
    "library_type": "public",
    "time_zone": "America/Denver",
    "goals": "help new systems librarians",
    "max_mentees": "2",
}


@pytest.fixture
def call_open(uow: UnitOfWork) -> UnitOfWork:
    """Cycle 2026 with its call open and the sample roster, no applications yet."""
    cycles.create_cycle(uow, YEAR, timezone="America/Chicago", milestones={}, actor="chair")
    cycles.fire_event(
        uow, YEAR, CycleEvent.open_call, actor="s", trigger=Trigger.schedule, now=AUG_2
    )
    members.import_roster(uow, DATA / "roster.csv", actor="chair", now=AUG_2)
    return uow


def count(uow: UnitOfWork, model: type[object]) -> int:
    with uow:
        return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)


def email_of(uow: UnitOfWork, member_id: str) -> str:
    with uow:
        member = uow.members.get(member_id)
        assert member is not None
        return member.email


def message(uow: UnitOfWork, key: str) -> MessageRow:
    with uow:
        row = uow.session.scalars(select(MessageRow).where(MessageRow.key == key)).one()
        uow.session.expunge(row)
        return row


def link_token(uow: UnitOfWork, key: str) -> str:
    found = re.search(rf"{re.escape(PORTAL)}/sign-in/(\S+)", message(uow, key).text_body)
    assert found is not None
    return found.group(1)


def sign_in_link(uow: UnitOfWork, member_id: str = MEMBER, now: datetime = AUG_10) -> str:
    key = request_sign_in(uow, email_of(uow, member_id), portal_url=PORTAL + "/", now=now)
    assert key is not None
    return link_token(uow, key)


# --- signing in -----------------------------------------------------------------------------


def test_a_members_link_goes_to_the_roster_address_and_only_its_hash_is_stored(
    call_open: UnitOfWork,
) -> None:
    typed = "  " + email_of(call_open, MEMBER).upper() + " "
    key = request_sign_in(call_open, typed, portal_url=PORTAL, now=AUG_10)
    assert key is not None
    mail = message(call_open, key)
    assert mail.kind == "sign_in_link" and mail.to_address == email_of(call_open, MEMBER)
    token = link_token(call_open, key)
    assert f"{PORTAL}/sign-in/{token}" in mail.html_body
    assert len(token) >= 43  # 32 random bytes
    with call_open:
        rows = list(call_open.session.scalars(select(SignInLinkRow)))
    assert [(r.token_hash, r.member_id) for r in rows] == [
        (hashlib.sha256(token.encode()).hexdigest(), MEMBER)
    ]
    assert rows[0].expires_at == AUG_10 + timedelta(minutes=30) and rows[0].used_at is None
    assert all(token not in str(value) for value in vars(rows[0]).values())


@pytest.mark.parametrize("address", ["nobody@example.org", "", "not an address"])
def test_a_stranger_gets_none_and_nothing_is_written(call_open: UnitOfWork, address: str) -> None:
    before = [count(call_open, m) for m in (SignInLinkRow, MessageRow, AuditRow)]
    assert request_sign_in(call_open, address, portal_url=PORTAL, now=AUG_10) is None
    assert [count(call_open, m) for m in (SignInLinkRow, MessageRow, AuditRow)] == before


def test_a_member_whose_membership_expired_gets_no_link(call_open: UnitOfWork) -> None:
    before = count(call_open, MessageRow)
    address = email_of(call_open, EXPIRED_MEMBER)
    assert request_sign_in(call_open, address, portal_url=PORTAL, now=AUG_10) is None
    assert count(call_open, MessageRow) == before and count(call_open, SignInLinkRow) == 0


def test_a_link_signs_in_once(call_open: UnitOfWork) -> None:
    token = sign_in_link(call_open)
    signed = redeem_sign_in(call_open, token, now=AUG_10 + timedelta(minutes=5))
    assert signed == SignedIn(MEMBER, "Aiko Fujita")
    assert redeem_sign_in(call_open, token, now=AUG_10 + timedelta(minutes=6)) == SignInRefused(
        USED
    )


def test_an_expired_or_forged_link_is_refused_in_plain_words(call_open: UnitOfWork) -> None:
    token = sign_in_link(call_open)
    late = AUG_10 + timedelta(minutes=30)
    assert redeem_sign_in(call_open, token, now=late) == SignInRefused(EXPIRED)
    assert redeem_sign_in(call_open, token[:-1] + "x", now=AUG_10) == SignInRefused(FORGED)
    assert redeem_sign_in(call_open, "", now=AUG_10) == SignInRefused(FORGED)
    assert EXPIRED == "This sign-in link has expired (links last 30 minutes)."


def test_a_membership_that_ran_out_since_the_request_is_refused_at_sign_in(
    call_open: UnitOfWork,
) -> None:
    member = "C100000"  # membership expires 2026-09-15
    asked = datetime(2026, 9, 15, 23, 50, tzinfo=UTC)
    token = sign_in_link(call_open, member, asked)
    refused = redeem_sign_in(call_open, token, now=asked + timedelta(minutes=15))
    assert refused == SignInRefused(NOT_CURRENT)
    assert current_member(call_open, member, now=asked) is not None
    assert current_member(call_open, member, now=asked + timedelta(minutes=15)) is None
    assert current_member(call_open, "C999999", now=asked) is None


def test_of_many_redeeming_one_link_at_once_exactly_one_signs_in(
    call_open: UnitOfWork, database_url: str
) -> None:
    token = sign_in_link(call_open)
    factory = db.session_factory(database_url)

    def redeem(_: int) -> SignedIn | SignInRefused:
        return redeem_sign_in(UnitOfWork(factory), token, now=AUG_10 + timedelta(minutes=1))

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(redeem, range(8)))
    assert sum(isinstance(r, SignedIn) for r in results) == 1
    assert [r for r in results if not isinstance(r, SignedIn)] == [SignInRefused(USED)] * 7


# --- applying on the site -------------------------------------------------------------------


def apply(
    uow: UnitOfWork,
    form: Mapping[str, str | Sequence[str]] = FORM,
    member_id: str = MEMBER,
    now: datetime = AUG_10,
) -> ApplicationSaved | ApplicationRefused:
    return site_applications.apply_on_site(uow, YEAR, member_id, form, now=now)


def test_an_application_on_the_site_is_stored_audited_and_acknowledged(
    call_open: UnitOfWork,
) -> None:
    assert site_applications.open_call_year(call_open, now=AUG_10) == YEAR
    form = {**FORM, "email": "evil@attacker.example", "member_id": "C100001", "csrf_token": "x"}
    saved = apply(call_open, form)
    assert saved == ApplicationSaved(
        YEAR,
        MEMBER,
        replaced=False,
        messages=1,
        closes_at=datetime(2026, 10, 1, 4, 59, 59, tzinfo=UTC),  # 30 Sept 23:59:59 in Chicago
        time_zone="America/Denver",  # the application's, to show it in
    )
    with call_open:
        row = call_open.session.scalars(select(ApplicationRow)).one()
        record = call_open.session.scalars(select(AuditRow).order_by(AuditRow.seq.desc())).first()
        received = call_open.session.scalars(
            select(MessageRow).where(MessageRow.kind == "application_received")
        ).one()
    assert (row.member_id, row.email, row.source) == (MEMBER, email_of(call_open, MEMBER), "site")
    assert (row.role, row.areas, row.max_mentees) == ("mentor", "Assessment;Technology", 2)
    assert row.submitted_at == AUG_10
    assert record is not None and (record.kind, record.actor) == ("applications_imported", MEMBER)
    assert record.fields["trigger"] == "site" and record.fields["imported"] == 1
    assert received.to_address == email_of(call_open, MEMBER)
    assert site_applications.application_form_defaults(call_open, YEAR, MEMBER) == {
        **FORM,
        "areas": ["Assessment", "Technology"],
    }
    assert audit.verify(call_open).problems == []
    told = audit_story.story(call_open, YEAR, now=AUG_10)
    assert f"application made on the site by {MEMBER}: 1 accepted" in [
        line["what"] for line in told.timeline
    ]
    assert told.applications["imports"][-1]["through"] == "site"


def test_applying_again_replaces_the_earlier_application_as_a_reimport_does(
    call_open: UnitOfWork,
) -> None:
    apply(call_open)
    again = apply(call_open, {**FORM, "role": "both", "areas": "Preservation; Technology"})
    assert isinstance(again, ApplicationSaved) and again.replaced and again.messages == 0
    with call_open:
        rows = list(call_open.session.scalars(select(ApplicationRow)))
        record = call_open.session.scalars(select(AuditRow).order_by(AuditRow.seq.desc())).first()
    assert [(r.role, r.areas, r.source) for r in rows] == [
        ("both", "Preservation;Technology", "site")
    ]
    assert record is not None and record.actor == MEMBER
    assert record.fields["replaced"] == [MEMBER] and record.fields["trigger"] == "site"


def test_a_site_application_replaces_an_imported_one_and_the_list_says_through_what(
    uow: UnitOfWork,
) -> None:
    cycles.create_cycle(uow, YEAR, timezone="America/Chicago", milestones={}, actor="chair")
    cycles.fire_event(
        uow, YEAR, CycleEvent.open_call, actor="s", trigger=Trigger.schedule, now=AUG_2
    )
    members.import_roster(uow, DATA / "roster.csv", actor="chair", now=AUG_2)
    applications.import_applications(
        uow, YEAR, DATA / "applications.csv", actor="chair", now=datetime(2026, 9, 20, tzinfo=UTC)
    )
    saved = apply(uow, {**FORM, "role": "mentee", "max_mentees": ""}, "C100001", AUG_10)
    assert isinstance(saved, ApplicationSaved) and saved.replaced
    listing = applications.list_applications(uow, YEAR)
    by_member = {a.member_id: a for a in listing.applications}
    assert by_member["C100001"].source == "site" and by_member["C100001"].role == "mentee"
    assert {a.source for a in listing.applications if a.member_id != "C100001"} == {"import"}
    assert {a.state for a in listing.applications} == {"received"}
    with uow:
        kinds = [
            (r.actor, r.fields.get("trigger"))
            for r in uow.audit.records(YEAR, "applications_imported")
        ]
    assert kinds == [("chair", "import"), ("C100001", "site")]


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"role": "sponsor"}, "role", "role 'sponsor' is not allowed"),
        ({"role": ""}, "role", "role is empty"),
        ({"areas": []}, "areas", "areas is empty"),
        ({"areas": ["Technology", "Knitting"]}, "areas", "'Knitting' is not a Core area"),
        ({"career_stage": "veteran"}, "career_stage", "career_stage 'veteran' is not allowed"),
        ({"library_type": "bookshop"}, "library_type", "library_type 'bookshop' is not allowed"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "not an IANA time zone name"),
        ({"goals": "x" * 4001}, "goals", "goals"),
        ({"max_mentees": ""}, "max_mentees", "role mentor needs a whole number"),
        ({"max_mentees": "9"}, "max_mentees", "out of range"),
        ({"max_mentees": "two"}, "max_mentees", "not a whole number"),
        ({"role": "mentee"}, "max_mentees", "must be empty for a mentee"),
    ],
)
def test_each_bad_field_is_named_and_nothing_is_stored(
    call_open: UnitOfWork, changes: dict[str, str | list[str]], field: str, words: str
) -> None:
    before = [count(call_open, m) for m in (ApplicationRow, MessageRow, AuditRow)]
    refused = apply(call_open, {**FORM, **changes})
    assert isinstance(refused, ApplicationRefused) and not refused.call_closed
    assert [p.field for p in refused.problems] == [field]
    assert words in refused.problems[0].message
    assert [count(call_open, m) for m in (ApplicationRow, MessageRow, AuditRow)] == before


def test_every_problem_of_a_form_is_named_at_once(call_open: UnitOfWork) -> None:
    refused = apply(
        call_open,
        {
            "role": "mentr",
            "areas": "Nope",
            "career_stage": "x",
            "time_zone": "",
            "max_mentees": "9",
        },
    )
    assert isinstance(refused, ApplicationRefused)
    assert [p.field for p in refused.problems] == [
        "role",
        "areas",
        "career_stage",
        "library_type",
        "time_zone",
        "max_mentees",
    ]


def test_a_member_whose_membership_expired_cannot_apply(call_open: UnitOfWork) -> None:
    refused = apply(call_open, member_id=EXPIRED_MEMBER)
    assert refused == ApplicationRefused(
        [FieldProblem("", site_applications.NOT_A_MEMBER)], call_closed=False
    )
    assert apply(call_open, member_id="C999999") == refused
    assert count(call_open, ApplicationRow) == 0


def test_the_site_applies_to_the_open_call_after_the_membership_check_in_one_read(
    call_open: UnitOfWork,
) -> None:
    def post(
        member_id: str, form: Mapping[str, str | Sequence[str]] = FORM, now: datetime = AUG_10
    ) -> ApplicationSaved | ApplicationRefused | None:
        return site_applications.apply_to_open_call(call_open, member_id, form, now=now)

    assert post(EXPIRED_MEMBER) is None and post("C999999") is None
    bad = post(MEMBER, {**FORM, "max_mentees": "9"})
    assert isinstance(bad, ApplicationRefused) and bad.year == YEAR and not bad.call_closed
    assert bad.problems and bad.problems[0].field == "max_mentees"
    closed = post(MEMBER, now=datetime(2026, 10, 2, tzinfo=UTC))
    assert closed == ApplicationRefused([], call_closed=True, next_call_opens=None)
    assert count(call_open, ApplicationRow) == 0
    saved = post(MEMBER)
    assert isinstance(saved, ApplicationSaved) and (saved.year, saved.member_id) == (YEAR, MEMBER)
    assert count(call_open, ApplicationRow) == 1


def test_a_signed_in_members_page_is_none_once_the_membership_lapsed(
    call_open: UnitOfWork,
) -> None:
    page = standing.current_member_standing(call_open, MEMBER, now=AUG_10)
    assert page == standing.where_i_stand(call_open, MEMBER, now=AUG_10)
    assert standing.current_member_standing(call_open, EXPIRED_MEMBER, now=AUG_10) is None
    assert standing.current_member_standing(call_open, "C999999", now=AUG_10) is None


def test_a_closed_call_says_when_the_next_one_opens(call_open: UnitOfWork) -> None:
    after = datetime(2026, 10, 2, tzinfo=UTC)  # past the close, before the tick fired it
    refused = apply(call_open, now=after)
    assert isinstance(refused, ApplicationRefused) and refused.call_closed
    assert refused.next_call_opens is None
    assert "the next call has not been announced yet" in refused.problems[0].message
    assert site_applications.open_call_year(call_open, now=after) is None
    cycles.create_cycle(call_open, 2027, timezone="America/Chicago", milestones={}, actor="chair")
    refused = apply(call_open, now=after)
    assert isinstance(refused, ApplicationRefused)
    assert refused.next_call_opens == datetime(2027, 8, 1, 5, tzinfo=UTC)
    assert refused.problems == [
        FieldProblem(
            "",
            "The call for applications is closed; the next call opens "
            "Sun Aug 1, 2027, 12:00 AM Chicago time.",
        )
    ]
    assert count(call_open, ApplicationRow) == 0


def test_the_forms_choices_are_the_intakes_values() -> None:
    choices = site_applications.application_choices()
    assert [c.value for c in choices.roles] == ["mentor", "mentee", "both"]
    assert ("early", "early (0–5 years)") in [(c.value, c.label) for c in choices.career_stages]
    assert len(choices.areas) == 7 and "Access & Equity" in [c.value for c in choices.areas]
    assert choices.time_zones[0].startswith("America/") and "Europe/Paris" in choices.time_zones
    assert "America" not in choices.time_zones


# --- where I stand, my data -----------------------------------------------------------------

MENTEE, MENTOR = "C100159", "C100156"  # paired in the sample's approved set
NOV_10 = datetime(2026, 11, 10, 12, tzinfo=UTC)
NOV_20 = datetime(2026, 11, 20, 12, tzinfo=UTC)
DEC_1 = datetime(2026, 12, 1, 12, tzinfo=UTC)


def test_partners_are_shown_only_once_pairings_are_announced(uow: UnitOfWork) -> None:
    cycle_with_applications(uow)
    pairings.propose(uow, YEAR, actor="chair", now=OCT_1)
    pairings.approve(uow, YEAR, actor="chair", now=OCT_1)
    before = standing.where_i_stand(uow, MENTEE, now=OCT_1 + timedelta(days=1))
    assert before.application is not None and before.application.state == "received"
    assert before.partners == () and before.orientation is None
    assert before.cycle is not None and before.cycle.state == "applications_closed"
    assert not before.can_apply and before.can_withdraw
    assert standing.orientation_ics(uow, YEAR, MENTEE) is None

    cycles.fire_event(
        uow, YEAR, CycleEvent.announce_pairings, actor="s", trigger=Trigger.schedule, now=NOV_5
    )
    after = standing.where_i_stand(uow, MENTEE, now=NOV_10)
    assert after.application is not None and after.application.state == "paired"
    assert after.application.source == "import"
    assert [(p.role, p.name, p.email) for p in after.partners] == [
        ("mentor", "Uma Usman", "uma.usman.156@example.org")
    ]
    assert after.partners[0].explanation
    assert after.orientation is not None and after.orientation.starts_at.tzinfo is UTC
    assert after.time_zone == after.application.time_zone
    passed = {m.words: m.passed for m in after.milestones}
    assert passed["Pairings announced"] and not passed["Formal mentoring begins"]
    assert after.open_tasks == ()
    ics = standing.orientation_ics(uow, YEAR, MENTEE)
    assert ics is not None and b"BEGIN:VCALENDAR" in ics
    mentor = standing.where_i_stand(uow, MENTOR, now=NOV_10)
    assert len(mentor.partners) == 3 and {p.role for p in mentor.partners} == {"mentee"}
    for event, at in ((CycleEvent.start_orientation, NOV_20), (CycleEvent.start_mentoring, DEC_1)):
        cycles.fire_event(uow, YEAR, event, actor="s", trigger=Trigger.schedule, now=at)
    active = standing.where_i_stand(uow, MENTEE, now=DEC_1)
    assert active.open_tasks[0].title == "First meeting of Uma Usman and Dmitri Xu"
    assert all(t.due_at.tzinfo is UTC for t in active.open_tasks)
    assert active.orientation is not None and active.cycle is not None
    assert active.cycle.state_words == "mentoring under way"
    nobody = standing.where_i_stand(uow, "C100011", now=NOV_10)
    assert nobody.application is None and nobody.partners == ()
    assert standing.orientation_ics(uow, YEAR, "C100011") is None


def test_a_members_data_holds_nothing_about_anyone_else(uow: UnitOfWork) -> None:
    cycle_with_applications(uow)
    pairings.propose(uow, YEAR, actor="chair", now=OCT_1)
    pairings.approve(uow, YEAR, actor="chair", now=OCT_1)
    cycles.fire_event(
        uow, YEAR, CycleEvent.announce_pairings, actor="s", trigger=Trigger.schedule, now=NOV_5
    )
    for event, at in ((CycleEvent.start_orientation, NOV_20), (CycleEvent.start_mentoring, DEC_1)):
        cycles.fire_event(uow, YEAR, event, actor="s", trigger=Trigger.schedule, now=at)
    request_sign_in(uow, email_of(uow, MENTEE), portal_url=PORTAL, now=DEC_1)
    data = member_data.member_data(uow, MENTEE)
    document = data.as_json()
    parsed = json.loads(document)
    assert parsed["member"]["member_id"] == MENTEE
    assert [a["cycle_year"] for a in parsed["applications"]] == [YEAR]
    assert [(p["role"], p["partner_name"]) for p in parsed["pairs"]] == [("mentee", "Uma Usman")]
    assert {m["kind"] for m in parsed["messages"]} >= {"pairing_notice", "sign_in_link"}
    assert all("body" not in key for m in parsed["messages"] for key in m)
    assert parsed["sign_in_links"] and "token" not in document
    assert "First meeting of Uma Usman and Dmitri Xu" in [t["title"] for t in parsed["tasks"]]
    with uow:
        roster = uow.members.by_id()
    for other in roster.values():
        if other.member_id != MENTEE:
            assert other.member_id not in document, other.member_id
            assert other.email not in document, other.email
    with pytest.raises(standing.NotOnRoster):
        member_data.member_data(uow, "C999999")


# --- links in the mail ----------------------------------------------------------------------


def test_the_call_links_to_the_site_unless_the_committee_keeps_an_outside_form(
    uow: UnitOfWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MENTORING_PORTAL_URL", PORTAL + "/")
    members.import_roster(uow, DATA / "roster.csv", actor="chair", now=AUG_2)
    for year, outside in ((YEAR, None), (2027, "https://forms.example.org/core")):
        cycles.create_cycle(uow, year, timezone="America/Chicago", milestones={}, actor="chair")
        if outside:
            program.set_details(uow, year, {"apply_url": outside}, actor="chair", now=AUG_2)
        cycles.fire_event(
            uow,
            year,
            CycleEvent.open_call,
            actor="chair",
            trigger=Trigger.manual,
            reason="test",
            now=AUG_2,
        )
    with uow:
        calls = {
            m.cycle_year: m.text_body
            for m in uow.session.scalars(
                select(MessageRow).where(MessageRow.kind == "call_for_applications")
            )
        }
    assert f"Apply here: {PORTAL}/apply" in calls[YEAR]
    assert "Apply here: https://forms.example.org/core" in calls[2027]


def test_the_pairing_notice_links_to_the_members_page(
    uow: UnitOfWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MENTORING_PORTAL_URL", PORTAL)
    cycle_with_applications(uow)
    pairings.propose(uow, YEAR, actor="chair", now=OCT_1)
    pairings.approve(uow, YEAR, actor="chair", now=OCT_1)
    cycles.fire_event(
        uow, YEAR, CycleEvent.announce_pairings, actor="s", trigger=Trigger.schedule, now=NOV_5
    )
    with uow:
        notices = list(
            uow.session.scalars(select(MessageRow).where(MessageRow.kind == "pairing_notice"))
        )
    assert notices and all(f"{PORTAL}/me" in n.text_body for n in notices)


# --- the schema -----------------------------------------------------------------------------


def test_applications_sealed_before_0007_still_verify_after_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    db.upgrade(url)
    uow = cycle_with_applications(UnitOfWork(db.session_factory(url)))
    config = Config()
    config.set_main_option("script_location", str(db.MIGRATIONS))
    with db.engine_for(url).begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0006")
    db.engine_for(url).dispose()
    db.upgrade(url)
    assert db.current_revision(url) != "0006"
    with db.engine_for(url).connect() as connection:
        sources = connection.execute(text("SELECT DISTINCT source FROM applications")).all()
    assert sources == [("import",)]
    assert audit.verify(uow).problems == []


def test_applications_posted_at_once_are_all_kept_once(
    call_open: UnitOfWork, database_url: str
) -> None:
    factory = db.session_factory(database_url)
    with call_open:
        current = sorted(
            m.member_id
            for m in call_open.members.by_id().values()
            if m.is_core_member(AUG_10.date())
        )[:8]
    posts = [*current, MEMBER, MEMBER, MEMBER]

    def post(member_id: str) -> ApplicationSaved | ApplicationRefused:
        return site_applications.apply_on_site(
            UnitOfWork(factory), YEAR, member_id, FORM, now=AUG_10
        )

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(post, posts))
    assert all(isinstance(r, ApplicationSaved) for r in results)
    with call_open:
        stored = sorted(call_open.session.scalars(select(ApplicationRow.member_id)))
        received = call_open.session.scalar(
            select(func.count()).where(MessageRow.kind == "application_received")
        )
    assert stored == sorted(set(posts)) and received == len(set(posts))
    assert audit.verify(call_open).problems == []
