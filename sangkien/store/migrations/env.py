"""Alembic environment: runs migrations on the engine handed over by sangkien.store."""
from __future__ import annotations

from alembic import context

from sangkien.store import metadata

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
