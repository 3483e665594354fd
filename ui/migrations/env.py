"""Alembic environment for the board's schema; run through ui.db.migrate (no alembic.ini needed)."""

from __future__ import annotations

from alembic import context

from ui.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copy
)
with context.begin_transaction():
    context.run_migrations()
