"""Alembic environment: runs on the connection ``infra.db.upgrade`` hands over."""

from alembic import context
from sqlalchemy import Connection

from infra.tables import Base

connection: Connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
