"""Medical resources at province scale: the reserve of all of Jiangsu (balance, days of supply,
target, shortfall and nearest source for every facility and item) with a year of Nantong's
daily ledger behind it, against one hand-written SQL query on the raw driver; and one issue
under 20 concurrent clerks on PostgreSQL, against a bare conditional UPDATE + INSERT.

The world is synthetic at the demo's density (what ``lianfang.demo.resources`` plans for
Nantong) on Jiangsu's shipped divisions: per county two hospitals, a nursing home and a
warehouse; per town or street a health centre and two pharmacies; per village a clinic, placed
around the shipped county centroids. Every facility holds every item of the catalogue; each of
Nantong's facilities has a year of daily issues and weekly receipts of every item in the
ledger (≈ 10 M lines), written by ``db.bulk.insert_columns`` (COPY on PostgreSQL). The ledger's
columns are cached in benchmarks/.cache/ (so both back ends load the same lines), and so is the
SQLite world (a 10 M-line SQLite load takes minutes); PostgreSQL's world is made anew each run.
"""

from __future__ import annotations

import hashlib
import math
import multiprocessing
import os
import shutil
import sqlite3
import statistics
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from time import perf_counter
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from benchmarks import targets
from benchmarks.common import (
    POSTGRES,
    SQLITE,
    Database,
    Table,
    fresh_database,
    milliseconds,
    percentile,
    ratio,
    skip_reason,
)
from benchmarks.machine import ROOT
from lianfang import timeutil
from lianfang.areas import codes
from lianfang.areas.choices import AreaLevel, PopulationSource
from lianfang.areas.loading import load_directory
from lianfang.areas.models import Area, AreaPopulation
from lianfang.auth.scope import SYSTEM
from lianfang.columns import Coded, objects
from lianfang.db.bulk import insert_columns
from lianfang.db.engine import make_engine, make_sessionmaker, transaction
from lianfang.errors import ConflictError
from lianfang.resources import ledger, reserve
from lianfang.resources.choices import FacilityType, MovementKind
from lianfang.resources.models import Facility, Item, StockBalance, StockMovement

SEED = 20230105
PROVINCE, CITY = "32", "3206"
DAYS, RECEIPT_EVERY, OPENING, USE_MEAN = 365, 7, 1_000, 3.0
RUNS = 5
CLERKS, ISSUES_PER_CLERK, HOT_PAIRS, LAST_UNITS = 20, 50, 10, 40
THINK_S = 1.0
"""A clerk's mean pause between two issues (exponential): 20 clerks issue about 20 times a
second in all, more than Nantong's ≈ 2,300 facilities at the peak's pace (200 kits a day each
over ten hours is about 13 a second)."""
CACHE = ROOT / "benchmarks" / ".cache"
WORLD_SOURCES = ("benchmarks/resources.py", "src/lianfang/db/migrations/versions")
RESERVE = "resources.reserve.jiangsu"
ISSUE = "resources.issue.p95"
COLUMNS = ["Back end", "What", "lianfang", "Raw driver", "lianfang / raw", "Target", "Checked"]
BANDS = (0.14, 0.60, 0.08, 0.13, 0.05)  # residents by age band: 0–14, 15–59, 60–64, 65–79, 80+

RAW_RESERVE = """
SELECT b.facility_id, b.item_id, b.balance,
       CASE WHEN u.used > 0 THEN b.balance / (u.used / {window}.0) END AS days
FROM stock_balance b
LEFT JOIN (
    SELECT facility_id, item_id, -sum(quantity) AS used FROM (
        SELECT facility_id, item_id, quantity FROM stock_movement
        WHERE moved_at >= {since} AND area_code BETWEEN {low} AND {high} AND kind = 'issue'
        UNION ALL
        SELECT m.facility_id, m.item_id, m.quantity
        FROM stock_movement m JOIN stock_movement o ON o.id = m.reverses_id
        WHERE m.moved_at >= {since} AND m.area_code BETWEEN {low} AND {high}
          AND m.kind = 'correction' AND o.kind = 'issue'
    ) lines GROUP BY facility_id, item_id
) u ON u.facility_id = b.facility_id AND u.item_id = b.item_id
WHERE b.area_code BETWEEN {low} AND {high}
"""
RAW_TAKE = (
    "UPDATE stock_balance SET balance = balance - %s, moved_at = %s "
    "WHERE facility_id = %s AND item_id = %s AND balance >= %s RETURNING balance"
)
RAW_LINE = (
    "INSERT INTO stock_movement (facility_id, item_id, area_code, kind, quantity, balance_after, "
    "ward, note, moved_at, username, created_at) "
    "VALUES (%s, %s, %s, 'issue', %s, %s, '门诊', '', %s, 'raw', %s)"
)


