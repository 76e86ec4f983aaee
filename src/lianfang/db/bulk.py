"""Writing many rows fast: the driver's executemany (SQLite) or COPY (PostgreSQL), inside the
session's transaction, for imports where the ORM's per-row work would dominate."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session


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
        connection.exec_driver_sql(
            f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({marks})", rows
        )
        return count
    driver = connection.connection.driver_connection
    sql = f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
    with driver.cursor() as cursor, cursor.copy(sql) as copy:  # type: ignore[union-attr]
        for row in zip(*columns.values(), strict=True):
            copy.write_row(row)
    return count
