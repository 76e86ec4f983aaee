"""Time the load of all of Jiangsu's divisions against the raw driver inserting the same rows."""

from __future__ import annotations

import sqlite3
import statistics
from collections.abc import Callable
from datetime import UTC, datetime
from time import perf_counter

import psycopg

from benchmarks.common import SQLITE, Database, Table, fresh_database, ratio
from lianfang.areas.files import JIANGSU, read_divisions
from lianfang.areas.loading import load_directory
from lianfang.auth.scope import SYSTEM
from lianfang.db.engine import make_sessionmaker, transaction

PROVINCE = "32"
RUNS = 3
EXPECTED = {"province": 1, "city": 13, "county": 104, "town": 1487, "village": 21958}
Row = tuple[str, str | None, str, str, datetime]
Measure = Callable[[Database], float]
COLUMNS = "code, parent_code, level, name, updated_at"
SQLITE_INSERT = f"INSERT INTO area ({COLUMNS}) VALUES (?, ?, ?, ?, ?)"
POSTGRES_COPY = f"COPY area ({COLUMNS}) FROM STDIN"
SQLITE_PRAGMAS = ("PRAGMA foreign_keys=ON", "PRAGMA synchronous=NORMAL")


def reference_rows() -> list[Row]:
    """The (code, parent_code, level, name, updated_at) tuples lianfang stores, parents first."""
    now = datetime.now(UTC)
    rows = read_divisions(JIANGSU, within=PROVINCE)
    return [(r.code, r.parent_code, r.level.value, r.name, now) for r in rows]


def load_once(database: Database) -> float:
    """Time one lianfang load of Jiangsu into the (empty) database; check what it stored."""
    factory = make_sessionmaker(database.engine)
    start = perf_counter()
    with transaction(factory) as session:
        report = load_directory(session=session, actor=SYSTEM, within=PROVINCE)
    elapsed = perf_counter() - start
    if report.by_level != EXPECTED:
        raise RuntimeError(f"unexpected load: {report.by_level}")
    return elapsed


def sqlite_insert(database: Database, rows: list[Row]) -> float:
    """Time sqlite3 executemany of the rows into the area table, in one transaction."""
    stored = [(*row[:4], row[4].strftime("%Y-%m-%d %H:%M:%S.%f")) for row in rows]
    connection = sqlite3.connect(database.driver_target)
    try:
        for pragma in SQLITE_PRAGMAS:
            connection.execute(pragma)
        start = perf_counter()
        with connection:
            connection.executemany(SQLITE_INSERT, stored)
        return perf_counter() - start
    finally:
        connection.close()


def postgres_copy(database: Database, rows: list[Row]) -> float:
    """Time psycopg COPY ... FROM STDIN of the rows into the area table, then commit."""
    with psycopg.connect(database.driver_target) as connection:
        start = perf_counter()
        with connection.cursor() as cursor, cursor.copy(POSTGRES_COPY) as copy:
            for row in rows:
                copy.write_row(row)
        connection.commit()
        return perf_counter() - start


def median_of(backend: str, measure: Measure) -> tuple[float, list[float]]:
    """Median and individual seconds of RUNS measurements, each on a fresh database."""
    runs: list[float] = []
    for _ in range(RUNS):
        with fresh_database(backend) as database:
            runs.append(measure(database))
    return statistics.median(runs), runs


def raw_driver(backend: str, rows: list[Row]) -> Measure:
    """The reference measurement for a back end: plain inserts or COPY of the rows."""
    insert = sqlite_insert if backend == SQLITE else postgres_copy
    return lambda database: insert(database, rows)


def make_table() -> Table:
    """The empty results table, with notes on what is and is not timed."""
    return Table(
        title="Loading all of Jiangsu's divisions (23,563 rows)",
        widths=[10, 0, 0, 18],
        columns=[
            "Back end",
            "Rows",
            "lianfang (s)",
            "lianfang runs (s)",
            "Raw driver (s)",
            "Ratio",
        ],
        notes=[
            'lianfang: `load_directory(within="32")` in one `transaction()`, median of '
            f"{RUNS} runs, each into a fresh database migrated beforehand (not timed). Its time "
            "includes reading and validating the CSVs (1 province + 13 cities, 104 counties, "
            "1,487 towns, 21,958 villages), storing 95 county boundaries, setting centroids "
            "and writing two audit records.",
            "Raw driver: the same rows as (code, parent_code, level, name, updated_at) tuples, "
            "prepared beforehand (not timed), into the same migrated `area` table (same keys "
            f"and indexes), median of {RUNS} fresh databases. SQLite: `sqlite3` `executemany` "
            "INSERT in one transaction, with lianfang's pragmas (WAL, foreign keys on, "
            "synchronous=NORMAL). PostgreSQL: psycopg 3 `COPY area (...) FROM STDIN`.",
            "Ratio = lianfang / raw driver.",
        ],
    )


def run() -> Table:
    """Time the load of Jiangsu on every back end, next to the raw driver."""
    table = make_table()
    table.start()
    rows = reference_rows()
    for backend in table.backends():
        ours, runs = median_of(backend, load_once)
        reference, _ = median_of(backend, raw_driver(backend, rows))
        shown = " / ".join(f"{r:.2f}" for r in runs)
        table.add(
            backend,
            f"{len(rows):,}",
            f"{ours:.2f}",
            shown,
            f"{reference:.3f}",
            ratio(ours, reference),
        )
    return table
