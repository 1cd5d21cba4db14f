from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from domain.applications import (
    Application,
    Area,
    CareerStage,
    Eligibility,
    InvalidApplication,
    LibraryType,
    Role,
    check_eligibility,
    parse_application_row,
)
from domain.members import Member

CHICAGO = ZoneInfo("America/Chicago")
ROW = {
    "submitted_at": "2026-08-03T17:41",
    "member_id": "C100160",
    "email": "kai.xu.160@example.org",
    "role": "mentor",
    "areas": "Leadership & Management;Access & Equity;Preservation",
    "career_stage": "senior",
    "institution": "Federal Reserve Research Library",
    "library_type": "special",
    "time_zone": "Europe/London",
    "goals": "share experience in technical services leadership",
    "max_mentees": "2",
}
MEMBER = Member(
    "C100160", "Kai", "Xu", "Kai.Xu.160@example.org", "Federal Reserve", date(2028, 1, 1)
)
OPENS = datetime(2026, 8, 1, tzinfo=CHICAGO)
CLOSES = datetime(2026, 9, 30, 23, 59, 59, tzinfo=CHICAGO)
ENDS = date(2027, 6, 30)


def parse(**changes: str) -> Application:
    return parse_application_row({**ROW, **changes}, default_tz="America/Chicago")


def refusal(**changes: str) -> InvalidApplication:
    with pytest.raises(InvalidApplication) as refused:
        parse(**changes)
    return refused.value


def test_reads_a_canonical_row() -> None:
    app = parse()
    assert app.submitted_at == datetime(2026, 8, 3, 17, 41, tzinfo=CHICAGO)
    assert app.role is Role.MENTOR
    assert app.areas == {Area.LEADERSHIP_MANAGEMENT, Area.ACCESS_EQUITY, Area.PRESERVATION}
    assert app.career_stage is CareerStage.SENIOR
    assert app.library_type is LibraryType.SPECIAL
    assert app.time_zone == "Europe/London"
    assert app.max_mentees == 2
    assert app.is_mentor and not app.is_mentee


def test_enum_values_are_the_spec_strings() -> None:
    assert [r.value for r in Role] == ["mentor", "mentee", "both"]
    assert [a.value for a in Area] == [
        "Access & Equity",
        "Assessment",
        "Buildings & Operations",
        "Leadership & Management",
        "Metadata & Collections",
        "Preservation",
        "Technology",
    ]
    assert [s.value for s in CareerStage] == ["student", "early", "mid", "senior"]
    assert {t.value for t in LibraryType} == {
        "academic",
        "public",
        "school",
        "special",
        "consortium",
        "vendor",
        "other",
    }


def test_career_stages_are_ordered_from_student_to_senior() -> None:
    assert CareerStage.STUDENT < CareerStage.EARLY < CareerStage.MID < CareerStage.SENIOR
    assert CareerStage.SENIOR >= CareerStage.MID
    assert max(CareerStage.EARLY, CareerStage.STUDENT) is CareerStage.EARLY


def test_both_is_a_mentor_and_a_mentee() -> None:
    app = parse(role="both")
    assert app.is_mentor and app.is_mentee


def test_a_mentee_takes_no_mentees() -> None:
    app = parse(role="mentee", max_mentees="")
    assert app.max_mentees is None
    assert app.is_mentee and not app.is_mentor


def test_naive_timestamps_are_read_in_the_default_time_zone() -> None:
    submitted = parse(submitted_at="2026-08-03T17:41:00").submitted_at
    assert submitted == datetime(2026, 8, 3, 22, 41, tzinfo=UTC)
    assert submitted.tzinfo == CHICAGO


def test_aware_timestamps_keep_their_offset() -> None:
    app = parse(submitted_at="2026-08-03T17:41:00+00:00")
    assert app.submitted_at == datetime(2026, 8, 3, 17, 41, tzinfo=UTC)


def test_values_are_read_without_case_or_surrounding_spaces() -> None:
    app = parse(role=" Mentor ", career_stage="SENIOR", areas=" technology ; assessment ")
    assert app.role is Role.MENTOR
    assert app.career_stage is CareerStage.SENIOR
    assert app.areas == {Area.TECHNOLOGY, Area.ASSESSMENT}


