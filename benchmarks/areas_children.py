"""Time GET /api/areas/{code}/children through the HTTP stack against the raw children query."""

from __future__ import annotations

import sqlite3
import statistics
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import psycopg
from fastapi.testclient import TestClient

from benchmarks.common import (
    SQLITE,
    Database,
    Table,
    fresh_database,
    milliseconds,
    percentile,
    ratio,
    samples,
)
from lianfang.api.app import create_app
from lianfang.areas import codes
from lianfang.auth.choices import Role
from lianfang.auth.schemas import UserCreate
from lianfang.auth.scope import SYSTEM
from lianfang.auth.service import create_user
from lianfang.config import Settings
from lianfang.db.engine import make_sessionmaker, transaction
from lianfang.demo.world import build

TARGETS = (("3206", "city"), ("320623", "county"), ("320623001", "town"))
REQUESTS = 200
WARMUP = 10
USERNAME = "bench_commander"
PASSWORD = "bench-password-0001"
CHILDREN_SQL = "SELECT code, name FROM area WHERE parent_code = {}"
Query = Callable[[str], list[tuple[Any, ...]]]


class Reply(Protocol):
    """What the benchmark reads of a test client's response (httpx or httpx2)."""

    @property
    def status_code(self) -> int:
        """The HTTP status."""

    @property
    def text(self) -> str:
        """The body as text."""

    def json(self) -> Any:
        """The body parsed as JSON."""


def build_world(database: Database) -> None:
    """Build the Nantong demo world (seed 1) and a city commander for Nantong."""
    commander = UserCreate(
        username=USERNAME,
        display_name="Benchmark commander",
        role=Role.city_commander,
        area_code="3206",
        password=PASSWORD,
    )
    with transaction(make_sessionmaker(database.engine)) as session:
        build(session=session, actor=SYSTEM, seed=1)
        create_user(session=session, actor=SYSTEM, user_in=commander)


def sign_in(client: TestClient) -> dict[str, str]:
    """The Authorization header of a fresh bearer token for the commander."""
    response = client.post("/api/auth/token", json={"username": USERNAME, "password": PASSWORD})
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def checked_get(client: TestClient, path: str, headers: dict[str, str]) -> Reply:
    """GET a path and insist on 200 OK."""
    response = client.get(path, headers=headers)
    if response.status_code != 200:
        raise RuntimeError(f"GET {path}: {response.status_code} {response.text[:200]}")
    return response


@contextmanager
def raw_query(database: Database) -> Iterator[Query]:
    """The children query run straight through the back end's driver on one connection."""
    if database.backend == SQLITE:
        connection = sqlite3.connect(database.driver_target)
        try:
            yield lambda parent: connection.execute(CHILDREN_SQL.format("?"), (parent,)).fetchall()
        finally:
            connection.close()
    else:
        with psycopg.connect(database.driver_target, autocommit=True) as pg:
            yield lambda parent: pg.execute(CHILDREN_SQL.format("%s"), (parent,)).fetchall()


@dataclass(frozen=True)
class Probes:
    """The two ways of asking for children: the signed-in API client and the raw driver."""

    client: TestClient
    headers: dict[str, str]
    raw: Query

    def api(self, code: str) -> Callable[[], Reply]:
        """A call that GETs the area's children through the API."""
        path = f"/api/areas/{code}/children"
        return lambda: checked_get(self.client, path, self.headers)


def measure_area(table: Table, backend: str, probes: Probes, code: str, label: str) -> None:
    """Time one area's children through the API and through the driver; add the row."""
    api, parent = probes.api(code), codes.normalise(code)
    found = len(api().json())
    if len(probes.raw(parent)) != found:
        raise RuntimeError(f"{code}: the API and the raw query disagree on the children")
    ours = samples(api, REQUESTS, WARMUP)
    reference = statistics.median(samples(lambda: probes.raw(parent), REQUESTS, WARMUP))
    p50 = statistics.median(ours)
    table.add(
        backend,
        f"{code} ({label})",
        str(found),
        milliseconds(p50),
        milliseconds(percentile(ours, 95)),
        milliseconds(max(ours)),
        milliseconds(reference),
        ratio(p50, reference),
    )


def measure_backend(table: Table, database: Database) -> None:
    """Build the world on the database and time the children of every target area."""
    build_world(database)
    app = create_app(Settings(database_url=database.url), database.engine)
    with TestClient(app) as client, raw_query(database) as raw:
        probes = Probes(client=client, headers=sign_in(client), raw=raw)
        for code, label in TARGETS:
            measure_area(table, database.backend, probes, code, label)


def make_table() -> Table:
    """The empty results table, with notes on what each figure covers."""
    return Table(
        title="GET /api/areas/{code}/children latency (Nantong demo world)",
        widths=[10, 16],
        columns=[
            "Back end",
            "Area",
            "Children",
            "p50 (ms)",
            "p95 (ms)",
            "max (ms)",
            "Raw SQL p50 (ms)",
            "Ratio (p50)",
        ],
        notes=[
            "lianfang: the Nantong demo world (`lianfang.demo.world.build`, seed 1) in a fresh "
            "database; a city commander for 3206 signs in with `POST /api/auth/token`; then "
            f"{REQUESTS} timed GETs per area (after {WARMUP} untimed) with the bearer token "
            "through `fastapi.testclient.TestClient(create_app(settings, engine))`: the whole "
            "ASGI stack in process (routing, token lookup, scope check, the area, its "
            "children, counts and population queries, JSON), but no network socket.",
            "Raw SQL: `SELECT code, name FROM area WHERE parent_code = ?` through `sqlite3` or "
            f"psycopg 3 (autocommit) on one open connection, {REQUESTS} timed after "
            f"{WARMUP} untimed; median shown.",
            "Ratio = lianfang p50 / raw SQL p50.",
        ],
    )


def run() -> Table:
    """Time the children endpoint on every back end, next to the raw query."""
    table = make_table()
    table.start()
    for backend in table.backends():
        with fresh_database(backend) as database:
            measure_backend(table, database)
    return table
