"""after pairing: a pair's goals, its meeting log, monthly check-ins, continuing answers

``pair_goals`` (one to three per pair), ``meetings`` (the note is its writer's alone),
``check_ins`` (one per partner and month) and ``continuing_answers`` (after the formal
end), all sealed (see ``infra.seal_book``).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-13
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

AT = sa.DateTime(timezone=True)
MEMBER_ID = sa.String(length=64)

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _pair_keys(table: str) -> list[sa.ForeignKeyConstraint]:
    return [
        sa.ForeignKeyConstraint(
            ["cycle_year"], ["cycles.year"], name=op.f(f"fk_{table}_cycle_year_cycles")
        ),
        sa.ForeignKeyConstraint(["pair_id"], ["pairs.id"], name=op.f(f"fk_{table}_pair_id_pairs")),
    ]


def upgrade() -> None:
    op.create_table(
        "pair_goals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_year", sa.Integer(), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("set_by", MEMBER_ID, nullable=False),
        sa.Column("set_at", AT, nullable=False),
        *_pair_keys("pair_goals"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pair_goals")),
        sa.UniqueConstraint("pair_id", "position", name=op.f("uq_pair_goals_pair_id")),
    )
    op.create_table(
        "meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_year", sa.Integer(), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("logged_by", MEMBER_ID, nullable=False),
        sa.Column("met_on", sa.Date(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("logged_at", AT, nullable=False),
        *_pair_keys("meetings"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meetings")),
    )
    op.create_index("ix_meetings_cycle_pair", "meetings", ["cycle_year", "pair_id", "met_on"])
    op.create_table(
        "check_ins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_year", sa.Integer(), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("member_id", MEMBER_ID, nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("met", sa.Boolean(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("contact_committee", sa.Boolean(), nullable=False),
        sa.Column("answered_at", AT, nullable=False),
        *_pair_keys("check_ins"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_ins")),
        sa.UniqueConstraint("pair_id", "member_id", "month", name=op.f("uq_check_ins_pair_id")),
    )
    op.create_index("ix_check_ins_cycle_pair", "check_ins", ["cycle_year", "pair_id", "month"])
    op.create_table(
        "continuing_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_year", sa.Integer(), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("member_id", MEMBER_ID, nullable=False),
        sa.Column("continuing", sa.Boolean(), nullable=False),
        sa.Column("answered_at", AT, nullable=False),
        *_pair_keys("continuing_answers"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_continuing_answers")),
        sa.UniqueConstraint("pair_id", "member_id", name=op.f("uq_continuing_answers_pair_id")),
    )
    op.create_index(op.f("ix_continuing_answers_cycle_year"), "continuing_answers", ["cycle_year"])


def downgrade() -> None:
    op.drop_index(op.f("ix_continuing_answers_cycle_year"), table_name="continuing_answers")
    op.drop_table("continuing_answers")
    op.drop_index("ix_check_ins_cycle_pair", table_name="check_ins")
    op.drop_table("check_ins")
    op.drop_index("ix_meetings_cycle_pair", table_name="meetings")
    op.drop_table("meetings")
    op.drop_table("pair_goals")