@pytest.mark.parametrize(
    ("changes", "field_name", "words"),
    [
        ({"role": "mentr"}, "role", ["'mentr'", "mentor, mentee or both"]),
        ({"areas": "Technology;Robotics"}, "areas", ["'Robotics'", "Access & Equity"]),
        ({"areas": " ; "}, "areas", ["areas is empty", "Technology"]),
        ({"career_stage": "junior"}, "career_stage", ["'junior'", "student, early, mid or senior"]),
        ({"library_type": "museum"}, "library_type", ["'museum'", "academic", "other"]),
        ({"time_zone": "Mars/Olympus"}, "time_zone", ["'Mars/Olympus'", "IANA"]),
        ({"time_zone": "../etc"}, "time_zone", ["'../etc'", "IANA"]),
        ({"max_mentees": "7"}, "max_mentees", ["'7'", "1 to 5"]),
        ({"max_mentees": "0"}, "max_mentees", ["'0'", "1 to 5"]),
        ({"max_mentees": "two"}, "max_mentees", ["'two'", "1 to 5"]),
        ({"max_mentees": ""}, "max_mentees", ["empty", "mentor", "1 to 5"]),
        ({"role": "both", "max_mentees": ""}, "max_mentees", ["empty", "both"]),
        ({"role": "mentee", "max_mentees": "2"}, "max_mentees", ["'2'", "empty for a mentee"]),
        ({"submitted_at": "8/3/2026 17:41"}, "submitted_at", ["'8/3/2026 17:41'", "ISO 8601"]),
        ({"email": "kai.xu"}, "email", ["'kai.xu'", "not an email address"]),
        ({"email": "Kai <kai.xu.160@example.org>"}, "email", ["not an email address"]),
        ({"email": "kai@example.org\nBcc: x@example.org"}, "email", ["not an email address"]),
        ({"time_zone": "America"}, "time_zone", ["'America'", "IANA"]),
        ({"time_zone": "localtime"}, "time_zone", ["'localtime'", "IANA"]),
        ({"member_id": "C100\n160"}, "member_id", ["line break", "single line"]),
        ({"member_id": "C1\x0000160"}, "member_id", ["NUL", "single line"]),
        ({"member_id": "C" * 65}, "member_id", ["65 characters", "keep it to 64"]),
        ({"institution": "Federal\nReserve"}, "institution", ["line break", "U+000A"]),
        ({"institution": "F" * 301}, "institution", ["301 characters", "keep it to 300"]),
        ({"goals": "lead\x00ership"}, "goals", ["NUL", "U+0000"]),
        ({"goals": "lead\x1bership"}, "goals", ["U+001B"]),
        ({"goals": "g" * 10_000}, "goals", ["10,000 characters", "keep it to 4,000"]),
        ({"member_id": "  "}, "member_id", ["member_id is empty"]),
        ({"institution": ""}, "institution", ["institution is empty"]),
    ],
)
def test_each_bad_field_is_refused_naming_field_value_and_what_is_allowed(
    changes: dict[str, str], field_name: str, words: list[str]
) -> None:
    refused = refusal(**changes)
    assert refused.field_name == field_name
    assert refused.reason.startswith(field_name)
    for word in words:
        assert word in refused.reason
    assert "\n" not in refused.reason


def test_a_missing_column_is_refused_like_an_empty_value() -> None:
    row = {k: v for k, v in ROW.items() if k != "career_stage"}
    with pytest.raises(InvalidApplication, match="career_stage is empty"):
        parse_application_row(row, default_tz="America/Chicago")


def test_application_refuses_a_naive_timestamp_when_built_directly() -> None:
    with pytest.raises(InvalidApplication, match="time zone"):
        Application(**{**parse().__dict__, "submitted_at": datetime(2026, 8, 3)})


def eligibility(
    app: Application, member: Member | None = MEMBER, *, allow_late: bool = False
) -> Eligibility:
    return check_eligibility(
        app, member, call_opens=OPENS, call_closes=CLOSES, program_ends=ENDS, allow_late=allow_late
    )


def reason_of(result: Eligibility) -> str:
    assert not result.ok
    assert result.reason is not None
    return result.reason


def test_a_current_member_applying_during_the_call_is_eligible() -> None:
    result = eligibility(parse())
    assert result.ok
    assert result.reason is None
    assert result.warnings == ()


def test_an_unknown_member_id_is_refused() -> None:
    result = eligibility(parse(), None)
    assert not result.ok
    assert result.reason == "member id C100160 is not on the Core roster"


def test_an_expired_membership_is_refused() -> None:
    expired = Member("C100160", "Kai", "Xu", "kai.xu.160@example.org", "", date(2026, 7, 31))
    result = eligibility(parse(), expired)
    assert not result.ok
    assert "not a current Core member" in reason_of(result)
    assert "2026-07-31" in reason_of(result)


def test_membership_expiring_on_the_day_of_applying_still_counts() -> None:
    member = Member("C100160", "Kai", "Xu", "kai.xu.160@example.org", "", date(2026, 8, 3))
    assert eligibility(parse(), member).ok


def test_email_is_compared_without_case() -> None:
    assert eligibility(parse(email="KAI.XU.160@EXAMPLE.ORG")).ok


def test_an_email_that_does_not_match_the_roster_is_refused() -> None:
    result = eligibility(parse(email="someone.else@example.org"))
    assert not result.ok
    assert "does not match the roster email" in reason_of(result)


def test_applying_before_the_call_opened_is_refused() -> None:
    result = eligibility(parse(submitted_at="2026-07-31T23:59"))
    assert not result.ok
    assert "before the call opened" in reason_of(result)


def test_a_late_application_is_refused_unless_allowed() -> None:
    late = parse(submitted_at="2026-10-01T00:00:01")
    refused = eligibility(late)
    assert not refused.ok
    assert "after the call closed" in reason_of(refused)
    accepted = eligibility(late, allow_late=True)
    assert accepted.ok
    assert any("late" in warning for warning in accepted.warnings)


def test_membership_ending_before_the_program_is_a_warning_not_a_refusal() -> None:
    member = Member("C100160", "Kai", "Xu", "kai.xu.160@example.org", "", date(2027, 3, 1))
    result = eligibility(parse(), member)
    assert result.ok
    assert result.warnings == ("membership expires 2027-03-01, before the program ends 2027-06-30",)


def test_every_refusal_is_reported_at_once() -> None:
    stranger = Member("C100160", "Kai", "Xu", "other@example.org", "", date(2025, 1, 1))
    result = eligibility(parse(submitted_at="2026-10-05T10:00"), stranger)
    assert not result.ok
    for refusal_text in ("does not match", "not a current Core member", "after the call closed"):
        assert refusal_text in reason_of(result)


def test_goals_may_span_lines_and_are_kept_on_one() -> None:
    app = parse(goals="Learn cataloguing.\r\n\tMeet monthly.\u2028Ask questions.")
    assert app.goals == "Learn cataloguing. Meet monthly. Ask questions."


def test_goals_up_to_the_bound_are_accepted() -> None:
    assert len(parse(goals="g" * 4000).goals) == 4000
