"""A busy morning on `lianfang serve`: 50 users at once for 60 s on the demo world, on SQLite and
PostgreSQL, mixing pages, API reads and writes (issue 11).

The server is the real command (`python -m lianfang serve`) in a subprocess on loopback; the users
are asyncio tasks, each with its own httpx2 client (its own connections, cookie and token). Every
wait is bounded: the world's build, the server's start, each request, the whole run.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter, sleep

import httpx2
import psycopg
from psycopg import sql

from benchmarks.common import POSTGRES_ADMIN, POSTGRES_SERVER, SQLITE, Table, percentile
from benchmarks.crowd import (
    ACCOUNTS,
    ACTIONS,
    DURATION_S,
    PASSWORD,
    REQUEST_TIMEOUT_S,
    USERS,
    WRITE,
    Endpoint,
    crowd,
)
from benchmarks.machine import ROOT

WORKERS = 1
"""Server processes (`serve --workers`). One: on the 2-core benchmark machine, which also runs
the 50 clients, two worker processes gave more requests a second on SQLite (54 against 42) but
longer tails on both back ends (p99 of writes 3.8 s against 2.1 s on SQLite; on PostgreSQL 32
requests a second against 37, reads' p99 4.5 s), measured 2026-12-06."""
STARTUP_TIMEOUT_S = 60.0
BUILD_TIMEOUT_S = 900.0
STOP_TIMEOUT_S = 15.0
SEED = 20230105
POSTGRES_DB = "lf_bench_load"
CACHE = ROOT / "benchmarks" / ".cache"
WORLD_SOURCES = ("src/lianfang/demo", "src/lianfang/alerts", "src/lianfang/db/migrations/versions")
COLUMNS = ("Back end", "Endpoint", "Kind", "Requests", "Req/s", "p50 (ms)", "p95 (ms)",
           "p99 (ms)", "max (ms)", "Errors")  # fmt: skip


# --- the world and the server ---------------------------------------------------------------


def world_key() -> str:
    """A digest of what the demo world is built from (its code and the migrations) and the seed."""
    digest = hashlib.sha256(f"{SEED} {PASSWORD}".encode())
    for source in WORLD_SOURCES:
        for path in sorted((ROOT / source).rglob("*.py")):
            digest.update(path.relative_to(ROOT).as_posix().encode() + path.read_bytes())
    return digest.hexdigest()[:12]


def lianfang(*args: str) -> list[str]:
    """The command line of `lianfang ARGS` in this interpreter (so PYTHONPATH is honoured)."""
    return [sys.executable, "-m", "lianfang", *args]


def environment() -> dict[str, str]:
    """The environment for lianfang's subprocesses, which run in an empty directory (no stray
    lianfang.toml): this tree's src first on an absolute PYTHONPATH, the demo password, no
    database URL but the one given."""
    env = {k: v for k, v in os.environ.items() if k != "LIANFANG_DATABASE_URL"}
    given = [Path(p).resolve() for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    path = os.pathsep.join(str(p) for p in [ROOT / "src", *given])
    return env | {"PYTHONPATH": path, "LIANFANG_ADMIN_PASSWORD": PASSWORD}


def _run(command: list[str], what: str, directory: Path) -> None:
    """Run a lianfang command in the directory, bounded; fail with its error output."""
    done = subprocess.run(
        command,
        env=environment(),
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed: {done.stderr.strip()[-500:]}")


def jobs_once(url: str, directory: Path) -> None:
    """One pass of the periodic jobs (`lianfang worker --once`), as a server that has been
    running finds the world: the alert rules' first pass opens the stock, bed and follow-up
    alerts of the whole city at once, which a running server did long before."""
    _run(lianfang("worker", "--once", "--db", url), "lianfang worker --once", directory)


def build_world(url: str, directory: Path) -> None:
    """`lianfang demo --no-serve` into the database, then one pass of the periodic jobs
    (``jobs_once``), bounded, run in the directory."""
    _run(lianfang("demo", "--db", url, "--no-serve"), "lianfang demo", directory)
    jobs_once(url, directory)


def sqlite_world() -> Path:
    """The demo world as a SQLite file, built once per world key and kept in the cache."""
    cached = CACHE / f"demo-{world_key()}.db"
    if not cached.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        for stale in CACHE.glob("demo-*.db"):
            stale.unlink()
        building = cached.with_suffix(".building.db")
        building.unlink(missing_ok=True)
        print(f"building the demo world into {cached} (once)", flush=True)
        with tempfile.TemporaryDirectory(prefix="lianfang-build-") as tmp:
            build_world(f"sqlite:///{building}", Path(tmp))
        building.rename(cached)
    return cached


def _admin(statement: sql.Composed) -> None:
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True, connect_timeout=10) as connection:
        connection.execute(statement)


@contextmanager
def database(backend: str, directory: Path) -> Iterator[str]:
    """A fresh copy of the demo world: the cached SQLite file copied, or a new PostgreSQL
    database built (lf_bench_load, dropped afterwards)."""
    if backend == SQLITE:
        copy = directory / "load.db"
        shutil.copyfile(sqlite_world(), copy)
        yield f"sqlite:///{copy}"
        return
    name = sql.Identifier(POSTGRES_DB)
    _admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
    _admin(sql.SQL("CREATE DATABASE {}").format(name))
    try:
        url = f"{POSTGRES_SERVER}/{POSTGRES_DB}"
        print(f"building the demo world into {url}", flush=True)
        build_world(url, directory)
        yield url
    finally:
        _admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))


