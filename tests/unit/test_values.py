"""Boundary checks: what may reach a mail header, an ICS property, a file name or a column."""

import pytest

from domain.errors import DomainError, MissingValue
from domain.program import ProgramDetails
from domain.values import (
    ACTOR_MAX,
    COMMENTS_MAX,
    EMAIL_MAX,
    GOALS_MAX,
    INSTITUTION_MAX,
    MEMBER_ID_MAX,
    NAME_MAX,
    REASON_MAX,
    TIME_ZONE_MAX,
    WEB_LINK_MAX,
    InvalidValue,
    actor_name,
    cycle_year,
    email_address,
    free_text,
    reason_text,
    single_line,
    time_zone_name,
    valid_member_id,
    web_link,
)

LONG = "x" * 10_000


def refusal(check: object, *args: object) -> InvalidValue:
    assert callable(check)
    with pytest.raises(InvalidValue) as refused:
        check(*args)
    assert isinstance(refused.value, DomainError)
    assert "\n" not in refused.value.reason and "\x00" not in refused.value.reason
    assert len(refused.value.reason) < 300, "a refusal stays one readable sentence"
    return refused.value


def test_bounds_match_the_columns_they_guard() -> None:
    assert (MEMBER_ID_MAX, NAME_MAX, EMAIL_MAX, INSTITUTION_MAX) == (64, 200, 320, 300)
    assert (TIME_ZONE_MAX, ACTOR_MAX, WEB_LINK_MAX) == (64, 200, 2000)
    assert (GOALS_MAX, COMMENTS_MAX, REASON_MAX) == (4000, 4000, 2000)


@pytest.mark.parametrize(
    "value", ["Luis", "Zoë Ångström-O'Brien", "=cmd|' /C calc'!A0", "+1", "@SUM(1)", "李"]
)
def test_a_single_line_keeps_any_printable_text(value: str) -> None:
    assert single_line(value, "first_name", NAME_MAX) == value


def test_a_single_line_loses_only_its_surrounding_spaces() -> None:
    assert single_line("  Luis  ", "first_name", NAME_MAX) == "Luis"
    assert single_line("", "first_name", NAME_MAX) == ""


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("Luis\nBcc: all@example.org", ["line break", "U+000A", "single line"]),
        ("Luis\rNovak", ["line break", "U+000D"]),
        ("Luis\tNovak", ["tab"]),
        ("Lu\x00is", ["NUL", "U+0000"]),
        ("Lu\x7fis", ["control character", "U+007F"]),
        ("Lu\x85is", ["line break", "U+0085"]),
        ("Lu\x9bis", ["control character", "U+009B"]),
        ("Luis\u2028Novak", ["line break", "U+2028"]),
        ("Luis\u2029Novak", ["line break", "U+2029"]),
        ("Lu\udcffis", ["control character", "U+DCFF"]),
    ],
)
def test_a_single_line_refuses_every_control_character(value: str, words: list[str]) -> None:
    refused = refusal(single_line, value, "first_name", NAME_MAX)
    assert refused.field == "first_name"
    assert refused.reason.startswith("first_name ")
    for word in words:
        assert word in refused.reason


def test_a_single_line_refuses_a_value_longer_than_its_column() -> None:
    assert single_line("x" * NAME_MAX, "first_name", NAME_MAX) == "x" * NAME_MAX
    refused = refusal(single_line, LONG, "first_name", NAME_MAX)
    assert refused.reason == "first_name is 10,000 characters long; keep it to 200"


def test_free_text_keeps_line_breaks_and_tabs() -> None:
    text = "Learn cataloguing.\r\nMeet monthly.\n\tAsk\u2028questions."
    assert free_text(f" {text} ", "goals", GOALS_MAX) == text


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("learn\x00more", ["NUL", "U+0000"]),
        ("learn\x1bmore", ["U+001B"]),
        ("learn\x0bmore", ["U+000B"]),
        ("learn\x9fmore", ["U+009F"]),
        ("learn\x7fmore", ["U+007F"]),
    ],
)
def test_free_text_refuses_nul_and_other_control_characters(value: str, words: list[str]) -> None:
    refused = refusal(free_text, value, "comments", COMMENTS_MAX)
    assert refused.field == "comments"
    assert refused.reason.startswith("comments ")
    for word in words:
        assert word in refused.reason


def test_free_text_is_bounded_and_says_the_bound() -> None:
    assert len(free_text("y" * GOALS_MAX, "goals", GOALS_MAX)) == GOALS_MAX
    refused = refusal(free_text, LONG, "goals", GOALS_MAX)
    assert refused.reason == "goals is 10,000 characters long; keep it to 4,000"


