"""repairing offers: the committee's re-pairing proposals after a pair dissolves

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

AT = sa.DateTime(timezone=True)


revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "repairing_offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_year", sa.Integer(), nullable=False),
        sa.Column("set_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("cause", sa.String(length=16), nullable=False),
        sa.Column("ended_mentor_id", sa.String(length=64), nullable=False),
        sa.Column("ended_mentee_id", sa.String(length=64), nullable=False),
        sa.Column("mentor_id", sa.String(length=64), nullable=True),
        sa.Column("mentee_id", sa.String(length=64), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("explanation", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("superseded_by", sa.Integer(), nullable=True),
        sa.Column("created_at", AT, nullable=False),
        sa.Column("decided_at", AT, nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["cycle_year"], ["cycles.year"], name=op.f("fk_repairing_offers_cycle_year_cycles")
        ),
        sa.ForeignKeyConstraint(
            ["set_id"], ["pairing_sets.id"], name=op.f("fk_repairing_offers_set_id_pairing_sets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repairing_offers")),
    )
    with op.batch_alter_table("repairing_offers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_repairing_offers_cycle_year"), ["cycle_year"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("repairing_offers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_repairing_offers_cycle_year"))
    op.drop_table("repairing_offers")
