"""After pairing: pairs' goals, meetings, check-ins and continuing answers."""

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime, select, type_coerce
from sqlalchemy.orm import Session, aliased

from domain.engagement import (
    AnsweredCheckIn,
    CheckIn,
    LoggedMeeting,
    Meeting,
    MeetingMode,
    NamedPair,
    PairActivity,
)
from domain.pairing_status import PairingSetStatus, PairStatus
from domain.pairs import Pair
from infra.tables import (
    ID_RANGE,
    CheckInRow,
    ContinuingRow,
    MeetingRow,
    MemberRow,
    PairGoalRow,
    PairingSetRow,
    PairRow,
)

_PLAIN_TIME = DateTime(timezone=True)


def _local_day(stored: datetime, tz: ZoneInfo) -> date:
    """The day in ``tz`` of a time read without its column type (SQLite keeps UTC without
    an offset): the column type's own conversion costs more than the read, at scale."""
    aware = stored if stored.tzinfo is not None else stored.replace(tzinfo=UTC)
    return aware.astimezone(tz).date()


def _answered(row: CheckInRow, tz: ZoneInfo) -> AnsweredCheckIn:
    return AnsweredCheckIn(
        row.member_id,
        row.month,
        row.answered_at.astimezone(tz).date(),
        CheckIn(row.met, row.score, row.contact_committee),
    )


def _meeting(row: MeetingRow) -> LoggedMeeting:
    return LoggedMeeting(
        row.id,
        row.pair_id,
        row.logged_by,
        Meeting(row.met_on, row.minutes, MeetingMode(row.mode), row.note),
        row.logged_at,
    )


def _named(
    pair_id: int,
    mentor_id: str,
    mentor_first: str | None,
    mentor_last: str | None,
    mentee_id: str,
    mentee_first: str | None,
    mentee_last: str | None,
) -> NamedPair:
    return NamedPair(
        pair_id,
        mentor_id,
        f"{mentor_first} {mentor_last}" if mentor_first is not None else mentor_id,
        mentee_id,
        f"{mentee_first} {mentee_last}" if mentee_first is not None else mentee_id,
    )


