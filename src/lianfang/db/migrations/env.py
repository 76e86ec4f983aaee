"""Alembic environment: the engine comes from ``lianfang.db.migrate``; batch mode for SQLite."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from lianfang.db.models import metadata

config = context.config
engine = config.attributes["engine"]


def _sqlite_foreign_keys(connection: Connection, on: bool) -> None:
    """Foreign keys on or off, outside any transaction (SQLite ignores the pragma inside one),
    through the driver so that SQLAlchemy does not begin one."""
    connection.connection.driver_connection.execute(  # type: ignore[union-attr]
        f"PRAGMA foreign_keys={'ON' if on else 'OFF'}"
    )


with engine.connect() as connection:
    # SQLite rebuilds a table to change its constraints; with foreign keys on, dropping the old
    # table would first delete its rows and cascade into the tables that refer to it. So they
    # are off while migrating, and every reference is checked before the migration commits.
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        _sqlite_foreign_keys(connection, on=False)
    try:
        with connection.begin():
            context.configure(
                connection=connection,
                target_metadata=metadata,
                render_as_batch=True,
                compare_type=True,
            )
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"migration left broken references: {broken[:5]}")
    finally:
        if sqlite:
            _sqlite_foreign_keys(connection, on=True)