def reserve_limit() -> float:
    return targets.limit(RESERVE)


def issue_limit() -> float:
    return targets.limit(ISSUE)


# --- the world --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """One synthetic facility."""

    code: str
    name: str
    type: FacilityType
    area: str
    lon: float
    lat: float


def places(session: Session, rng: np.random.Generator) -> list[Place]:
    """Jiangsu's facilities at the demo's density, placed around the county centroids."""
    rows = session.execute(
        select(Area.code, Area.name, Area.level, Area.lon, Area.lat)
        .where(codes.in_subtree(Area.code, PROVINCE))
        .order_by(Area.code)
    ).all()
    at: dict[str, tuple[float, float]] = {}
    out: list[Place] = []
    for code, name, level, lon, lat in rows:
        short = codes.short(code)
        parent = codes.parent_of(code)
        base = at.get(parent or "", (119.5, 32.9))
        if level in (AreaLevel.province, AreaLevel.city, AreaLevel.county):
            at[code] = (lon, lat) if lon is not None and lat is not None else base
        elif level is AreaLevel.town:
            at[code] = (base[0] + rng.normal(0, 0.08), base[1] + rng.normal(0, 0.08))
        else:
            at[code] = (base[0] + rng.normal(0, 0.02), base[1] + rng.normal(0, 0.02))
        x, y = at[code]
        if level is AreaLevel.county:
            out += [
                Place(f"H2-{short}-RM", f"{name}人民医院", FacilityType.secondary_hospital, code,
                      x + 0.008, y + 0.004),
                Place(f"H2-{short}-ZY", f"{name}中医院", FacilityType.secondary_hospital, code,
                      x + 0.008, y - 0.004),
                Place(f"NH-{short}", f"{name}社会福利中心", FacilityType.nursing_home, code,
                      x - 0.01, y + 0.01),
                Place(f"WH-{short}", f"{name}医药储备库", FacilityType.warehouse, code,
                      x + 0.02, y - 0.015),
            ]  # fmt: skip
        elif level is AreaLevel.town:
            street = name.endswith("街道")
            kind = FacilityType.community_centre if street else FacilityType.township_centre
            suffix = "社区卫生服务中心" if street else "卫生院"
            out.append(Place(f"TC-{short}", f"{name}{suffix}", kind, code, x, y))
            for n in (1, 2):
                out.append(Place(f"PH-{short}-{n}", f"{name}百姓大药房{n}店", FacilityType.pharmacy,
                                 code, x + rng.uniform(-0.02, 0.02),
                                 y + rng.uniform(-0.02, 0.02)))  # fmt: skip
        elif level is AreaLevel.village:
            out.append(Place(f"VC-{code}", f"{name}卫生室", FacilityType.village_clinic, code,
                             x + 0.002, y + 0.002))  # fmt: skip
    return out


@dataclass(frozen=True)
class Ledger:
    """A year of one line a day per (facility, item) pair, and a receipt a week: the columns
    of the lines, day by day, and each pair's balance after the last."""

    pairs: npt.NDArray[np.int64]  # (n, 2): facility id, item id
    pair: npt.NDArray[np.intp]  # each line's pair
    moment: npt.NDArray[np.intp]  # each line's moment: 2 × day (receipt) or 2 × day + 1 (issue)
    quantity: npt.NDArray[np.int64]
    after: npt.NDArray[np.int64]

    @property
    def final(self) -> npt.NDArray[np.int64]:
        moved = np.bincount(self.pair, weights=self.quantity, minlength=len(self.pairs))
        return OPENING + moved.astype(np.int64)


