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


def _sqlite_column(values: Sequence[Any]) -> list[Any]:
    memo: dict[Any, Any] = {}
    out = []
    for value in values:
        if value is None or type(value) in (int, float) or (type(value) is str):
            out.append(value)
            continue
        converted = memo.get(value, memo)
        if converted is memo:
            converted = memo[value] = _sqlite_value(value)
        out.append(converted)
    return out


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
