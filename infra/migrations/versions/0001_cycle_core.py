"""cycle core: cycles, milestones, pairing sets, the hash-chained audit log

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("cycle_year", sa.Integer(), nullable=True),
        sa.Column("at", AT, nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_cycle_kind", "audit_log", ["cycle_year", "kind", "seq"])
    op.create_table(
        "cycles",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("created_at", AT, nullable=False),
        sa.Column("updated_at", AT, nullable=False),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_cycles")),
    )
    op.create_table(
        "milestones",
        sa.Column("cycle_year", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("due_at", AT, nullable=False),
        sa.ForeignKeyConstraint(
            ["cycle_year"], ["cycles.year"], name=op.f("fk_milestones_cycle_year_cycles")
        ),
        sa.PrimaryKeyConstraint("cycle_year", "event", name=op.f("pk_milestones")),
    )
    op.create_table(
        "pairing_sets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_year", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("proposed_at", AT, nullable=False),
        sa.Column("approved_by", sa.String(length=200), nullable=True),
        sa.Column("approved_at", AT, nullable=True),
        sa.ForeignKeyConstraint(
            ["cycle_year"], ["cycles.year"], name=op.f("fk_pairing_sets_cycle_year_cycles")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pairing_sets")),
    )
    op.create_index(op.f("ix_pairing_sets_cycle_year"), "pairing_sets", ["cycle_year"])


def downgrade() -> None:
    op.drop_index(op.f("ix_pairing_sets_cycle_year"), table_name="pairing_sets")
    op.drop_table("pairing_sets")
    op.drop_table("milestones")
    op.drop_table("cycles")
    op.drop_index("ix_audit_log_cycle_kind", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("audit_head")
