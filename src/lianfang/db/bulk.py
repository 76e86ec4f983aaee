"""Writing many rows fast: the driver's executemany (SQLite) or COPY (PostgreSQL), inside the
session's transaction, for imports where the ORM's per-row work would dominate."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from itertools import repeat
from operator import ne
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import Connection, Table
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from lianfang.columns import Coded

Values = Sequence[Any] | Coded

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


def _sqlite_column(values: Values) -> Values:
    """A column as the driver takes it; each distinct value is converted once (the type scan
    and the look-ups run in C, which matters for city-scale imports)."""
    if isinstance(values, Coded):
        plain = set(map(type, values.values.tolist())) <= PLAIN
        return values if plain else values.mapped(_sqlite_value)
    if set(map(type, values)) <= PLAIN:
        return values
    memo = {value: _sqlite_value(value) for value in set(values)}
    return list(map(memo.__getitem__, values))


def _size(values: Values) -> int:
    return values.size if isinstance(values, Coded) else len(values)


def _single(values: Values) -> bool:
    if isinstance(values, Coded):
        return values.single()
    return len(values) > 0 and not any(map(ne, values, repeat(values[0])))  # stops at a change


def _first(values: Values) -> Any:
    return values.values[values.rows[0]] if isinstance(values, Coded) else values[0]


def _expanded(values: Values) -> Sequence[Any]:
    return values.expanded() if isinstance(values, Coded) else values


def insert_columns(session: Session, table: Table, columns: dict[str, Values]) -> int:
    """Insert rows given column by column as plain values (str, int, float, bool, date, aware
    datetime or None; enums as their str value), each column a sequence or ``Coded``; return
    how many."""
    count = _size(next(iter(columns.values()), []))
    if count == 0:
        return 0
    connection = session.connection()
    try:
        with _indexes_rebuilt_after(connection, table.name, count) as locked:
            if connection.dialect.name == "sqlite":
                _sqlite_insert(connection, table.name, columns)
            elif locked:
                _postgres_copy_locked(connection, table.name, columns)
            else:
                _postgres_copy(connection, table.name, columns)
    except connection.dialect.loaded_dbapi.IntegrityError as exc:
        # The driver's own error, as SQLAlchemy would have wrapped it: one mapping to 409.
        raise IntegrityError(f"bulk insert into {table.name}", None, exc) from exc
    return count


COPY_BLOCK = 20_000  # rows per block sent: the server parses one while the next is built
COPY_SPECIAL = re.compile(r"[\\\t\n\r]")
COLUMN_DEFAULTS = (
    "SELECT column_name, column_default FROM information_schema.columns "
    "WHERE table_schema = current_schema() AND table_name = %s"
)


def _postgres_copy(connection: Connection, table: str, columns: dict[str, Values]) -> None:
    """COPY in PostgreSQL's text format, built column by column (each distinct non-text value
    converted once, text escaped only when a column needs it) and sent in blocks, each block
    built while the server parses the one before."""
    texts = [_copy_texts(v) for v in columns.values()]
    count = _size(next(iter(columns.values())))
    driver = connection.connection.driver_connection
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
            for start in range(0, count, COPY_BLOCK):
                stop = start + COPY_BLOCK
                block = zip(*(text(start, stop) for text in texts), strict=True)
                copy.write(("\n".join(map("\t".join, block)) + "\n").encode())
    except psycopg.Error as exc:  # as SQLAlchemy would raise it (IntegrityError and so on)
        raise DBAPIError.instance(statement, None, exc, psycopg.Error) from exc


def _postgres_copy_locked(connection: Connection, table: str, columns: dict[str, Values]) -> None:
    """COPY into a table this transaction has locked: a column holding one value for every row
    is left out of the COPY text and filled by the server as the column's default for the
    load (the default put back afterwards), rather than parsed from text on every row — a
    third of the server's COPY time for a city's people."""
    constant = {name: _first(v) for name, v in columns.items() if _single(v)}
    if len(constant) == len(columns):  # COPY needs a column
        constant.pop(next(iter(columns)))
    before = {
        str(name): default
        for name, default in connection.exec_driver_sql(COLUMN_DEFAULTS, (table,))
    }
    driver = connection.connection.driver_connection
    literals = {
        name: "NULL" if value is None else sql.Literal(_text(value)).as_string(driver)
        for name, value in constant.items()
    }
    _set_defaults(connection, table, literals)
    _postgres_copy(connection, table, {k: v for k, v in columns.items() if k not in constant})
    _set_defaults(connection, table, {name: before.get(name) for name in constant})


def _set_defaults(connection: Connection, table: str, defaults: Mapping[str, str | None]) -> None:
    """Set (an SQL expression) or drop (None) the default of each column, in one statement."""
    clauses = [
        f"ALTER COLUMN {name} " + ("DROP DEFAULT" if default is None else f"SET DEFAULT {default}")
        for name, default in defaults.items()
    ]
    if clauses:  # run by the driver itself: a literal may hold '%'
        connection.connection.driver_connection.execute(  # type: ignore[union-attr]
            f"ALTER TABLE {table} {', '.join(clauses)}"
        )


def _copy_texts(values: Values) -> Callable[[int, int], Sequence[str]]:
    """A column's COPY text for rows ``start:stop``; each distinct value converted once."""
    if isinstance(values, Coded):
        plain = values.values.tolist()
        if set(map(type, plain)) != {str} or COPY_SPECIAL.search("".join(plain)) is not None:
            values = values.mapped(_copy_value)
        coded = values
        return lambda start, stop: coded.values[coded.rows[start:stop]].tolist()
    if set(map(type, values)) == {str}:
        if COPY_SPECIAL.search("".join(values)) is None:
            return lambda start, stop: values[start:stop]
        return lambda start, stop: [_copy_text(v) for v in values[start:stop]]
    memo = {value: _copy_value(value) for value in set(values)}
    return lambda start, stop: list(map(memo.__getitem__, values[start:stop]))


