"""Writing many rows fast: the driver's executemany (SQLite) or COPY (PostgreSQL), inside the
session's transaction, for imports where the ORM's per-row work would dominate."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.orm import Session

REINDEX_ROWS = 100_000
"""From this many rows on, SQLite inserts faster into a table without its secondary indexes and
rebuilds them afterwards (a sort each) than it updates them row by row; both happen inside the
transaction, so the change stays all-or-nothing."""


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")  # SQLAlchemy's form
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        return str(value)  # an enum member as its plain value
    return value


PLAIN = frozenset({type(None), int, float, str})


def _sqlite_column(values: Sequence[Any]) -> Sequence[Any]:
    """A column as the driver takes it; each distinct value is converted once (the type scan
    and the look-ups run in C, which matters for city-scale imports)."""
    if set(map(type, values)) <= PLAIN:
        return values
    memo = {value: _sqlite_value(value) for value in set(values)}
    return list(map(memo.__getitem__, values))


def insert_columns(session: Session, table: Table, columns: dict[str, Sequence[Any]]) -> int:
    """Insert rows given column by column as plain values (str, int, float, bool, date, aware
    datetime or None; enums as their str value); return how many."""
    names = list(columns)
    count = len(next(iter(columns.values()), []))
    if count == 0:
        return 0
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        rows = list(zip(*(_sqlite_column(v) for v in columns.values()), strict=True))
        marks = ", ".join("?" * len(names))
        sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({marks})"
        if count < REINDEX_ROWS:
            connection.exec_driver_sql(sql, rows)
            return count
        indexes = _sqlite_indexes(connection, table.name)
        for name, _ in indexes:
            connection.exec_driver_sql(f"DROP INDEX {name}")
        connection.exec_driver_sql(sql, rows)
        for _, create in indexes:
            connection.exec_driver_sql(create)
        return count
    driver = connection.connection.driver_connection
    sql = f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
    with driver.cursor() as cursor, cursor.copy(sql) as copy:  # type: ignore[union-attr]
        for row in zip(*columns.values(), strict=True):
            copy.write_row(row)
    return count


def _sqlite_indexes(connection: Connection, table: str) -> list[tuple[str, str]]:
    """The secondary indexes of a table that can be dropped and made again (name, DDL); the
    ones behind UNIQUE and PRIMARY KEY constraints have no DDL of their own and stay."""
    rows = connection.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
        "AND sql IS NOT NULL",
        (table,),
    )
    return [(str(name), str(sql)) for name, sql in rows]
