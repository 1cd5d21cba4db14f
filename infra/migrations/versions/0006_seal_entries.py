"""seal entries: each row the program writes is hashed under the audit record of the write

``audit verify`` compares every sealed row with its latest entry, so an edit, a deletion
or an insertion made outside the program is named by table, row and audit record, and a
later ordinary write never re-blesses it (see ``infra.seal_book``).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-11
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "seal_entries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("facet", sa.String(length=32), nullable=False),
        sa.Column("row_key", sa.String(length=520), nullable=False),
        sa.Column("row_hash", sa.String(length=64), nullable=True),
    )
    op.create_index("ix_seal_entries_seq", "seal_entries", ["seq"])
    op.create_index("ix_seal_entries_row", "seal_entries", ["facet", "row_key", "id"])


def downgrade() -> None:
    op.drop_index("ix_seal_entries_row", table_name="seal_entries")
    op.drop_index("ix_seal_entries_seq", table_name="seal_entries")
    op.drop_table("seal_entries")