def _text(value: Any) -> str:
    """A value (not None) as PostgreSQL reads it from text."""
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)  # an enum member as its plain value


def _copy_value(value: Any) -> str:
    return "\\N" if value is None else _copy_text(_text(value))


def _copy_text(text: str) -> str:
    return COPY_SPECIAL.sub(lambda m: COPY_ESCAPES[m.group()], text)


COPY_ESCAPES = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}


SQLITE_ROWS_PER_STATEMENT = 100
"""Rows one INSERT carries (VALUES (…), (…), …): what every statement costs apart from its values
(reset, step, the GIL let go and taken back) is paid once for them, ~1 s of a city's 1.75M."""


def _sqlite_insert(connection: Connection, table: str, columns: dict[str, Values]) -> None:
    """executemany of many-row INSERTs; a column holding one value for every row is written into
    the statement as a literal (quoted by SQLite itself) rather than bound on every row, which
    is most of the cost of a wide insert."""
    values = [_sqlite_column(v) for v in columns.values()]
    same = [_single(v) for v in values]
    literals = [
        str(connection.exec_driver_sql("SELECT quote(?)", (_first(v),)).scalar_one())
        if one
        else "?"
        for v, one in zip(values, same, strict=True)
    ]
    bound = [_expanded(v) for v, one in zip(values, same, strict=True) if not one]
    count, width = _size(values[0]), len(bound)
    if any(_size(v) != count for v in values):
        raise ValueError(f"columns of {table} differ in length")
    driver = connection.connection.driver_connection
    most = driver.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)  # type: ignore[union-attr]
    per = max(1, min(SQLITE_ROWS_PER_STATEMENT, most // max(width, 1)))
    whole, rest = divmod(count, per)

    def statement(rows: int) -> str:
        """Values numbered column by column (?1…?rows the first bound column's), so that a
        statement's values are the columns' slices one after another: no row tuples at all."""
        tuples = []
        for row in range(rows):
            numbers = iter(range(row + 1, width * rows + 1, rows))
            tuples.append(
                "(" + ", ".join(f"?{next(numbers)}" if x == "?" else x for x in literals) + ")"
            )
        return f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join(tuples)}"

    def values_of(start: int, stop: int) -> list[Any]:
        block: list[Any] = []
        for column in bound:
            block += column[start:stop]
        return block

    cursor = driver.cursor()  # type: ignore[union-attr]
    try:
        if whole:
            starts = range(0, whole * per, per)
            cursor.executemany(statement(per), (values_of(at, at + per) for at in starts))
        if rest:
            cursor.execute(statement(rest), values_of(whole * per, count))
    except sqlite3.Error as exc:  # as SQLAlchemy would raise it (IntegrityError and so on)
        raise DBAPIError.instance(table, None, exc, sqlite3.Error) from exc
    finally:
        cursor.close()


BULK_CACHE_KIB = 1 << 20
"""Page cache of a SQLite connection while it writes a bulk load (1 GiB; normally 64 MiB): the
new rows, their index sorts and the roll-ups grouped from them stay in memory instead of
spilling to temporary files. Given back when the load is done."""


@contextmanager
def bulk_cache(session: Session, rows: int) -> Iterator[None]:
    """Around the writing of a bulk load of ``rows`` rows: on SQLite, from ``REINDEX_ROWS`` on,
    a larger page cache for the connection, restored afterwards."""
    connection = session.connection()
    if connection.dialect.name != "sqlite" or rows < REINDEX_ROWS:
        yield
        return
    before = connection.exec_driver_sql("PRAGMA cache_size").scalar_one()
    connection.exec_driver_sql(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size = {int(before)}")


SQLITE_INDEXES = (
    # Indexes that can be dropped and made again (name, DDL): not those behind a PRIMARY KEY or
    # UNIQUE constraint, which have no DDL of their own.
    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL"
)
POSTGRES_CONSTRAINTS = (
    # Unique and foreign-key constraints (name, definition); the primary key stays.
    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
    "WHERE conrelid = %s::regclass AND contype IN ('u', 'f') ORDER BY contype DESC, conname"
)
POSTGRES_INDEXES = (
    # Indexes not behind a constraint (name, DDL).
    "SELECT indexname, indexdef FROM pg_indexes i WHERE tablename = %s AND NOT EXISTS "
    "(SELECT 1 FROM pg_constraint c WHERE c.conindid = (quote_ident(i.indexname))::regclass)"
)
POSTGRES_SORT_MEMORY = "SET LOCAL maintenance_work_mem = '512MB'"


def rebuilds_indexes(session: Session, table: Table, count: int) -> bool:
    """Whether inserting ``count`` rows into the table drops its indexes (and on PostgreSQL
    its unique and foreign-key constraints) and makes them again afterwards: then the order
    the rows come in does not matter to the indexes."""
    return _rebuilds(session.connection(), table.name, count)


def _rebuilds(connection: Connection, table: str, count: int) -> bool:
    if count < REINDEX_ROWS:
        return False
    held = connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one()
    return bool(count >= held)


@contextmanager
def _indexes_rebuilt_after(connection: Connection, table: str, count: int) -> Iterator[bool]:
    """Around a bulk insert of at least ``REINDEX_ROWS`` rows into a table holding fewer (a first
    load): drop what is checked or maintained row by row and make it again afterwards, a sort or
    one join each instead of a B-tree update per row — inside the transaction, so still all or
    nothing. On SQLite, the secondary indexes; on PostgreSQL, also the unique and foreign-key
    constraints, validated again as a whole when they are added back (the table is locked for
    the load: it held fewer rows than the load brings)."""
    if not _rebuilds(connection, table, count):
        yield False
        return
    if connection.dialect.name == "sqlite":
        drop, make = _sqlite_rebuild(connection, table)
    else:
        drop, make = _postgres_rebuild(connection, table)
    for statement in drop:
        connection.exec_driver_sql(statement)
    yield True
    for statement in make:
        connection.exec_driver_sql(statement)


def _sqlite_rebuild(connection: Connection, table: str) -> tuple[list[str], list[str]]:
    indexes = list(connection.exec_driver_sql(SQLITE_INDEXES, (table,)))
    return [f"DROP INDEX {name}" for name, _ in indexes], [str(ddl) for _, ddl in indexes]


def _postgres_rebuild(connection: Connection, table: str) -> tuple[list[str], list[str]]:
    constraints = list(connection.exec_driver_sql(POSTGRES_CONSTRAINTS, (table,)))
    indexes = list(connection.exec_driver_sql(POSTGRES_INDEXES, (table,)))
    drop = [f"ALTER TABLE {table} DROP CONSTRAINT {name}" for name, _ in constraints] + [
        f"DROP INDEX {name}" for name, _ in indexes
    ]
    make = [POSTGRES_SORT_MEMORY, *(str(ddl) for _, ddl in indexes)] + [
        f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}"
        for name, definition in reversed(constraints)
    ]
    return drop, make
