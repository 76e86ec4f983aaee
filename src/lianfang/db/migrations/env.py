"""Alembic environment: the engine comes from ``lianfang.db.migrate``; batch mode for SQLite."""

from __future__ import annotations

from alembic import context

from lianfang.db.models import metadata

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,
        compare_type=True,
    )
    context.run_migrations()
