"""composed value columns: room for the largest values intake lets through

A message's recipient name is a full name (two names of up to 200 characters and a space),
its subject may name a partner, its key may name a refused applicant's address, and a task
closed by a dissolved pair records its actor with a note. PostgreSQL refused these where
SQLite stored them; the columns now fit them (``infra.tables`` names each bound).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-09
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column, size before, size now, nullable)
WIDENED = (
    ("messages", "key", 200, 512, False),
    ("messages", "to_name", 300, 401, False),
    ("messages", "subject", 300, 701, False),
    ("tasks", "done_by", 200, 250, True),
)


def upgrade() -> None:
    for table, column, before, now, nullable in WIDENED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                column,
                existing_type=sa.String(length=before),
                type_=sa.String(length=now),
                existing_nullable=nullable,
            )


def downgrade() -> None:
    for table, column, before, now, nullable in WIDENED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                column,
                existing_type=sa.String(length=now),
                type_=sa.String(length=before),
                existing_nullable=nullable,
            )
