"""The relational schema (SQLAlchemy 2.0 typed ORM); Alembic migrations create it.

Column sizes come from the bounds intake checks (:mod:`domain.values`), so whatever the
checks let in fits, and SQLite (which stores any length) and PostgreSQL (which refuses
what does not fit) keep the same rows. Values the program composes from checked ones (a
full name, a subject naming a partner, a message key naming an address) get columns
sized for the largest composition.
"""

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Connection,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Mapper, mapped_column

from domain.errors import DomainError
from domain.values import (
    ACTOR_MAX,
    EMAIL_MAX,
    INSTITUTION_MAX,
    MEMBER_ID_MAX,
    NAME_MAX,
    SUBJECT_MAX,
    TIME_ZONE_MAX,
    shown,
)
from infra.types import UTCDateTime

FULL_NAME_MAX = 2 * NAME_MAX + 1
"""A member's first and last name joined by a space, as mail greets them."""
MESSAGE_SUBJECT_MAX = SUBJECT_MAX + FULL_NAME_MAX
"""A template's words (at most ``SUBJECT_MAX``) and the partner's full name they name."""
KEY_MAX = 512
"""A message key: year, kind, recipient (a member id, or an address of up to
``EMAIL_MAX`` for an applicant refused without one) and a discriminator of up to two
member ids; 4 + 40 + 320 + 2 × 64 and separators stay under it."""
SEAL_KEY_MAX = KEY_MAX + 8
"""A sealed row's key as JSON: the longest is a message key, quoted in brackets."""
DONE_BY_MAX = ACTOR_MAX + 50
"""Who did a task: an actor and a short note such as " (pair dissolved)"."""
ID_RANGE = range(1, 2**31)
"""The ids an ``Integer`` key can hold (PostgreSQL's ``integer``): any other names no row,
and is not sent to a database that would refuse it."""

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class CycleRow(Base):
    """One annual cycle; ``version`` makes concurrent transitions collide, not interleave."""

    __tablename__ = "cycles"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    state: Mapped[str] = mapped_column(String(32))
    timezone: Mapped[str] = mapped_column(String(TIME_ZONE_MAX))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class MilestoneRow(Base):
    """When a cycle's event falls due (stored in UTC, shown in the cycle's zone)."""

    __tablename__ = "milestones"

    cycle_year: Mapped[int] = mapped_column(ForeignKey("cycles.year"), primary_key=True)
    event: Mapped[str] = mapped_column(String(32), primary_key=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PairingSetRow(Base):
    """A proposed or approved set of pairs for a cycle; announcing needs an approved one."""

    __tablename__ = "pairing_sets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_year: Mapped[int] = mapped_column(ForeignKey("cycles.year"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    approved_by: Mapped[str | None] = mapped_column(String(ACTOR_MAX))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditRow(Base):
    """Append-only, hash-chained record of everything that happened (kept for years)."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(32))
    cycle_year: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(ACTOR_MAX))
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_audit_log_cycle_kind", "cycle_year", "kind", "seq"),)


class AuditHeadRow(Base):
    """The last record's sequence and hash: locked to append, checked to catch truncation."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class CycleSettingsRow(Base):
    """The committee's per-cycle choices: matching weights, orientation, survey, lists."""

    __tablename__ = "cycle_settings"

    cycle_year: Mapped[int] = mapped_column(ForeignKey("cycles.year"), primary_key=True)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)


class MemberRow(Base):
    """A Core member as the latest roster import lists them."""

    __tablename__ = "members"

    member_id: Mapped[str] = mapped_column(String(MEMBER_ID_MAX), primary_key=True)
    first_name: Mapped[str] = mapped_column(String(NAME_MAX))
    last_name: Mapped[str] = mapped_column(String(NAME_MAX))
    email: Mapped[str] = mapped_column(String(EMAIL_MAX))
    institution: Mapped[str] = mapped_column(String(INSTITUTION_MAX))
    membership_expires: Mapped[date] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ApplicationRow(Base):
    """A member's application for one cycle; a repeat replaces it, a withdrawal marks it."""

    __tablename__ = "applications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_year: Mapped[int] = mapped_column(ForeignKey("cycles.year"))
    member_id: Mapped[str] = mapped_column(String(MEMBER_ID_MAX))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    email: Mapped[str] = mapped_column(String(EMAIL_MAX))
    role: Mapped[str] = mapped_column(String(16))
    areas: Mapped[str] = mapped_column(Text)
    career_stage: Mapped[str] = mapped_column(String(16))
    institution: Mapped[str] = mapped_column(String(INSTITUTION_MAX))
    library_type: Mapped[str] = mapped_column(String(16))
    time_zone: Mapped[str] = mapped_column(String(TIME_ZONE_MAX))
    goals: Mapped[str] = mapped_column(Text)
    max_mentees: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="active")
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Through what it came (migration 0007): "site" or "import"; not sealed (seal_book).
    source: Mapped[str] = mapped_column(String(8), default="import", server_default="import")

    __table_args__ = (UniqueConstraint("cycle_year", "member_id"),)


