"""The Core membership roster."""

from dataclasses import asdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.members import ROSTER_FIELDS, Member
from infra.seal_book import BY_NAME, SealBook
from infra.tables import MemberRow

MEMBERS = BY_NAME["members"]
_ID = MEMBERS.columns.index("member_id")
_FIELDS = tuple(MEMBERS.columns.index(name) for name in ROSTER_FIELDS)


def member_of(row: MemberRow) -> Member:
    return Member(
        row.member_id,
        row.first_name,
        row.last_name,
        row.email,
        row.institution,
        row.membership_expires,
    )


class MemberRepository:
    """Members by id; a roster import adds new members and updates changed ones."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def by_id(self) -> dict[str, Member]:
        """The roster; refused (:class:`infra.seal_book.SealBroken`) if a member's row was
        changed outside the program, so mail never follows an address edited by hand.

        Read as plain columns (no ORM objects), each row checked from the very values
        read, once per session."""
        rows = self.session.execute(select(*MEMBERS.sealed_columns())).all()
        SealBook.of(self.session).check_read(self.session, MEMBERS, (((r[_ID],), r) for r in rows))
        return {r[_ID]: Member(*(r[i] for i in _FIELDS)) for r in rows}

    def get(self, member_id: str) -> Member | None:
        row = self.session.get(MemberRow, member_id)
        if row is not None:
            SealBook.of(self.session).check(self.session, MEMBERS, [(member_id,)])
        return member_of(row) if row else None

    def add(self, member: Member, now: datetime) -> None:
        self.session.add(MemberRow(**asdict(member), updated_at=now))

    def update(self, member: Member, now: datetime) -> None:
        row = self.session.get(MemberRow, member.member_id)
        assert row is not None, f"member {member.member_id} is not stored"
        for name, value in asdict(member).items():
            setattr(row, name, value)
        row.updated_at = now