def free_port() -> int:
    """A port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Server:
    """A running `lianfang serve` and where its output goes."""

    process: subprocess.Popen[bytes]
    base: str
    log: Path

    def errors_logged(self) -> Counter[str]:
        """The exceptions of the tracebacks the server wrote to its log, by type."""
        found: Counter[str] = Counter()
        inside = False
        for line in self.log.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("Traceback (most recent call last)"):
                inside = True
            elif inside and line and not line[0].isspace():
                found[line.split(":")[0]] += 1
                inside = False
        return found


def wait_until_up(server: Server) -> None:
    """Poll the sign-in page until it answers, the process dies or the time-out passes."""
    deadline = perf_counter() + STARTUP_TIMEOUT_S
    while perf_counter() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"lianfang serve exited: {server.log.read_text()[-500:]}")
        try:
            if httpx2.get(f"{server.base}/login", timeout=2).status_code == 200:
                return
        except httpx2.HTTPError:
            pass
        sleep(0.3)
    raise RuntimeError(f"lianfang serve did not answer within {STARTUP_TIMEOUT_S:.0f} s")


@contextmanager
def serving(url: str, directory: Path) -> Iterator[Server]:
    """`lianfang serve` on the database, on a free loopback port; stopped (SIGINT, then kill)
    when done."""
    port = free_port()
    log = directory / "serve.log"
    command = lianfang(
        "serve", "--db", url, "--host", "127.0.0.1", "--port", str(port), "--workers", str(WORKERS)
    )
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            env=environment(),
            cwd=directory,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(process, f"http://127.0.0.1:{port}", log)
    try:
        wait_until_up(server)
        yield server
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_S)


# --- the table ----------------------------------------------------------------------------------


def quantile(seconds: list[float], percent: int) -> float:
    """A percentile, or the only figure when there are fewer than two."""
    return percentile(seconds, percent) if len(seconds) > 1 else max(seconds, default=0.0)


def errors_text(failures: Counter[str]) -> str:
    """'0', or the count and its causes."""
    total = sum(failures.values())
    causes = ", ".join(f"{cause} ×{n}" for cause, n in failures.most_common())
    return f"{total} ({causes})" if total else "0"


def row(backend: str, name: str, kind: str, group: list[Endpoint], elapsed: float) -> list[str]:
    """One row: requests, throughput, percentiles and errors of the endpoints together."""
    seconds = [s for e in group for s in e.seconds]
    failures: Counter[str] = sum((e.failures for e in group), Counter())
    ms = [f"{quantile(seconds, p) * 1000:,.0f}" for p in (50, 95, 99)]
    return [backend, name, kind, f"{len(seconds):,}", f"{len(seconds) / elapsed:.1f}", *ms,
            f"{max(seconds, default=0) * 1000:,.0f}", errors_text(failures)]  # fmt: skip


def add_backend(table: Table, backend: str, stats: dict[str, Endpoint], elapsed: float) -> None:
    """The back end's rows and the figures its targets judge."""
    endpoints = list(stats.values())
    for e in endpoints:
        table.add(*row(backend, f"`{e.name}`", e.kind, [e], elapsed))
    reads = [e for e in endpoints if e.kind != WRITE]
    writes = [e for e in endpoints if e.kind == WRITE]
    for name, group in (("all reads", reads), ("all writes", writes), ("all", endpoints)):
        table.add(*row(backend, f"**{name}**", "—", group, elapsed))
    key = backend.lower()
    table.figure(f"serve.load.{key}.errors", sum(sum(e.failures.values()) for e in endpoints))
    table.figure(f"serve.load.{key}.reads_p99", quantile([s for e in reads for s in e.seconds], 99))
    table.figure(
        f"serve.load.{key}.writes_p99", quantile([s for e in writes for s in e.seconds], 99)
    )