def make_ledger(pairs: npt.NDArray[np.int64], seed: int) -> Ledger:
    """Daily issues (1 + Poisson(3)) and weekly receipts of the next week's issues, from an
    opening balance, for every pair; laid out day by day as a ledger is appended."""
    rng = np.random.default_rng([seed, 14])
    n = len(pairs)
    issues = 1 + rng.poisson(USE_MEAN, size=(n, DAYS))
    receipts = np.zeros((n, DAYS), dtype=np.int64)
    for day in range(0, DAYS, RECEIPT_EVERY):
        receipts[:, day] = issues[:, day : day + RECEIPT_EVERY].sum(axis=1)
    deltas = np.stack((receipts, -issues), axis=2).reshape(n, 2 * DAYS)
    after = OPENING + np.cumsum(deltas, axis=1)
    keep = deltas != 0  # no line for a day without a receipt
    by_moment = np.nonzero(keep.T)  # moment-major: day by day, receipts before issues
    moment, pair = by_moment
    return Ledger(
        pairs=pairs,
        pair=pair.astype(np.intp),
        moment=moment.astype(np.intp),
        quantity=deltas.T[by_moment].astype(np.int64),
        after=after.T[by_moment].astype(np.int64),
    )


def cached_ledger(pairs: npt.NDArray[np.int64]) -> Ledger:
    """The ledger of these pairs, from benchmarks/.cache/ when it was made before."""
    digest = hashlib.sha256(pairs.tobytes() + f"{SEED} {DAYS} {OPENING}".encode()).hexdigest()
    path = CACHE / f"resources-ledger-{digest[:12]}.npz"
    if path.exists():
        with np.load(path) as stored:
            return Ledger(**{k: stored[k] for k in Ledger.__dataclass_fields__})
    made = make_ledger(pairs, SEED)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez(
        path.with_suffix(".tmp.npz"), **{k: getattr(made, k) for k in Ledger.__dataclass_fields__}
    )
    path.with_suffix(".tmp.npz").replace(path)
    return made


def build_world(database: Database) -> dict[str, int]:
    """Load Jiangsu, its synthetic facilities, populations, balances and Nantong's year of
    ledger; return what it holds."""
    rng = np.random.default_rng(SEED)
    morning = timeutil.start_of(timeutil.today()) + timedelta(minutes=5)
    factory = make_sessionmaker(database.engine)
    with transaction(factory) as session:
        load_directory(session=session, actor=SYSTEM, within=PROVINCE)
    with transaction(factory) as session:
        plan = places(session, rng)
        villages = [p.area for p in plan if p.type is FacilityType.village_clinic]
        totals = rng.integers(600, 4500, size=len(villages))
        insert_columns(session, AreaPopulation.__table__, {  # type: ignore[arg-type]
            "area_code": villages,
            **{name: [round(t * share) for t in totals.tolist()]
               for name, share in zip(("age_0_14", "age_15_59", "age_60_64", "age_65_79",
                                       "age_80_plus"), BANDS, strict=True)},
            "source": [PopulationSource.synthetic.value] * len(villages),
            "year": [2020] * len(villages), "updated_at": [morning] * len(villages),
        })  # fmt: skip
        n = len(plan)
        insert_columns(session, Facility.__table__, {  # type: ignore[arg-type]
            "code": [p.code for p in plan], "name": [p.name for p in plan],
            "type": [p.type.value for p in plan], "area_code": [p.area for p in plan],
            "lon": [round(p.lon, 6) for p in plan], "lat": [round(p.lat, 6) for p in plan],
            "address": [""] * n, "hours": ["08:00-17:30"] * n, "phone": [""] * n,
            "capabilities": [""] * n, "status": ["open"] * n,
            "created_at": [morning] * n, "updated_at": [morning] * n,
        })  # fmt: skip
        facilities = session.execute(
            select(Facility.id, Facility.area_code).order_by(Facility.id)
        ).all()
        items = session.scalars(select(Item.id).order_by(Item.id)).all()
        area = dict(facilities)
        nantong = np.array(
            [(f, i) for f, a in facilities if a.startswith(CITY) for i in items], dtype=np.int64
        )
        lines = cached_ledger(nantong)
        _write_ledger(session, lines, area, morning)
        final = {
            (int(f), int(i)): int(b) for (f, i), b in zip(lines.pairs, lines.final, strict=True)
        }
        keys = [(f, i) for f, _a in facilities for i in items]
        held = rng.integers(0, 300, size=len(keys))
        hours = rng.uniform(0, 30, size=len(keys))
        insert_columns(session, StockBalance.__table__, {  # type: ignore[arg-type]
            "facility_id": [k[0] for k in keys], "item_id": [k[1] for k in keys],
            "area_code": [area[k[0]] for k in keys],
            "balance": [final.get(k, int(h)) for k, h in zip(keys, held.tolist(), strict=True)],
            "moved_at": Coded(np.minimum(hours.astype(np.intp), 29),
                              objects([morning - timedelta(hours=h) for h in range(30)])),
        })  # fmt: skip
    if database.backend == POSTGRES:
        with psycopg.connect(database.driver_target, autocommit=True) as connection:
            connection.execute("VACUUM ANALYZE")
    return {"facilities": len(plan), "items": len(items), "lines": len(lines.pair)}


