"""Every message kind renders, in the committee's words, from exactly its documented keys."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from jinja2 import UndefinedError

from domain.notifications import MessageKind, idempotency_key
from infra import rendering
from infra.rendering import (
    COMMON_KEYS,
    REQUIRED_CONTEXT,
    TEMPLATE_DIR,
    ContextError,
    compose_message,
    environment,
    render_message,
)

K = MessageKind
CHICAGO = ZoneInfo("America/Chicago")
COMMON: dict[str, object] = {
    "recipient_name": "Ana Ruiz",
    "cycle_year": 2026,
    "committee_email": "mentoring@core.example.org",
}
SAMPLES: dict[MessageKind, dict[str, object]] = {
    K.call_for_applications: {
        "apply_url": "https://core.example.org/apply",
        "deadline": dt.date(2026, 9, 30),
        "pairings_announced_on": dt.date(2026, 11, 5),
    },
    K.application_received: {"role": "both", "pairings_announced_on": dt.date(2026, 11, 5)},
    K.application_not_accepted: {"reason": "not_core_member", "deadline": dt.date(2026, 9, 30)},
    K.application_deadline_reminder: {
        "apply_url": "https://core.example.org/apply",
        "deadline": dt.date(2026, 9, 30),
    },
    K.pairing_notice: {
        "role": "mentee",
        "partner_name": "Sam Okafor",
        "partner_email": "sam.okafor@state.example.edu",
        "partner_institution": "State University Libraries",
        "mentoring_starts_on": dt.date(2026, 12, 1),
        "mentoring_ends_on": dt.date(2027, 6, 30),
    },
    K.not_paired_notice: {"role": "mentor", "waitlist_until": dt.date(2027, 1, 15)},
    K.partner_left: {
        "role": "mentee",
        "partner_name": "Jordan Ruiz",
        "cause": "withdrawal",
        "other_pairs": 0,
    },
    K.orientation_invitation: {
        "orientation_at": dt.datetime(2026, 11, 20, 12, 0, tzinfo=CHICAGO),
        "duration_minutes": 90,
        "join_url": "https://meet.example.org/core-orientation",
    },
    K.mentoring_begins: {
        "role": "mentor",
        "partner_name": "Lee Chen",
        "mentoring_ends_on": dt.date(2027, 6, 30),
    },
    K.checkin_reminder: {
        "partner_name": "Lee Chen",
        "period": "January 2027",
        "checkin_url": "https://forms.example.org/checkin",
    },
    K.midpoint_check: {
        "partner_name": "Lee Chen",
        "checkin_url": "https://forms.example.org/midpoint",
        "respond_by": dt.date(2027, 3, 15),
    },
    K.mentoring_ends: {"partner_name": "Lee Chen", "ended_on": dt.date(2027, 6, 30)},
    K.assessment_invitation: {
        "role": "mentee",
        "survey_url": "https://survey.example.org/core-2026",
        "closes_on": dt.date(2027, 7, 31),
    },
    K.assessment_reminder: {
        "survey_url": "https://survey.example.org/core-2026",
        "closes_on": dt.date(2027, 7, 31),
    },
    K.committee_notice: {
        "notice": "tasks_overdue",
        "items": ["Approve the pairing set (due Nov 1)", "Book the orientation call"],
    },
    K.sign_in_link: {
        "sign_in_url": "http://127.0.0.1:8050/sign-in/abc",
        "expires_at": dt.datetime(2026, 8, 10, 7, 35, tzinfo=CHICAGO),
        "expires_minutes": 30,
    },
}


def render(kind: MessageKind, **changes: object) -> tuple[str, str, str]:
    return render_message(kind, {**COMMON, **SAMPLES[kind], **changes})


def test_every_kind_has_a_sample_and_its_three_templates() -> None:
    assert set(SAMPLES) == set(MessageKind) == set(REQUIRED_CONTEXT)
    for kind in MessageKind:
        for suffix in ("subject", "txt", "html"):
            assert (TEMPLATE_DIR / f"{kind.value}.{suffix}.j2").is_file()


@pytest.mark.parametrize("kind", list(MessageKind))
def test_each_kind_renders_from_exactly_its_documented_keys(kind: MessageKind) -> None:
    assert set(SAMPLES[kind]) == REQUIRED_CONTEXT[kind]  # StrictUndefined: nothing else used

    subject, text, html = render(kind)

    assert subject and "\n" not in subject and len(subject) < 120
    assert text.startswith("Dear Ana Ruiz,")
    assert "mentoring@core.example.org" in text
    assert "Core Leadership Development and Mentoring Committee" in text
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    for value in SAMPLES[kind].values():
        if isinstance(value, str) and value.startswith("https://"):
            assert value in text and f'href="{value}"' in html


@pytest.mark.parametrize(
    ("kind", "key"),
    [(kind, key) for kind in MessageKind for key in sorted(REQUIRED_CONTEXT[kind] | COMMON_KEYS)],
)
def test_a_missing_key_is_named(kind: MessageKind, key: str) -> None:
    context = {**COMMON, **SAMPLES[kind]}
    del context[key]
    with pytest.raises(ContextError, match=f"{kind.value} needs context keys: {key}$"):
        render_message(kind, context)


def test_strict_undefined_catches_a_key_the_template_uses_but_nobody_gave() -> None:
    env = environment()
    template = env.get_template("pairing_notice.txt.j2")
    context = {**COMMON, **SAMPLES[K.pairing_notice]}
    del context["partner_email"]
    with pytest.raises(UndefinedError, match="'partner_email' is undefined"):
        template.render(context)


def test_a_value_outside_the_choices_is_refused() -> None:
    with pytest.raises(ContextError, match="role='guest' is not one of mentee, mentor"):
        render(K.pairing_notice, role="guest")
    with pytest.raises(ContextError, match="reason='rude'"):
        render(K.application_not_accepted, reason="rude")


def test_html_is_escaped_and_text_is_not() -> None:
    subject, text, html = render(K.pairing_notice, partner_name="Pat <b>O'Neil</b> & Co")
    assert "Pat <b>O'Neil</b> & Co" in text
    assert "Pat &lt;b&gt;O&#39;Neil&lt;/b&gt; &amp; Co" in html
    assert "<b>O'Neil" not in html
    assert subject.endswith("mentor: Pat <b>O'Neil</b> & Co")


def test_the_pairing_notice_names_the_partner_and_what_each_can_expect() -> None:
    subject, text, html = render(K.pairing_notice)
    assert subject == "Your Core Mentoring Program 2026\u201327 mentor: Sam Okafor"
    for detail in ("Sam Okafor", "sam.okafor@state.example.edu", "State University Libraries"):
        assert detail in text and detail in html
    for expectation in (
        "career planning",
        "job search",
        "shaping their careers",
        "succession planning",
        "entry level",
        "new ideas",
        "professional challenges",
        "sharing their experience",
        "reflect on their own practice",
    ):
        assert expectation in text.replace("\n", " ")
    assert "Tuesday, December 1, 2026" in text and "Wednesday, June 30, 2027" in text
    assert "outside the program" in text.replace("\n", " ")


def test_a_mentor_is_told_about_their_mentee() -> None:
    subject, text, _ = render(K.pairing_notice, role="mentor")
    assert "mentee: Sam Okafor" in subject
    assert "paired as a mentor" in text


def test_the_not_paired_notice_says_what_happens_next() -> None:
    subject, text, _ = render(K.not_paired_notice)
    flat = text.replace("\n", " ")
    assert "waiting list" in subject
    assert "waiting list until Friday, January 15, 2027" in flat
    assert "could not find a mentee" in flat
    assert "apply again" in flat


@pytest.mark.parametrize(
    ("reason", "words"),
    [
        ("not_core_member", "open to Core members only"),
        ("late", "Applications closed on Wednesday, September 30, 2026"),
        ("incomplete", "missing information"),
    ],
)
def test_an_application_not_accepted_gives_the_reason(reason: str, words: str) -> None:
    _, text, html = render(K.application_not_accepted, reason=reason, reason_detail="no goals")
    assert words in text.replace("\n", " ")
    assert words in html.replace("\n", " ")
    assert "Details: no goals" in text


def test_the_orientation_invitation_gives_date_time_length_and_link_in_the_zone() -> None:
    subject, text, html = render(K.orientation_invitation)
    assert subject.endswith(": November 20")
    assert "Friday, November 20, 2026, 12:00 PM CST (America/Chicago time)" in text
    assert "90 minutes" in text and "https://meet.example.org/core-orientation" in text
    assert "12:00 PM CST" in html


def test_the_orientation_time_follows_daylight_saving() -> None:
    summer = dt.datetime(2027, 6, 2, 9, 30, tzinfo=CHICAGO)
    _, text, _ = render(K.orientation_invitation, orientation_at=summer)
    assert "Wednesday, June 2, 2027, 9:30 AM CDT" in text


def test_a_naive_orientation_time_is_refused() -> None:
    with pytest.raises(ContextError, match="no time zone"):
        render(K.orientation_invitation, orientation_at=dt.datetime(2026, 11, 20, 12))


def test_mentoring_ends_says_pairs_may_go_on_outside_the_program() -> None:
    _, text, _ = render(K.mentoring_ends)
    flat = text.replace("\n", " ")
    assert "may go on meeting on your own" in flat and "outside the program" in flat
    assert "assess the program" in flat


@pytest.mark.parametrize("kind", [K.assessment_invitation, K.assessment_reminder])
def test_the_assessment_mails_give_the_survey_and_its_closing_date(kind: MessageKind) -> None:
    _, text, html = render(kind)
    assert "https://survey.example.org/core-2026" in text
    assert "Saturday, July 31, 2027" in text.replace("\n", " ")
    assert "Saturday, July 31, 2027" in html


def test_a_participant_who_was_both_is_asked_to_answer_once_per_role() -> None:
    _, text, _ = render(K.assessment_invitation, role="both")
    assert "twice, once for each role" in text


def test_the_call_for_applications_states_the_program_rules() -> None:
    _, text, _ = render(K.call_for_applications)
    flat = text.replace("\n", " ")
    assert "open to Core members only" in flat
    assert "as a mentor, as a mentee, or as both" in flat
    assert "six months of formal mentoring, from December to June" in flat
    assert "mentors and mentees assess the program" in flat


def test_a_committee_notice_lists_its_items() -> None:
    subject, text, html = render(K.committee_notice, action_url="https://x.example.org/tasks")
    assert subject == "[Core Mentoring 2026\u201327] Overdue tasks (2)"
    assert "  - Approve the pairing set (due Nov 1)" in text
    assert "<li>Book the orientation call</li>" in html
    assert "https://x.example.org/tasks" in text


def test_compose_message_keys_and_renders() -> None:
    msg = compose_message(
        K.checkin_reminder,
        cycle_year=2026,
        recipient="C100079",
        to_address="ana@example.org",
        to_name="Ana Ruiz",
        discriminator="2027-01",
        context={"committee_email": "mentoring@core.example.org", **SAMPLES[K.checkin_reminder]},
    )
    assert msg.key == idempotency_key(2026, K.checkin_reminder, "C100079", "2027-01")
    assert msg.key == "2026/checkin_reminder/C100079/2027-01"
    assert msg.subject == "January 2027 check-in: Core Mentoring Program 2026\u201327"
    assert msg.text_body.startswith("Dear Ana Ruiz,")
    assert msg.kind is K.checkin_reminder and msg.cycle_year == 2026


def test_templates_are_found_relative_to_the_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert render(K.mentoring_ends)[0].startswith("Formal mentoring has ended")


def test_the_partner_left_note_says_who_left_and_what_happens_next() -> None:
    subject, text, _ = render(K.partner_left)
    assert "looking for a new mentor" in subject
    assert "Jordan Ruiz, your mentor" in text and "has withdrawn" in text
    _, ended, _ = render(K.partner_left, role="mentor", cause="ended", other_pairs=2)
    assert "ended your pairing with Jordan Ruiz" in ended
    assert "Your other pairings in the program continue as before" in ended


def test_the_sign_in_link_names_its_link_and_when_it_stops_working() -> None:
    subject, text, html = render(K.sign_in_link)
    assert subject == "Your sign-in link: Core Mentoring Program"
    for body in (text, html):
        assert "http://127.0.0.1:8050/sign-in/abc" in body
        assert "30 minutes" in body and "7:35 AM CDT" in body


def test_the_pairing_notice_links_to_the_members_page_when_given() -> None:
    _, text, html = render(K.pairing_notice, standing_url="http://127.0.0.1:8050/me")
    assert "http://127.0.0.1:8050/me" in text and 'href="http://127.0.0.1:8050/me"' in html
    _, text, _ = render(K.pairing_notice)
    assert "/me" not in text


@pytest.mark.parametrize("kind", list(MessageKind))
def test_a_repeated_shape_is_filled_in_exactly_as_it_renders_in_full(kind: MessageKind) -> None:
    """Messages of one shape come from its skeleton after the second (infra/mail_skeletons):
    each must be the very text its templates give, awkward names included."""
    names = ["Ana Ruiz", "Pat <b>O'Neil</b> & Co", 'Zoë "名前" {{ x }} %s', "", "Ana Ruiz"]
    skeletons = rendering.skeletons(kind)
    for name in names:
        context = {**COMMON, **SAMPLES[kind], "recipient_name": name}
        subject, text, html = rendering._render_in_full(kind, context)
        assert render_message(kind, context) == (" ".join(subject.split()), text, html)
    if kind in (K.pairing_notice, K.checkin_reminder, K.call_for_applications):
        assert "recipient_name" in skeletons.plain
        assert any(not isinstance(seen, bool) for seen in skeletons.seen.values()), "a skeleton"
