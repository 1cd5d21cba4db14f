"""Core members as the roster lists them: who may apply, and until when they are members."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from domain.errors import DomainError
from domain.values import (
    INSTITUTION_MAX,
    NAME_MAX,
    InvalidValue,
    email_address,
    single_line,
    valid_member_id,
)

ROSTER_FIELDS: tuple[str, ...] = (
    "member_id",
    "first_name",
    "last_name",
    "email",
    "institution",
    "membership_expires",
)


class InvalidMember(DomainError):
    """A roster row that cannot be read as a Core member; ``reason`` says which field and why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Member:
    """One row of the Core membership roster."""

    member_id: str
    first_name: str
    last_name: str
    email: str
    institution: str
    membership_expires: date

    def is_core_member(self, on: date) -> bool:
        """A membership counts through its expiry date, and not a day after."""
        return on <= self.membership_expires

    @property
    def full_name(self) -> str:
        """The name to greet the member with (either part may be missing for mononyms)."""
        return " ".join(part for part in (self.first_name, self.last_name) if part)


def parse_roster_row(row: Mapping[str, str]) -> Member:
    """Read one roster row, refusing it with a reason naming the field when it is unusable.

    Names, ids and the address go into mail headers and fixed-size columns: each is one
    line of text within its column's size, and the email a real address.
    """
    values = {name: (row.get(name) or "").strip() for name in ROSTER_FIELDS}
    for required in ("member_id", "email", "membership_expires"):
        if not values[required]:
            raise InvalidMember(f"{required} is empty; every roster row needs one")
    if not (values["first_name"] or values["last_name"]):
        raise InvalidMember("first_name and last_name are both empty; give at least one")
    try:
        valid_member_id(values["member_id"])
        single_line(values["first_name"], "first_name", NAME_MAX)
        single_line(values["last_name"], "last_name", NAME_MAX)
        email_address(values["email"], "email")
        single_line(values["institution"], "institution", INSTITUTION_MAX)
    except InvalidValue as refused:
        raise InvalidMember(refused.reason) from None
    try:
        expires = date.fromisoformat(values["membership_expires"])
    except ValueError:
        raise InvalidMember(
            f"membership_expires {values['membership_expires']!r} is not an ISO date "
            "(such as 2027-06-30)"
        ) from None
    return Member(
        member_id=values["member_id"],
        first_name=values["first_name"],
        last_name=values["last_name"],
        email=values["email"],
        institution=values["institution"],
        membership_expires=expires,
    )
