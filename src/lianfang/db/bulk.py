"""Writing many rows fast: the driver's executemany (SQLite) or COPY (PostgreSQL), inside the
session's transaction, for imports where the ORM's per-row work would dominate."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.orm import Session

REINDEX_ROWS = 100_000
"""From this many new rows on (and at least as many as the table holds), inserting into a table
without its secondary indexes and rebuilding them afterwards beats updating them row by row."""


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
    with _indexes_rebuilt_after(connection, table.name, count):
        if connection.dialect.name == "sqlite":
            _sqlite_insert(connection, table.name, columns)
            return count
        driver = connection.connection.driver_connection
        sql = f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
        with driver.cursor() as cursor, cursor.copy(sql) as copy:  # type: ignore[union-attr]
            for row in zip(*columns.values(), strict=True):
                copy.write_row(row)
    return count


def _sqlite_insert(connection: Connection, table: str, columns: dict[str, Sequence[Any]]) -> None:
    """One executemany; a column holding one value for every row is written into the statement
    as a literal (quoted by SQLite itself) rather than bound on every row, which is most of the
    cost of a wide insert."""
    values = [_sqlite_column(v) for v in columns.values()]
    same = [len(v) > 0 and v.count(v[0]) == len(v) for v in values]
    literals = [
        str(connection.exec_driver_sql("SELECT quote(?)", (v[0],)).scalar_one()) if one else "?"
        for v, one in zip(values, same, strict=True)
    ]
    bound = [v for v, one in zip(values, same, strict=True) if not one]
    rows = list(zip(*bound, strict=True)) if bound else [()] * len(values[0])
    connection.exec_driver_sql(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(literals)})", rows
    )


SQLITE_INDEXES = (
    # Indexes that can be dropped and made again (name, DDL): not those behind a PRIMARY KEY or
    # UNIQUE constraint, which have no DDL of their own.
    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL"
)


@contextmanager
def _indexes_rebuilt_after(connection: Connection, table: str, count: int) -> Iterator[None]:
    """Around a bulk insert into SQLite of at least ``REINDEX_ROWS`` rows into a table holding
    fewer: drop its secondary indexes and make them again afterwards (a sort each, instead of
    updating them row by row) — inside the transaction, so still all or nothing. (Not done on
    PostgreSQL: it did not measure faster there, and a dropped index would lock readers out of
    the table until the commit.)"""
    if connection.dialect.name != "sqlite" or count < REINDEX_ROWS:
        yield
        return
    held = connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one()
    if count < held:
        yield
        return
    indexes = [
        (str(name), str(ddl)) for name, ddl in connection.exec_driver_sql(SQLITE_INDEXES, (table,))
    ]
    for name, _ in indexes:
        connection.exec_driver_sql(f"DROP INDEX {name}")
    yield
    for _, ddl in indexes:
        connection.exec_driver_sql(ddl)