class PairRow(Base):
    """One mentor–mentee pair of a pairing set, with why it scored as it did."""

    __tablename__ = "pairs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    set_id: Mapped[int] = mapped_column(ForeignKey("pairing_sets.id"), index=True)
    mentor_id: Mapped[str] = mapped_column(String(MEMBER_ID_MAX))
    mentee_id: Mapped[str] = mapped_column(String(MEMBER_ID_MAX))
    score: Mapped[float] = mapped_column(Float)
    explanation: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="active")
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_reason: Mapped[str | None] = mapped_column(Text)


class UnmatchedRow(Base):
    """An applicant a pairing set left out, and why (the waiting list, in order)."""

    __tablename__ = "unmatched"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    set_id: Mapped[int] = mapped_column(ForeignKey("pairing_sets.id"), index=True)
    member_id: Mapped[str] = mapped_column(String(MEMBER_ID_MAX))
    role: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    position: Mapped[int | None] = mapped_column(Integer)


class PairingRuleRow(Base):
    """A committee edit the solver must respect: a pair fixed or blocked."""

    __tablename__ = "pairing_rules"

    cycle_year: Mapped[int] = mapped_column(ForeignKey("cycles.year"), primary_key=True)
    mentor_id: Mapped[str] = mapped_column(String(MEMBER_ID_MAX), primary_key=True)
    mentee_id: Mapped[str] = mapped_column(String(MEMBER_ID_MAX), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    actor: Mapped[str] = mapped_column(String(ACTOR_MAX))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class MessageRow(Base):
    """The outbox: written with the state change, delivered after commit, once per key."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(KEY_MAX), unique=True)
    cycle_year: Mapped[int] = mapped_column(Integer, index=True)
    kind: Mapped[str] = mapped_column(String(40))
    to_address: Mapped[str] = mapped_column(String(EMAIL_MAX))
    to_name: Mapped[str] = mapped_column(String(FULL_NAME_MAX))
    subject: Mapped[str] = mapped_column(String(MESSAGE_SUBJECT_MAX))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    attachments: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A delivery's lease on a pending message (migration 0005): who holds it, until when.
    claim_token: Mapped[str | None] = mapped_column(String(40))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_messages_status_id", "status", "id"),)


class SealEntryRow(Base):
    """A row's seal: its hash as the program wrote it, under the audit record of that write
    (``row_hash`` NULL: the program deleted it). See ``infra.seal_book``."""

    __tablename__ = "seal_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, index=True)
    facet: Mapped[str] = mapped_column(String(32))
    row_key: Mapped[str] = mapped_column(String(SEAL_KEY_MAX))
    row_hash: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index("ix_seal_entries_row", "facet", "row_key", "id"),)


class TaskRow(Base):
    """A deadline or follow-up for the committee or a participant."""

    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    cycle_year: Mapped[int] = mapped_column(ForeignKey("cycles.year"), index=True)
    audience: Mapped[str] = mapped_column(String(16))
    member_id: Mapped[str | None] = mapped_column(String(MEMBER_ID_MAX))
    title: Mapped[str] = mapped_column(String(300))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by: Mapped[str | None] = mapped_column(String(DONE_BY_MAX))
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    overdue_flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AssessmentResponseRow(Base):
    """One end-of-program survey answer per participant and role (a repeat replaces it)."""

    __tablename__ = "assessment_responses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_year: Mapped[int] = mapped_column(ForeignKey("cycles.year"))
    member_id: Mapped[str] = mapped_column(String(MEMBER_ID_MAX))
    role: Mapped[str] = mapped_column(String(8))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    overall: Mapped[int] = mapped_column(Integer)
    goals_met: Mapped[int] = mapped_column(Integer)
    would_recommend: Mapped[bool] = mapped_column(Boolean)
    will_continue: Mapped[bool] = mapped_column(Boolean)
    comments: Mapped[str] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("cycle_year", "member_id", "role"),)


class RepairingOfferRow(Base):
    """A re-pairing offer for someone a dissolved pair left short; the committee approves it.

    ``member_id``/``role`` name the slot (the mentee without a mentor, or the mentor with a
    free place); ``mentor_id``/``mentee_id`` the offered pair, or NULL with ``reason`` when
    nobody fits. A recomputed offer supersedes the old row rather than changing it, so an
    id the committee read is never approved with a different pair.
    """

    __tablename__ = "repairing_offers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_year: Mapped[int] = mapped_column(ForeignKey("cycles.year"), index=True)
    set_id: Mapped[int] = mapped_column(ForeignKey("pairing_sets.id"))
    member_id: Mapped[str] = mapped_column(String(MEMBER_ID_MAX))
    role: Mapped[str] = mapped_column(String(8))
    cause: Mapped[str] = mapped_column(String(16))
    ended_mentor_id: Mapped[str] = mapped_column(String(MEMBER_ID_MAX))
    ended_mentee_id: Mapped[str] = mapped_column(String(MEMBER_ID_MAX))
    mentor_id: Mapped[str | None] = mapped_column(String(MEMBER_ID_MAX))
    mentee_id: Mapped[str | None] = mapped_column(String(MEMBER_ID_MAX))
    score: Mapped[float | None] = mapped_column(Float)
    explanation: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")
    superseded_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(ACTOR_MAX))


class SignInLinkRow(Base):
    """A mailed one-time sign-in link, kept only as the SHA-256 of its token (ephemeral:
    not sealed); ``used_at`` is set once, by a guarded update."""

    __tablename__ = "sign_in_links"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(MEMBER_ID_MAX), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PairGoalRow(Base):
    """One of a pair's one to three goals (migration 0008); setting them again replaces them."""

    __tablename__ = "pair_goals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_year: Mapped[int] = mapped_column(ForeignKey("cycles.year"))
    pair_id: Mapped[int] = mapped_column(ForeignKey("pairs.id"))
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(String(500))
    set_by: Mapped[str] = mapped_column(String(MEMBER_ID_MAX))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("pair_id", "position"),)


