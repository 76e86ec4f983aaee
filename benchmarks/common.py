"""What every benchmark shares: fresh databases, timing statistics and a printed table."""

from __future__ import annotations

import statistics
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from itertools import count
from os import getpid
from pathlib import Path
from time import perf_counter

import psycopg
from psycopg import sql
from sqlalchemy import Engine

from lianfang.db.engine import make_engine
from lianfang.db.migrate import upgrade

SQLITE = "SQLite"
POSTGRES = "PostgreSQL"
BACKENDS = (SQLITE, POSTGRES)
POSTGRES_SERVER = "postgresql://postgres@127.0.0.1:5432"
POSTGRES_ADMIN = f"{POSTGRES_SERVER}/postgres"
_numbers = count(1)


@dataclass(frozen=True)
class Database:
    """A fresh, migrated database: its back end, its URL and an engine on it."""

    backend: str
    url: str
    engine: Engine

    @property
    def driver_target(self) -> str:
        """What the raw driver connects to: the SQLite file path or the libpq URL."""
        return self.url.removeprefix("sqlite:///")


@dataclass(frozen=True)
class Figure:
    """One figure a target judges: lianfang's, and the reference tool's on the same work (None
    when there is no reference); ``low``–``high`` is the reference's range when the target is to
    land inside it."""

    ours: float
    reference: float | None = None
    low: float | None = None
    high: float | None = None


@dataclass
class Table:
    """A table of results, printed row by row as it fills and rendered later as markdown; its
    figures, by target name (benchmarks/targets.py), feed the report's summary."""

    title: str
    columns: list[str]
    notes: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    widths: list[int] = field(default_factory=list)
    figures: dict[str, Figure] = field(default_factory=dict)

    def start(self) -> None:
        """Print the title and the header."""
        print(f"\n== {self.title} ==", flush=True)
        self._print(self.columns)

    def add(self, *cells: str) -> None:
        """Record a row and print it at once."""
        self.rows.append(list(cells))
        self._print(list(cells))

    def figure(self, target: str, ours: float, reference: float | None = None) -> None:
        """Record the figure the named target judges (and print it)."""
        self.figures[target] = Figure(ours, reference)
        shown = "" if reference is None else f" (reference {reference:.6g})"
        print(f"  → {target}: {ours:.6g}{shown}", flush=True)

    def within(self, target: str, ours: float, theirs: list[float]) -> None:
        """Record a figure judged against the reference's range (its median as the reference)."""
        self.figures[target] = Figure(ours, statistics.median(theirs), min(theirs), max(theirs))
        print(f"  → {target}: {ours:.6g} (reference {min(theirs):.6g}–{max(theirs):.6g})")

    def skip(self, backend: str, reason: str) -> None:
        """Record a row for a back end that could not run."""
        self.add(backend, f"skipped: {reason}", *["—"] * (len(self.columns) - 2))

    def backends(self) -> Iterator[str]:
        """The back ends that can run; each one that cannot gets a row saying why."""
        for backend in BACKENDS:
            reason = skip_reason(backend)
            if reason is None:
                yield backend
            else:
                self.skip(backend, reason)

    def _print(self, cells: list[str]) -> None:
        wanted = self.widths + [0] * (len(self.columns) - len(self.widths))
        widths = [
            max(len(column), least, 8) for column, least in zip(self.columns, wanted, strict=True)
        ]
        print("  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=False)))


@cache
def postgres_problem() -> str | None:
    """Why the local PostgreSQL server cannot be used, None when it answers."""
    try:
        with psycopg.connect(POSTGRES_ADMIN, connect_timeout=3) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return None


def skip_reason(backend: str) -> str | None:
    """Why a back end must be skipped, None when it can run."""
    return postgres_problem() if backend == POSTGRES else None


@contextmanager
def _sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="lianfang-bench-") as directory:
        yield f"sqlite:///{Path(directory) / 'bench.db'}"


def _admin(statement: sql.Composed) -> None:
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as connection:
        connection.execute(statement)


@contextmanager
def _postgres_url() -> Iterator[str]:
    name = f"lianfang_bench_{getpid()}_{next(_numbers)}"
    _admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"{POSTGRES_SERVER}/{name}"
    finally:
        _admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def fresh_database(backend: str) -> Iterator[Database]:
    """A new, empty database of the back end with lianfang's schema (dropped afterwards)."""
    with _sqlite_url() if backend == SQLITE else _postgres_url() as url:
        engine = make_engine(url)
        try:
            upgrade(engine)
            yield Database(backend=backend, url=url, engine=engine)
        finally:
            engine.dispose()


def timed(action: Callable[[], object]) -> float:
    """Seconds one call of the action takes."""
    start = perf_counter()
    action()
    return perf_counter() - start


def percentile(samples: list[float], percent: int) -> float:
    """The given percentile (1–99) of the samples, interpolated between neighbours."""
    return statistics.quantiles(samples, n=100, method="inclusive")[percent - 1]


def milliseconds(seconds: float) -> str:
    """Seconds shown as milliseconds."""
    shown = seconds * 1000
    return f"{shown:.3f}" if shown < 1 else f"{shown:.2f}"


def ratio(ours: float, reference: float) -> str:
    """How many times the reference lianfang's figure is."""
    times = ours / reference
    return f"{times:.0f}×" if times >= 100 else f"{times:.1f}×"


def samples(action: Callable[[], object], count: int, warmup: int = 10) -> list[float]:
    """Seconds of each of ``count`` calls of the action, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        action()
    return [timed(action) for _ in range(count)]