class EngagementRepository:
    """Every read and write of the pairs' own records; the ORM writes them, so each row
    is checked against its seal before it changes and sealed after (``infra.seal_book``)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # --- the pairs ------------------------------------------------------------------------

    def approved_pair(self, year: int, pair_id: int) -> Pair | None:
        """A pair of the cycle's approved set (any status), or None."""
        if pair_id not in ID_RANGE:
            return None
        row = self.session.scalars(
            select(PairRow)
            .join(PairingSetRow, PairingSetRow.id == PairRow.set_id)
            .where(
                PairRow.id == pair_id,
                PairingSetRow.cycle_year == year,
                PairingSetRow.status == PairingSetStatus.approved,
            )
        ).one_or_none()
        if row is None:
            return None
        return Pair(
            row.id,
            row.set_id,
            row.mentor_id,
            row.mentee_id,
            row.score,
            row.explanation,
            PairStatus(row.status),
            row.ended_at,
            row.ended_reason,
        )

    def names(self, member_ids: Iterable[str]) -> dict[str, str]:
        """Full names of these members, as mail greets them (absent: not on the roster)."""
        wanted = sorted(set(member_ids))
        found: dict[str, str] = {}
        for start in range(0, len(wanted), 1000):
            chunk = wanted[start : start + 1000]
            for member_id, first, last in self.session.execute(
                select(MemberRow.member_id, MemberRow.first_name, MemberRow.last_name).where(
                    MemberRow.member_id.in_(chunk)
                )
            ):
                found[member_id] = f"{first} {last}".strip()
        return found

    def named_pairs(self, year: int) -> list[NamedPair]:
        """The approved set's active pairs with both partners' names, in one read of plain
        columns (by mentor, then mentee)."""
        mentor, mentee = aliased(MemberRow), aliased(MemberRow)
        query = (
            select(
                PairRow.id,
                PairRow.mentor_id,
                mentor.first_name,
                mentor.last_name,
                PairRow.mentee_id,
                mentee.first_name,
                mentee.last_name,
            )
            .join(PairingSetRow, PairingSetRow.id == PairRow.set_id)
            .outerjoin(mentor, mentor.member_id == PairRow.mentor_id)
            .outerjoin(mentee, mentee.member_id == PairRow.mentee_id)
            .where(
                PairingSetRow.cycle_year == year,
                PairingSetRow.status == PairingSetStatus.approved,
                PairRow.status == PairStatus.active,
            )
            .order_by(PairRow.mentor_id, PairRow.mentee_id)
        )
        return [_named(*row) for row in self.session.connection().execute(query).all()]

    # --- goals ----------------------------------------------------------------------------

    def goals(self, pair_id: int) -> list[str]:
        return list(
            self.session.scalars(
                select(PairGoalRow.text)
                .where(PairGoalRow.pair_id == pair_id)
                .order_by(PairGoalRow.position)
            )
        )

    def replace_goals(
        self, year: int, pair_id: int, goals: Sequence[str], member_id: str, now: datetime
    ) -> bool:
        """The pair's goals are now ``goals`` (in order); returns whether it had some."""
        rows = {
            r.position: r
            for r in self.session.scalars(select(PairGoalRow).where(PairGoalRow.pair_id == pair_id))
        }
        had = bool(rows)
        for position, text in enumerate(goals, start=1):
            row = rows.pop(position, None)
            if row is None:
                self.session.add(
                    PairGoalRow(
                        cycle_year=year,
                        pair_id=pair_id,
                        position=position,
                        text=text,
                        set_by=member_id,
                        set_at=now,
                    )
                )
            else:
                row.text, row.set_by, row.set_at = text, member_id, now
        for row in rows.values():
            self.session.delete(row)
        self.session.flush()
        return had

    # --- meetings -------------------------------------------------------------------------

    def add_meeting(
        self, year: int, pair_id: int, member_id: str, meeting: Meeting, now: datetime
    ) -> int:
        row = MeetingRow(
            cycle_year=year,
            pair_id=pair_id,
            logged_by=member_id,
            met_on=meeting.met_on,
            minutes=meeting.minutes,
            mode=meeting.mode.value,
            note=meeting.note,
            logged_at=now,
        )
        self.session.add(row)
        self.session.flush()
        return row.id

    def meetings(self, pair_id: int) -> list[LoggedMeeting]:
        """The pair's meetings, latest first."""
        return [
            _meeting(r)
            for r in self.session.scalars(
                select(MeetingRow)
                .where(MeetingRow.pair_id == pair_id)
                .order_by(MeetingRow.met_on.desc(), MeetingRow.id.desc())
            )
        ]

    def meeting_days(self, pair_id: int) -> list[date]:
        return list(
            self.session.scalars(select(MeetingRow.met_on).where(MeetingRow.pair_id == pair_id))
        )

    # --- check-ins ------------------------------------------------------------------------

    def store_check_in(
        self, year: int, pair_id: int, member_id: str, month: str, answer: CheckIn, now: datetime
    ) -> bool:
        """Keep the member's check-in for ``month``; returns whether it replaced one."""
        row = self.session.scalars(
            select(CheckInRow).where(
                CheckInRow.pair_id == pair_id,
                CheckInRow.member_id == member_id,
                CheckInRow.month == month,
            )
        ).one_or_none()
        replaced = row is not None
        if row is None:
            row = CheckInRow(cycle_year=year, pair_id=pair_id, member_id=member_id, month=month)
            self.session.add(row)
        row.met, row.score, row.contact_committee = (
            answer.met,
            answer.score,
            answer.contact_committee,
        )
        row.answered_at = now
        self.session.flush()
        return replaced

    def check_ins(self, pair_id: int, tz: ZoneInfo) -> list[AnsweredCheckIn]:
        """The pair's check-ins, by month then time (days in the cycle's zone ``tz``)."""
        return [
            _answered(r, tz)
            for r in self.session.scalars(
                select(CheckInRow)
                .where(CheckInRow.pair_id == pair_id)
                .order_by(CheckInRow.month, CheckInRow.answered_at)
            )
        ]

    # --- after the formal end -------------------------------------------------------------

    def store_continuing(
        self, year: int, pair_id: int, member_id: str, continuing: bool, now: datetime
    ) -> bool:
        """Keep the member's answer; returns whether it replaced an earlier one."""
        row = self.session.scalars(
            select(ContinuingRow).where(
                ContinuingRow.pair_id == pair_id, ContinuingRow.member_id == member_id
            )
        ).one_or_none()
        replaced = row is not None
        if row is None:
            row = ContinuingRow(cycle_year=year, pair_id=pair_id, member_id=member_id)
            self.session.add(row)
        row.continuing, row.answered_at = continuing, now
        self.session.flush()
        return replaced

    def continuing(self, pair_id: int, member_id: str) -> bool | None:
        return self.session.scalars(
            select(ContinuingRow.continuing).where(
                ContinuingRow.pair_id == pair_id, ContinuingRow.member_id == member_id
            )
        ).one_or_none()

    def continuing_counts(self, year: int) -> tuple[int, int]:
        """(pairs with an answer, pairs where some partner goes on) in cycle ``year``."""
        answered: set[int] = set()
        going_on: set[int] = set()
        for pair_id, continuing in self.session.execute(
            select(ContinuingRow.pair_id, ContinuingRow.continuing).where(
                ContinuingRow.cycle_year == year
            )
        ):
            answered.add(pair_id)
            if continuing:
                going_on.add(pair_id)
        return len(answered), len(going_on)

    # --- the committee's figures ----------------------------------------------------------

    def activity(self, year: int, tz: ZoneInfo) -> PairActivity:
        """Every pair's meeting days and check-ins in cycle ``year`` (days in its zone
        ``tz``), and which pairs have goals: three plain-column reads, whatever the number
        of pairs."""
        connection = self.session.connection()  # plain rows: no ORM bookkeeping per row
        days: dict[int, list[date]] = {}
        for pair_id, met_on in connection.execute(
            select(MeetingRow.pair_id, MeetingRow.met_on).where(MeetingRow.cycle_year == year)
        ).all():
            days.setdefault(pair_id, []).append(met_on)
        check_ins: dict[int, list[AnsweredCheckIn]] = {}
        c = CheckInRow
        for pair_id, member_id, month, met, score, contact, at in connection.execute(
            select(
                c.pair_id,
                c.member_id,
                c.month,
                c.met,
                c.score,
                c.contact_committee,
                type_coerce(c.answered_at, _PLAIN_TIME),  # read as stored: see _local_day
            )
            .where(c.cycle_year == year)
            .order_by(c.month, c.answered_at)
        ).all():
            check_ins.setdefault(pair_id, []).append(
                AnsweredCheckIn(member_id, month, _local_day(at, tz), CheckIn(met, score, contact))
            )
        with_goals = set(
            self.session.scalars(
                select(PairGoalRow.pair_id).where(PairGoalRow.cycle_year == year).distinct()
            )
        )
        return PairActivity(days, check_ins, with_goals)