def failure_note(backend: str, stats: dict[str, Endpoint], logged: Counter[str]) -> str | None:
    """What the failures said (the first answer of each cause), and the server's tracebacks."""
    seen = [f"`{e.name}` {cause}" + (f": {said}" if said else "") for e in stats.values()
            for cause, said in e.seen.items()]  # fmt: skip
    if not seen and not logged:
        return None
    exceptions = ", ".join(f"{name} ×{n}" for name, n in logged.most_common()) or "none"
    return (f"{backend}: tracebacks in the server's log: {exceptions}. First answer of each "
            "failure: " + "; ".join(seen) + ".")  # fmt: skip


def make_table() -> Table:
    """The empty table, with notes on the world, the users, the mix and the bounds."""
    mix = ", ".join(f"`{a.name}` {a.weight}" for a in ACTIONS)
    accounts = ", ".join(f"{n} × {a}" for a, n in ACCOUNTS)
    return Table(
        title=f"{USERS} users at once on `lianfang serve` for {DURATION_S:.0f} s (demo world)",
        widths=[10, 38, 8],
        columns=list(COLUMNS),
        notes=[
            "Server: `python -m lianfang serve --db URL --host 127.0.0.1 --port P --workers "
            f"{WORKERS}` in a subprocess, as shipped ({WORKERS} uvicorn process: on this "
            "machine, which also runs the clients, two gave longer tails), on the demo world "
            "(`lianfang demo "
            f"--no-serve`, seed {SEED}, then `lianfang worker --once`: the periodic jobs' first "
            "pass, which a running server made long ago; the SQLite file built once per version "
            "of the demo code "
            "and migrations, cached in benchmarks/.cache/, and copied fresh for each run; on "
            f"PostgreSQL built into a new database `{POSTGRES_DB}`, dropped afterwards).",
            f"Users: {USERS} asyncio tasks in one client process on the same machine, each with "
            "its own httpx2 client (one connection, its session cookie and bearer token), "
            f"signed in one after another before the clock starts: {accounts} (the demo's "
            "accounts; the city commander may not edit people, so its users read and sign in "
            "only). Pages use the cookie, the API the token. Each user sends its next request "
            "as soon as the last one is answered (no think time), choosing at random by weight: "
            f"{mix}. Areas: the account's area and its children; people: up to 500 within it. "
            "Follow-ups carry a fresh client token; edits change the address.",
            f"Bounds: {REQUEST_TIMEOUT_S:.0f} s per request (a time-out is an error, its time "
            f"counted), {DURATION_S:.0f} s of requests started, then the last answers awaited; "
            f"server start ≤ {STARTUP_TIMEOUT_S:.0f} s, world build ≤ {BUILD_TIMEOUT_S:.0f} s.",
            "An error is any answer other than the expected status (200, 201 for a follow-up, "
            "303 never followed) or no answer. Times are from sending to the whole body read, "
            "errors included. Req/s = requests answered ÷ seconds from the start to the last "
            "answer. Reads = pages and API reads.",
            "Targets (issue 11): no errors; p99 ≤ 2 s for reads and for writes, on both back ends.",
        ],
    )


def measure(table: Table, backend: str) -> None:
    """One back end: a fresh world, the server, the crowd; its rows and notes."""
    with tempfile.TemporaryDirectory(prefix="lianfang-load-") as tmp:
        directory = Path(tmp)
        with database(backend, directory) as url, serving(url, directory) as server:
            stats, elapsed = asyncio.run(crowd(server.base))
            logged = server.errors_logged()
    add_backend(table, backend, stats, elapsed)
    note = failure_note(backend, stats, logged)
    if note:
        table.notes.append(note)


def run() -> Table:
    """The crowd on SQLite, then on PostgreSQL."""
    table = make_table()
    table.start()
    for backend in table.backends():
        measure(table, backend)
    return table