class MeetingRow(Base):
    """A meeting a partner logged (migration 0008); the note is its writer's alone."""

    __tablename__ = "meetings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_year: Mapped[int] = mapped_column(ForeignKey("cycles.year"))
    pair_id: Mapped[int] = mapped_column(ForeignKey("pairs.id"))
    logged_by: Mapped[str] = mapped_column(String(MEMBER_ID_MAX))
    met_on: Mapped[date] = mapped_column(Date)
    minutes: Mapped[int] = mapped_column(Integer)
    mode: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text)
    logged_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_meetings_cycle_pair", "cycle_year", "pair_id", "met_on"),)


class CheckInRow(Base):
    """A partner's monthly check-in (migration 0008); a second answer that month replaces it."""

    __tablename__ = "check_ins"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_year: Mapped[int] = mapped_column(ForeignKey("cycles.year"))
    pair_id: Mapped[int] = mapped_column(ForeignKey("pairs.id"))
    member_id: Mapped[str] = mapped_column(String(MEMBER_ID_MAX))
    month: Mapped[str] = mapped_column(String(7))
    met: Mapped[bool] = mapped_column(Boolean)
    score: Mapped[int] = mapped_column(Integer)
    contact_committee: Mapped[bool] = mapped_column(Boolean)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("pair_id", "member_id", "month"),
        Index("ix_check_ins_cycle_pair", "cycle_year", "pair_id", "month"),
    )


class ContinuingRow(Base):
    """A partner's answer, after the formal end, whether the pair goes on meeting
    (migration 0008); a second answer replaces it."""

    __tablename__ = "continuing_answers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_year: Mapped[int] = mapped_column(ForeignKey("cycles.year"), index=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("pairs.id"))
    member_id: Mapped[str] = mapped_column(String(MEMBER_ID_MAX))
    continuing: Mapped[bool] = mapped_column(Boolean)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("pair_id", "member_id"),)


class ValueDoesNotFit(DomainError):
    """A value longer than its column, or holding a NUL: refused alike on SQLite, which
    would store it, and PostgreSQL, which would raise. Intake checks keep such values
    out; this names the column if one still reaches a row."""


def check_fits(table: Table, values: Mapping[str, object]) -> None:
    """Refuse a row whose text does not fit ``table``'s columns (by column name)."""
    for column in table.columns:
        value = values.get(column.name)
        if not isinstance(value, str):
            continue
        length = getattr(column.type, "length", None)
        if length is not None and len(value) > length:
            raise ValueDoesNotFit(
                f"{table.name}.{column.name} holds at most {length:,} characters, and "
                f"{shown(value)} has {len(value):,}"
            )
        if "\x00" in value:
            raise ValueDoesNotFit(
                f"{table.name}.{column.name} cannot hold {shown(value)}: it contains a NUL"
            )


@event.listens_for(Base, "before_insert", propagate=True)
@event.listens_for(Base, "before_update", propagate=True)
def _check_row(mapper: Mapper[Any], _connection: Connection, row: Base) -> None:
    """Every row the ORM writes is checked against its columns first (the values it
    holds: an attribute not loaded is not being written)."""
    table = mapper.local_table
    assert isinstance(table, Table)
    loaded = vars(row)
    check_fits(table, {c.name: loaded.get(a.key) for a in mapper.column_attrs for c in a.columns})
