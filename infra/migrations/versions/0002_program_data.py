"""program data

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 04:19:21.985465
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

AT = sa.DateTime(timezone=True)


revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "members",
        sa.Column("member_id", sa.String(length=64), nullable=False),
        sa.Column("first_name", sa.String(length=200), nullable=False),
        sa.Column("last_name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("institution", sa.String(length=300), nullable=False),
        sa.Column("membership_expires", sa.Date(), nullable=False),
        sa.Column("updated_at", AT, nullable=False),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_members")),
    )
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("cycle_year", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("to_address", sa.String(length=320), nullable=False),
        sa.Column("to_name", sa.String(length=300), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("text_body", sa.Text(), nullable=False),
        sa.Column("html_body", sa.Text(), nullable=False),
        sa.Column("attachments", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("queued_at", AT, nullable=False),
        sa.Column("sent_at", AT, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
        sa.UniqueConstraint("key", name=op.f("uq_messages_key")),
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_messages_cycle_year"), ["cycle_year"], unique=False)
        batch_op.create_index("ix_messages_status_id", ["status", "id"], unique=False)

    op.create_table(
        "applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_year", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.String(length=64), nullable=False),
        sa.Column("submitted_at", AT, nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("areas", sa.Text(), nullable=False),
        sa.Column("career_stage", sa.String(length=16), nullable=False),
        sa.Column("institution", sa.String(length=300), nullable=False),
        sa.Column("library_type", sa.String(length=16), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("goals", sa.Text(), nullable=False),
        sa.Column("max_mentees", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("imported_at", AT, nullable=False),
        sa.Column("withdrawn_at", AT, nullable=True),
        sa.ForeignKeyConstraint(
            ["cycle_year"], ["cycles.year"], name=op.f("fk_applications_cycle_year_cycles")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_applications")),
        sa.UniqueConstraint("cycle_year", "member_id", name=op.f("uq_applications_cycle_year")),
    )
    op.create_table(
        "assessment_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_year", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("submitted_at", AT, nullable=False),
        sa.Column("overall", sa.Integer(), nullable=False),
        sa.Column("goals_met", sa.Integer(), nullable=False),
        sa.Column("would_recommend", sa.Boolean(), nullable=False),
        sa.Column("will_continue", sa.Boolean(), nullable=False),
        sa.Column("comments", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cycle_year"], ["cycles.year"], name=op.f("fk_assessment_responses_cycle_year_cycles")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_responses")),
        sa.UniqueConstraint(
            "cycle_year", "member_id", "role", name=op.f("uq_assessment_responses_cycle_year")
        ),
    )
    op.create_table(
        "cycle_settings",
        sa.Column("cycle_year", sa.Integer(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cycle_year"], ["cycles.year"], name=op.f("fk_cycle_settings_cycle_year_cycles")
        ),
        sa.PrimaryKeyConstraint("cycle_year", name=op.f("pk_cycle_settings")),
    )
    op.create_table(
        "pairing_rules",
        sa.Column("cycle_year", sa.Integer(), nullable=False),
        sa.Column("mentor_id", sa.String(length=64), nullable=False),
        sa.Column("mentee_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("at", AT, nullable=False),
        sa.ForeignKeyConstraint(
            ["cycle_year"], ["cycles.year"], name=op.f("fk_pairing_rules_cycle_year_cycles")
        ),
        sa.PrimaryKeyConstraint(
            "cycle_year", "mentor_id", "mentee_id", name=op.f("pk_pairing_rules")
        ),
    )
    op.create_table(
        "tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("cycle_year", sa.Integer(), nullable=False),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("member_id", sa.String(length=64), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("due_at", AT, nullable=False),
        sa.Column("created_at", AT, nullable=False),
        sa.Column("done_at", AT, nullable=True),
        sa.Column("done_by", sa.String(length=200), nullable=True),
        sa.Column("reminded_at", AT, nullable=True),
        sa.Column("overdue_flagged_at", AT, nullable=True),
        sa.ForeignKeyConstraint(
            ["cycle_year"], ["cycles.year"], name=op.f("fk_tasks_cycle_year_cycles")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
        sa.UniqueConstraint("key", name=op.f("uq_tasks_key")),
    )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tasks_cycle_year"), ["cycle_year"], unique=False)

    op.create_table(
        "pairs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("set_id", sa.Integer(), nullable=False),
        sa.Column("mentor_id", sa.String(length=64), nullable=False),
        sa.Column("mentee_id", sa.String(length=64), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("ended_at", AT, nullable=True),
        sa.Column("ended_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["set_id"], ["pairing_sets.id"], name=op.f("fk_pairs_set_id_pairing_sets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pairs")),
    )
    with op.batch_alter_table("pairs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pairs_set_id"), ["set_id"], unique=False)

    op.create_table(
        "unmatched",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("set_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["set_id"], ["pairing_sets.id"], name=op.f("fk_unmatched_set_id_pairing_sets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unmatched")),
    )
    with op.batch_alter_table("unmatched", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_unmatched_set_id"), ["set_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("unmatched", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_unmatched_set_id"))

    op.drop_table("unmatched")
    with op.batch_alter_table("pairs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pairs_set_id"))

    op.drop_table("pairs")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tasks_cycle_year"))

    op.drop_table("tasks")
    op.drop_table("pairing_rules")
    op.drop_table("cycle_settings")
    op.drop_table("assessment_responses")
    op.drop_table("applications")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_status_id")
        batch_op.drop_index(batch_op.f("ix_messages_cycle_year"))

    op.drop_table("messages")
    op.drop_table("members")