def _write_ledger(session: Session, lines: Ledger, area: dict[int, str], morning: datetime) -> None:
    start = morning - timedelta(days=DAYS)
    moments = [
        start + timedelta(days=m // 2, hours=3 if m % 2 == 0 else 5) for m in range(2 * DAYS)
    ]
    pair_area = [area[int(f)] for f in lines.pairs[:, 0]]
    size = len(lines.pair)
    quantities, q_rows = np.unique(lines.quantity, return_inverse=True)
    afters, a_rows = np.unique(lines.after, return_inverse=True)
    when = Coded(lines.moment, objects(moments))
    insert_columns(session, StockMovement.__table__, {  # type: ignore[arg-type]
        "facility_id": Coded(lines.pair, objects(lines.pairs[:, 0].tolist())),
        "item_id": Coded(lines.pair, objects(lines.pairs[:, 1].tolist())),
        "area_code": Coded(lines.pair, objects(pair_area)),
        "kind": Coded(lines.moment % 2, objects([MovementKind.receipt.value,
                                                 MovementKind.issue.value])),
        "quantity": Coded(q_rows.astype(np.intp), objects(quantities.tolist())),
        "balance_after": Coded(a_rows.astype(np.intp), objects(afters.tolist())),
        "ward": Coded.constant("", size), "note": Coded.constant("bench", size),
        "moved_at": when, "username": Coded.constant("bench", size), "created_at": when,
    })  # fmt: skip


def world_key() -> str:
    """A digest of what the world is built from (this module and the migrations)."""
    digest = hashlib.sha256(str(SEED).encode())
    for source in WORLD_SOURCES:
        root = ROOT / source
        for path in sorted(root.rglob("*.py")) if root.is_dir() else [root]:
            digest.update(path.relative_to(ROOT).as_posix().encode() + path.read_bytes())
    return digest.hexdigest()[:12]


@contextmanager
def world(backend: str) -> Iterator[tuple[Database, dict[str, int]]]:
    """A database holding the world: SQLite copied from the cache (built there the first
    time), PostgreSQL built anew."""
    with fresh_database(backend) as database:
        if backend == POSTGRES:
            yield database, build_world(database)
            return
        cached = CACHE / f"resources-world-{world_key()}.db"
        size_file = cached.with_suffix(".json")
        path = Path(database.driver_target)
        database.engine.dispose()
        if not cached.exists():
            made = build_world(database)
            database.engine.dispose()
            CACHE.mkdir(parents=True, exist_ok=True)
            for stale in CACHE.glob("resources-world-*"):
                stale.unlink()
            shutil.copyfile(path, cached)
            size_file.write_text(" ".join(f"{k}={v}" for k, v in made.items()))
        else:
            shutil.copyfile(cached, path)
            made = dict(
                (k, int(v)) for k, v in (p.split("=") for p in size_file.read_text().split())
            )
        yield database, made


# --- the reserve ------------------------------------------------------------------------------


def lianfang_reserve(database: Database) -> tuple[list[float], reserve.Reserve]:
    """Seconds of each of RUNS reads of the reserve of Jiangsu (after one untimed), each in a
    session of its own, and the last read."""
    read: reserve.Reserve | None = None
    times = []
    with database.engine.connect() as connection:
        for run in range(RUNS + 1):
            session = Session(bind=connection)
            start = perf_counter()
            read = reserve.reserve(session=session, actor=SYSTEM, area_code=PROVINCE)
            if run:
                times.append(perf_counter() - start)
            session.close()
    assert read is not None
    return times, read


def raw_reserve(database: Database) -> tuple[list[float], dict[tuple[int, int], tuple]]:
    """Seconds of RUNS runs of the one hand-written query (after one untimed), and its rows."""
    since = timeutil.now() - timedelta(days=reserve.WINDOW_DAYS)
    low, high = PROVINCE.ljust(12, "0"), PROVINCE.ljust(12, "9")
    rows: list[Any] = []
    times = []
    if database.backend == POSTGRES:
        query = RAW_RESERVE.format(window=reserve.WINDOW_DAYS, since="%s", low="%s", high="%s")
        with psycopg.connect(database.driver_target) as connection:
            for run in range(RUNS + 1):
                start = perf_counter()
                rows = connection.execute(query, (since, low, high) * 2 + (low, high)).fetchall()
                if run:
                    times.append(perf_counter() - start)
    else:
        query = RAW_RESERVE.format(window=reserve.WINDOW_DAYS, since="?1", low="?2", high="?3")
        stamp = since.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        connection = sqlite3.connect(database.driver_target)
        try:
            for run in range(RUNS + 1):
                start = perf_counter()
                rows = connection.execute(query, (stamp, low, high)).fetchall()
                if run:
                    times.append(perf_counter() - start)
        finally:
            connection.close()
    return times, {(f, i): (b, d) for f, i, b, d in rows}


def same_figures(read: reserve.Reserve, raw: dict[tuple[int, int], tuple]) -> str:
    """Whether lianfang's balances and days of supply are the raw query's (raises if not)."""
    ours = {(r.facility.id, r.item.id): (r.balance, r.days) for r in read.rows}
    if ours.keys() != raw.keys():
        raise RuntimeError(f"reserve rows differ: {len(ours)} against the raw {len(raw)}")
    for key, (balance, days) in ours.items():
        theirs = raw[key]
        if balance != theirs[0] or (days is None) != (theirs[1] is None):
            raise RuntimeError(f"{key}: lianfang {balance, days}, raw {theirs}")
        if days is not None and not math.isclose(days, float(theirs[1]), rel_tol=1e-9):
            raise RuntimeError(f"{key}: days {days} against the raw {theirs[1]}")
    return f"{len(ours):,} rows equal"


# --- concurrent issues ------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """One clerk's request: how long it took, whether it was taken, at which pair, how much."""

    seconds: float
    taken: bool
    pair: int
    quantity: int


def _pauses(rng: np.random.Generator, think_s: float) -> Iterator[None]:
    """Before each of a clerk's issues: no pause back to back; at work, a random start within
    the first pause, then an exponential pause of mean ``think_s`` between issues."""
    if think_s > 0:
        time.sleep(rng.uniform(0, think_s))
    for n in range(ISSUES_PER_CLERK):
        if n and think_s > 0:
            time.sleep(rng.exponential(think_s))
        yield


def _clerk_lianfang(url: str, pairs: Sequence[tuple[int, int]], clerk: int, think_s: float,
                    barrier: Any, out: Any) -> None:  # fmt: skip
    engine = make_engine(url, pool_size=1)
    factory = make_sessionmaker(engine)
    rng = np.random.default_rng([SEED, clerk])
    answers = []
    barrier.wait()
    for _ in _pauses(rng, think_s):
        pair, quantity = int(rng.integers(len(pairs))), int(rng.integers(1, 4))
        start = perf_counter()
        try:
            with transaction(factory) as session:
                ledger.issue(
                    session=session, actor=SYSTEM, facility_id=pairs[pair][0],
                    item_id=pairs[pair][1], quantity=quantity, ward="门诊",
                )  # fmt: skip
            taken = True
        except ConflictError:
            taken = False
        answers.append(Answer(perf_counter() - start, taken, pair, quantity))
    engine.dispose()
    out.put(answers)


def _clerk_raw(url: str, pairs: Sequence[tuple[int, int, str]], clerk: int, think_s: float,
               barrier: Any, out: Any) -> None:  # fmt: skip
    rng = np.random.default_rng([SEED, clerk])
    answers = []
    with psycopg.connect(url) as connection:
        barrier.wait()
        for _ in _pauses(rng, think_s):
            pair, quantity = int(rng.integers(len(pairs))), int(rng.integers(1, 4))
            facility_id, item_id, area_code = pairs[pair]
            start = perf_counter()
            now = datetime.now(UTC)
            with connection.transaction():
                row = connection.execute(
                    RAW_TAKE, (quantity, now, facility_id, item_id, quantity)
                ).fetchone()
                if row is not None:
                    connection.execute(
                        RAW_LINE, (facility_id, item_id, area_code, -quantity, row[0], now, now)
                    )
            answers.append(Answer(perf_counter() - start, row is not None, pair, quantity))
    out.put(answers)


def _crowd(target: Any, url: str, pairs: Sequence[Any], think_s: float) -> list[Answer]:
    context = multiprocessing.get_context("fork")
    barrier, out = context.Barrier(CLERKS), context.Queue()
    workers = [
        context.Process(target=target, args=(url, pairs, clerk, think_s, barrier, out))
        for clerk in range(CLERKS)
    ]
    for worker in workers:
        worker.start()
    answers: list[Answer] = []
    for _ in workers:
        answers += out.get(timeout=600)
    for worker in workers:
        worker.join(timeout=60)
        if worker.exitcode != 0:
            raise RuntimeError(f"a clerk failed (exit code {worker.exitcode})")
    return answers


def hot_pairs(session: Session) -> list[tuple[int, int, str]]:
    """The pairs the clerks share: ibuprofen at Nantong's first health centres, the last few
    with only a few units left so that clerks race for the last units."""
    item_id = session.scalar(select(Item.id).where(Item.code == "ibuprofen"))
    centres = session.execute(
        select(Facility.id, Facility.area_code)
        .where(
            Facility.type == FacilityType.township_centre,
            codes.in_subtree(Facility.area_code, CITY),
        )
        .order_by(Facility.id)
        .limit(HOT_PAIRS)
    ).all()
    out = [(int(f), int(item_id or 0), a) for f, a in centres]
    for f, i, _a in out[-2:]:
        session.execute(
            StockBalance.__table__.update()
            .where(StockBalance.facility_id == f, StockBalance.item_id == i)
            .values(balance=LAST_UNITS)
        )
    return out


def checked_crowd(database: Database, raw: bool, think_s: float) -> tuple[list[Answer], str]:
    """Run the clerks (through the service, or the bare statements; pausing ``think_s`` on
    average between issues, or back to back at 0) and check that every taken request left
    exactly one line and moved the balance by its quantity."""
    factory = make_sessionmaker(database.engine)
    with transaction(factory) as session:
        pairs = hot_pairs(session)
        last = session.scalar(select(func.max(StockMovement.id))) or 0
        before = _balances(session, pairs)
    database.engine.dispose()  # no pooled connection crosses the fork
    if raw:
        answers = _crowd(_clerk_raw, database.driver_target, pairs, think_s)
    else:
        answers = _crowd(_clerk_lianfang, database.url, [(f, i) for f, i, _a in pairs], think_s)
    with transaction(factory) as session:
        after = _balances(session, pairs)
        lines = {
            (int(f), int(i)): (int(n), int(q))
            for f, i, n, q in session.execute(
                select(StockMovement.facility_id, StockMovement.item_id, func.count(),
                       func.sum(StockMovement.quantity))
                .where(StockMovement.id > last)
                .group_by(StockMovement.facility_id, StockMovement.item_id)
            )
        }  # fmt: skip
    lost = doubled = 0
    for index, (f, i, _a) in enumerate(pairs):
        taken = [a for a in answers if a.taken and a.pair == index]
        count, moved = lines.get((f, i), (0, 0))
        lost += max(0, len(taken) - count)
        doubled += max(0, count - len(taken))
        if moved != after[(f, i)] - before[(f, i)] or -moved != sum(a.quantity for a in taken):
            raise RuntimeError(f"{(f, i)}: lines sum to {moved}, balance moved "
                               f"{after[(f, i)] - before[(f, i)]}")  # fmt: skip
        if after[(f, i)] < 0:
            raise RuntimeError(f"{(f, i)}: balance below zero")
    if lost or doubled:
        raise RuntimeError(f"{lost} movements lost, {doubled} doubled")
    refused = sum(not a.taken for a in answers)
    return answers, f"0 lost, 0 doubled; {len(answers) - refused} taken, {refused} refused"


def _balances(
    session: Session, pairs: Sequence[tuple[int, int, str]]
) -> dict[tuple[int, int], int]:
    return {
        (f, i): int(session.scalar(
            select(StockBalance.balance).where(StockBalance.facility_id == f,
                                               StockBalance.item_id == i)
        ) or 0)
        for f, i, _a in pairs
    }  # fmt: skip


# --- the table --------------------------------------------------------------------------------


def run() -> Table:
    """The reserve of Jiangsu on both back ends, then 20 clerks issuing on PostgreSQL."""
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    table = Table(
        title="The reserve of Jiangsu, and issuing under 20 concurrent clerks",
        columns=COLUMNS,
        notes=[
            "World (not timed): Jiangsu's shipped divisions with synthetic facilities at the "
            "demo's density — per county two hospitals, a nursing home and a warehouse; per "
            "town a health centre and two pharmacies; per village a clinic — placed around the "
            "county centroids, synthetic village populations, a balance of every item at every "
            "facility, and for each of Nantong's facilities a year of daily issues and weekly "
            "receipts of every item (≈ 10 M ledger lines) written by `db.bulk.insert_columns` "
            "(COPY on PostgreSQL); PostgreSQL is vacuumed and analysed after the load.",
            f"Reserve: `resources.reserve.reserve` of Jiangsu (32) — every facility's balance, "
            f"days of supply over the last {reserve.WINDOW_DAYS} days' issues, target, "
            "shortfall, the nearest facility that could transfer and the per-city summary — "
            f"median of {RUNS} reads after one untimed, each in a new session. Raw driver: one "
            "hand-written SQL query (psycopg / sqlite3) for the balances and days of supply "
            "alone, fetched; the two are checked to give the same figures.",
            f"Issue: {CLERKS} clerks, each a process with its own connection, each issuing "
            f"{ISSUES_PER_CLERK} times (1–3 units) at one of {HOT_PAIRS} "
            "(health centre, ibuprofen) pairs they share, two of them holding only "
            f"{LAST_UNITS} units so that clerks race for the last ones. At work (the target): "
            f"each pauses a random time of mean {THINK_S:g} s (exponential) between issues, "
            f"starting at a random moment of the first {THINK_S:g} s — about "
            f"{CLERKS / THINK_S:.0f} issues a second in all, more than all of Nantong's "
            "facilities at the peak's pace (≈ 2,300 facilities issuing 200 kits a day over ten "
            "hours: 13 a second). Back to back (reported, a stress test, not the target): no "
            "pause at all, so that 20 processes on the machine's cores queue for them and the "
            "time measures the queue more than the issue. Each request is one "
            "transaction through `resources.ledger.issue` (checks, balance row lock, "
            "conditional UPDATE, ledger line, audit row in the hash chain), timed from begin "
            "to commit, refusals included. Raw driver: the bare conditional UPDATE … RETURNING "
            "and INSERT of the line in one transaction. Checked after each: per pair, lines "
            "written = requests taken and their sum = the change of the balance.",
            f"Load average when the run began (1 / 5 / 15 min): {load} on {os.cpu_count()} cores.",
        ],
    )
    table.start()
    for backend in (SQLITE, POSTGRES):
        reason = skip_reason(backend)
        if reason is not None:
            table.skip(backend, reason)
            continue
        with world(backend) as (database, made):
            ours, read = lianfang_reserve(database)
            theirs, raw = raw_reserve(database)
            checked = same_figures(read, raw)
            median, reference = statistics.median(ours), statistics.median(theirs)
            if backend == POSTGRES:
                table.figure(RESERVE, median, reference)
            table.add(backend, f"reserve of Jiangsu: {made['facilities']:,} facilities × "
                      f"{made['items']} items, {made['lines']:,} ledger lines",
                      f"{median:.2f} s", f"{reference:.2f} s", ratio(median, reference),
                      f"≤ {reserve_limit():g} s" if backend == POSTGRES else "(reported)",
                      checked)  # fmt: skip
            if backend != POSTGRES:
                continue
            for think_s, how in ((THINK_S, "at work"), (0.0, "back to back")):
                answers, verdict = checked_crowd(database, raw=False, think_s=think_s)
                bare, bare_verdict = checked_crowd(database, raw=True, think_s=think_s)
                p95 = percentile([a.seconds for a in answers], 95)
                bare95 = percentile([a.seconds for a in bare], 95)
                if think_s:
                    table.figure(ISSUE, p95 * 1000, bare95 * 1000)
                median_ms = milliseconds(statistics.median(a.seconds for a in answers))
                table.add(backend, f"one issue, {CLERKS} clerks {how}, p95 (median "
                          f"{median_ms} ms)", f"{milliseconds(p95)} ms",
                          f"{milliseconds(bare95)} ms", ratio(p95, bare95),
                          f"≤ {issue_limit():g} ms" if think_s else "(reported)",
                          f"{verdict} (raw: {bare_verdict})")  # fmt: skip
    return table