@pytest.mark.parametrize(
    "value",
    ["pat@example.org", "luis.novak.1@example.org", "a+list@lists.example.org", "K@EXAMPLE.ORG"],
)
def test_a_plain_address_is_kept_as_given(value: str) -> None:
    assert email_address(f" {value} ", "email") == value


@pytest.mark.parametrize(
    "value",
    [
        "not-an-address",
        "kai.xu",
        "pat@example.org\nBcc: all@example.org",
        "pat\n@example.org",
        "Pat Chair <pat@example.org>",
        '"pat chair"@example.org',
        "two..dots@example.org",
        "josé@example.org",
        "pat@münchen.example",
        "pat@-x.org",
        "pat@localhost",
        "pat@[127.0.0.1]",
        "pat@example.org\x00",
        "@example.org",
        "pat@",
        "a" * 400 + "@example.org",
    ],
)
def test_anything_but_a_bare_ascii_mailbox_is_refused(value: str) -> None:
    refused = refusal(email_address, value, "committee_email")
    assert refused.field == "committee_email"
    assert refused.reason.startswith("committee_email ")


def test_an_address_refusal_names_the_value() -> None:
    refused = refusal(email_address, "kai.xu", "email")
    assert refused.reason.startswith("email 'kai.xu' is not an email address (")


def test_an_empty_address_is_refused() -> None:
    assert refusal(email_address, "  ", "email").reason == "email is empty; give an email address"


@pytest.mark.parametrize(
    "value",
    [
        "https://core.example.org/mentoring/apply",
        "http://127.0.0.1:8050/check-in?year=2026#form",
        "HTTPS://meet.example.org/core-orientation-2026",
        "https://[::1]:8443/x",
    ],
)
def test_absolute_web_links_are_kept(value: str) -> None:
    assert web_link(value, "apply_url") == value


@pytest.mark.parametrize(
    "value",
    [
        "javascript:alert(1)",
        "ftp://x.example.org/file",
        "https://",
        "https:///path",
        "//example.org/path",
        "/mentoring/apply",
        "example.org",
        "mailto:pat@example.org",
        "data:text/html,<script>",
        "https://example.org/a b",
        "https://example.org/\nSet-Cookie: x",
        "https://example.org/\x00",
        "https://[::1/x",
        "https://example.org:port/",
        "https://example.org/" + "p" * WEB_LINK_MAX,
        "",
    ],
)
def test_anything_but_an_absolute_web_link_is_refused(value: str) -> None:
    refused = refusal(web_link, value, "survey_url")
    assert refused.field == "survey_url"
    assert refused.reason.startswith("survey_url ")


@pytest.mark.parametrize("value", ["UTC", "America/Chicago", "Europe/London", "Etc/GMT+5"])
def test_iana_zone_names_are_accepted(value: str) -> None:
    assert time_zone_name(value, "time_zone") == value


@pytest.mark.parametrize(
    "value",
    ["America", "Mars/Base", "../etc", "america/chicago", "localtime", "", "A" * 100, "UTC\nX"],
)
def test_a_folder_or_unknown_zone_is_refused(value: str) -> None:
    refused = refusal(time_zone_name, value, "time_zone")
    assert refused.field == "time_zone"
    assert "is not an IANA time zone name" in refused.reason


@pytest.mark.parametrize("year", [2000, 2026, 2100])
def test_a_cycle_year_within_the_range_is_accepted(year: int) -> None:
    assert cycle_year(year) == year


@pytest.mark.parametrize("year", [0, 1, 99, 1999, 2101, 99999, -2026, True])
def test_a_cycle_year_out_of_range_is_refused_naming_the_range(year: int) -> None:
    refused = refusal(cycle_year, year)
    assert refused.field == "year"
    assert "2000 to 2100" in refused.reason


def test_an_actor_is_one_bounded_line_and_required() -> None:
    assert actor_name(" Pat Chair ") == "Pat Chair"
    assert refusal(actor_name, "Pat\nChair").field == "actor"
    assert "keep it to 200" in refusal(actor_name, LONG).reason
    with pytest.raises(MissingValue) as missing:
        actor_name("  ")
    assert missing.value.field == "actor"


def test_a_reason_is_bounded_free_text_and_may_be_empty() -> None:
    assert reason_text("funding ended;\nsee minutes") == "funding ended;\nsee minutes"
    assert reason_text("") == ""
    assert refusal(reason_text, "no\x00").field == "reason"
    assert "keep it to 2,000" in refusal(reason_text, LONG).reason


