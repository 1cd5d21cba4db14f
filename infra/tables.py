"""The relational schema (SQLAlchemy 2.0 typed ORM); Alembic migrations create it."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from infra.types import UTCDateTime

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
    timezone: Mapped[str] = mapped_column(String(64))
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
    approved_by: Mapped[str | None] = mapped_column(String(200))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditRow(Base):
    """Append-only, hash-chained record of everything that happened (kept for years)."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(32))
    cycle_year: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(200))
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

    member_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    first_name: Mapped[str] = mapped_column(String(200))
    last_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    institution: Mapped[str] = mapped_column(String(300))
    membership_expires: Mapped[date] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ApplicationRow(Base):
    """A member's application for one cycle; a repeat replaces it, a withdrawal marks it."""

    __tablename__ = "applications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_year: Mapped[int] = mapped_column(ForeignKey("cycles.year"))
    member_id: Mapped[str] = mapped_column(String(64))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(16))
    areas: Mapped[str] = mapped_column(Text)
    career_stage: Mapped[str] = mapped_column(String(16))
    institution: Mapped[str] = mapped_column(String(300))
    library_type: Mapped[str] = mapped_column(String(16))
    time_zone: Mapped[str] = mapped_column(String(64))
    goals: Mapped[str] = mapped_column(Text)
    max_mentees: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="active")
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("cycle_year", "member_id"),)


class PairRow(Base):
    """One mentor–mentee pair of a pairing set, with why it scored as it did."""

    __tablename__ = "pairs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    set_id: Mapped[int] = mapped_column(ForeignKey("pairing_sets.id"), index=True)
    mentor_id: Mapped[str] = mapped_column(String(64))
    mentee_id: Mapped[str] = mapped_column(String(64))
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
    member_id: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    position: Mapped[int | None] = mapped_column(Integer)


class PairingRuleRow(Base):
    """A committee edit the solver must respect: a pair fixed or blocked."""

    __tablename__ = "pairing_rules"

    cycle_year: Mapped[int] = mapped_column(ForeignKey("cycles.year"), primary_key=True)
    mentor_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    mentee_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class MessageRow(Base):
    """The outbox: written with the state change, delivered after commit, once per key."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    cycle_year: Mapped[int] = mapped_column(Integer, index=True)
    kind: Mapped[str] = mapped_column(String(40))
    to_address: Mapped[str] = mapped_column(String(320))
    to_name: Mapped[str] = mapped_column(String(300))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    attachments: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_messages_status_id", "status", "id"),)


class TaskRow(Base):
    """A deadline or follow-up for the committee or a participant."""

    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    cycle_year: Mapped[int] = mapped_column(ForeignKey("cycles.year"), index=True)
    audience: Mapped[str] = mapped_column(String(16))
    member_id: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by: Mapped[str | None] = mapped_column(String(200))
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    overdue_flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AssessmentResponseRow(Base):
    """One end-of-program survey answer per participant and role (a repeat replaces it)."""

    __tablename__ = "assessment_responses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_year: Mapped[int] = mapped_column(ForeignKey("cycles.year"))
    member_id: Mapped[str] = mapped_column(String(64))
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
    member_id: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(8))
    cause: Mapped[str] = mapped_column(String(16))
    ended_mentor_id: Mapped[str] = mapped_column(String(64))
    ended_mentee_id: Mapped[str] = mapped_column(String(64))
    mentor_id: Mapped[str | None] = mapped_column(String(64))
    mentee_id: Mapped[str | None] = mapped_column(String(64))
    score: Mapped[float | None] = mapped_column(Float)
    explanation: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")
    superseded_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(200))
