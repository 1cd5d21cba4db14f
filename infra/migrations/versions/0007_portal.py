"""the participants' site: one-time sign-in links, and where each application came from

``sign_in_links`` keeps a mailed sign-in link only as the SHA-256 of its token, with when
it expires and when it was used (ephemeral, not sealed: see ``infra.seal_book``).
``applications.source`` says whether an application came through the site or an import;
the rows already there were imported.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-12
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sign_in_links",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("member_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("token_hash", name="pk_sign_in_links"),
    )
    op.create_index("ix_sign_in_links_member_id", "sign_in_links", ["member_id"])
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("source", sa.String(length=8), nullable=False, server_default="import")
        )


def downgrade() -> None:
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_column("source")
    op.drop_index("ix_sign_in_links_member_id", table_name="sign_in_links")
    op.drop_table("sign_in_links")