def test_program_details_take_addresses_and_links_as_checked_values() -> None:
    details = ProgramDetails.from_settings(
        {
            "committee_email": " chair@core.example.org ",
            "call_list_address": "core-l@lists.example.org",
            "survey_url": "https://s.example.org/2027",
            "orientation_at": "2026-11-20T14:30",
        }
    )
    assert details.committee_email == "chair@core.example.org"
    assert details.call_list_address == "core-l@lists.example.org"
    assert details.survey_url == "https://s.example.org/2027"
    assert ProgramDetails.from_settings({}) == ProgramDetails()


def test_an_empty_list_address_or_orientation_time_means_not_set() -> None:
    details = ProgramDetails.from_settings({"call_list_address": "", "orientation_at": ""})
    assert (details.call_list_address, details.orientation_at) == (None, None)


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ({"committee_email": "mentoring"}, "committee_email 'mentoring' is not an email address"),
        ({"committee_email": "Core <m@core.example.org>"}, "committee_email 'Core <m@"),
        ({"call_list_address": "list@x.org\nBcc: a@x.org"}, "call_list_address 'list@x.org\\n"),
        ({"apply_url": "javascript:alert(1)"}, "apply_url 'javascript:alert(1)' is not a web link"),
        ({"checkin_url": "ftp://x"}, "checkin_url 'ftp://x' is not a web link"),
        ({"orientation_join_url": "https://"}, "orientation_join_url 'https://' is not a web"),
        ({"survey_url": "https://s.example.org/\r\nX: y"}, "survey_url 'https://s.example.org/\\r"),
        ({"orientation_at": "next tuesday"}, "orientation_at 'next tuesday' is not a date and"),
        (
            {"orientation_at": "2026-11-20T13:00\x00"},
            "orientation_at '2026-11-20T13:00\\x00' contains a NUL",
        ),
        ({"orientation_minutes": "60"}, "orientation_minutes must be between 15 and 480"),
        ({"orientation_minutes": 5}, "orientation_minutes must be between 15 and 480"),
        ({"survey_url": 7}, "survey_url 7 must be text"),
        ({"committee_email": None}, "committee_email None must be text"),
        ({"banner": "x"}, "unknown program setting(s): banner"),
    ],
)
def test_program_details_that_would_break_a_message_are_refused(
    values: dict[str, object], words: str
) -> None:
    with pytest.raises(DomainError) as refused:
        ProgramDetails.from_settings(values)
    assert str(refused.value).startswith(words)
    assert "\n" not in str(refused.value)


def test_a_member_id_is_one_word_because_it_names_messages_and_tasks() -> None:
    from domain.members import InvalidMember, parse_roster_row

    assert valid_member_id(" C100007 ") == "C100007"
    for bad in ("C 1", "C1/2", "C\t1"):
        with pytest.raises(InvalidValue, match="member_id"):
            valid_member_id(bad)
    row = {
        "member_id": "C 1/2",
        "first_name": "Ann",
        "last_name": "Lee",
        "email": "ann@example.org",
        "institution": "X",
        "membership_expires": "2030-01-01",
    }
    with pytest.raises(InvalidMember, match="one word"):
        parse_roster_row(row)


def test_an_orientation_set_with_an_offset_starts_in_the_cycles_named_zone() -> None:
    from zoneinfo import ZoneInfo

    from domain.calendar import CycleCalendar

    calendar = CycleCalendar.default(2026, "America/Chicago")
    details = ProgramDetails.from_settings({"orientation_at": "2026-11-20T13:00-06:00"})
    starts = details.orientation_start(calendar)
    assert starts.tzinfo == ZoneInfo("America/Chicago")
    assert starts.hour == 13


def test_a_submitted_moment_at_the_edge_of_the_calendar_is_refused_on_its_line() -> None:
    from domain.applications import InvalidApplication, parse_application_row
    from domain.assessment import InvalidResponse, parse_response_row

    edge = "9999-12-31T23:59:59-12:00"
    application = {
        "submitted_at": edge,
        "member_id": "C100079",
        "email": "quinn@example.org",
        "role": "mentor",
        "areas": "Preservation",
        "career_stage": "early",
        "institution": "Prairie State University Library",
        "library_type": "academic",
        "time_zone": "America/Chicago",
        "goals": "facilities planning",
        "max_mentees": "1",
    }
    with pytest.raises(InvalidApplication, match=r"submitted_at .* is not a date the program"):
        parse_application_row(application, default_tz="America/Chicago")
    response = {
        "submitted_at": "0001-01-01T00:00+01:00",
        "member_id": "C100016",
        "role": "mentee",
        "overall": "4",
        "goals_met": "3",
        "would_recommend": "yes",
        "will_continue": "yes",
        "comments": "",
    }
    with pytest.raises(InvalidResponse, match=r"submitted_at .* is not a date the program"):
        parse_response_row(response, default_tz="America/Chicago")
