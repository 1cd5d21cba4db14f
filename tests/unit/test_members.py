from datetime import date

import pytest

from domain.errors import DomainError
from domain.members import InvalidMember, Member, parse_roster_row

ROW = {
    "member_id": "C100001",
    "first_name": "Luis",
    "last_name": "Novak",
    "email": "luis.novak.1@example.org",
    "institution": "Desert Valley Public Library",
    "membership_expires": "2028-03-16",
}


def test_reads_a_roster_row() -> None:
    member = parse_roster_row(ROW)
    assert member == Member(
        "C100001",
        "Luis",
        "Novak",
        "luis.novak.1@example.org",
        "Desert Valley Public Library",
        date(2028, 3, 16),
    )
    assert member.full_name == "Luis Novak"


def test_surrounding_spaces_are_ignored() -> None:
    member = parse_roster_row({**ROW, "member_id": " C100001 ", "email": " a@example.org "})
    assert member.member_id == "C100001"
    assert member.email == "a@example.org"


def test_membership_counts_through_its_expiry_date() -> None:
    member = parse_roster_row(ROW)
    assert member.is_core_member(date(2028, 3, 15))
    assert member.is_core_member(date(2028, 3, 16))
    assert not member.is_core_member(date(2028, 3, 17))


def test_full_name_of_a_mononymous_member_has_no_stray_space() -> None:
    assert parse_roster_row({**ROW, "last_name": ""}).full_name == "Luis"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"member_id": ""}, "member_id is empty"),
        ({"email": ""}, "email is empty"),
        ({"email": "not-an-address"}, "email 'not-an-address' is not an email address"),
        ({"membership_expires": "03/16/2028"}, "membership_expires '03/16/2028' is not an ISO"),
        ({"membership_expires": ""}, "membership_expires is empty"),
        ({"first_name": "", "last_name": ""}, "first_name and last_name are both empty"),
    ],
)
def test_unusable_rows_are_refused_naming_the_field(changes: dict[str, str], expected: str) -> None:
    with pytest.raises(InvalidMember) as refused:
        parse_roster_row({**ROW, **changes})
    assert refused.value.reason.startswith(expected)
    assert isinstance(refused.value, DomainError)


def test_a_missing_column_is_refused_like_an_empty_one() -> None:
    row = {k: v for k, v in ROW.items() if k != "membership_expires"}
    with pytest.raises(InvalidMember, match="membership_expires is empty"):
        parse_roster_row(row)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"first_name": "Luis\nBcc: all@example.org"}, "first_name 'Luis\\nBcc: all@"),
        ({"last_name": "No\x00vak"}, "last_name 'No\\x00vak' contains a NUL character"),
        ({"member_id": "C1\u20280001"}, "member_id 'C1\\u20280001' contains a line break"),
        ({"institution": "Desert\rValley"}, "institution 'Desert\\rValley' contains a line"),
        ({"member_id": "C" * 65}, "member_id is 65 characters long; keep it to 64"),
        ({"first_name": "L" * 10_000}, "first_name is 10,000 characters long; keep it to 200"),
        ({"institution": "I" * 301}, "institution is 301 characters long; keep it to 300"),
        ({"email": "luis@example"}, "email 'luis@example' is not an email address"),
        ({"email": "Luis <luis@example.org>"}, "email 'Luis <luis@example.org>' is not an"),
        ({"email": "luis@example.org\nBcc: x@y.org"}, "email 'luis@example.org\\nBcc: x@"),
    ],
)
def test_values_that_would_break_a_header_or_a_column_are_refused(
    changes: dict[str, str], expected: str
) -> None:
    with pytest.raises(InvalidMember) as refused:
        parse_roster_row({**ROW, **changes})
    assert refused.value.reason.startswith(expected)
    assert "\n" not in refused.value.reason


def test_a_name_that_looks_like_a_spreadsheet_formula_is_still_a_name() -> None:
    member = parse_roster_row({**ROW, "first_name": "=cmd", "last_name": "+Novak"})
    assert member.full_name == "=cmd +Novak"
