"""A directive cascaded to every village of Jiangsu, and its roll-up, against the raw driver.

The world: all of Jiangsu's divisions (21,958 villages) and one owner per county, town and
village (as a province-wide deployment would have), in a fresh database per back end.
"""

from __future__ import annotations

import sqlite3
import statistics
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from time import perf_counter
from typing import Any

import numpy as np
import psycopg
from sqlalchemy import select, update

from benchmarks.common import (
    SQLITE,
    Database,
    Table,
    fresh_database,
    milliseconds,
    percentile,
    ratio,
)
from lianfang import timeutil
from lianfang.areas import codes
from lianfang.areas.choices import AreaLevel
from lianfang.areas.loading import load_directory
from lianfang.areas.models import Area
from lianfang.auth.models import User
from lianfang.auth.scope import SYSTEM
from lianfang.db.bulk import insert_columns
from lianfang.db.engine import make_sessionmaker, transaction
from lianfang.dispatch import rollup, service
from lianfang.dispatch.choices import TaskStatus
from lianfang.dispatch.models import Task

PROVINCE = "32"
VILLAGES = 21_958
CASCADES = 3
READS = 30
NODES = (("province", PROVINCE), ("city", "3206"), ("county", "320623"))
OWNER_ROLES = {
    AreaLevel.county: "district_operator",
    AreaLevel.town: "town_operator",
    AreaLevel.village: "village_worker",
}
COLUMNS = (
    "id, directive_id, parent_id, area_code, level, leaf, owner_id, deadline, status, "
    "reminders, created_at, updated_at"
)
SQLITE_INSERT = f"INSERT INTO task ({COLUMNS}) VALUES ({', '.join('?' * 12)})"
POSTGRES_COPY = f"COPY task ({COLUMNS}) FROM STDIN"
Row = tuple[Any, ...]


def build_world(database: Database) -> int:
    """Load Jiangsu and one owner per county, town and village; return how many owners."""
    factory = make_sessionmaker(database.engine)
    with transaction(factory) as session:
        load_directory(session=session, actor=SYSTEM, within=PROVINCE)
        areas = session.execute(
            select(Area.code, Area.level).where(Area.level.in_(list(OWNER_ROLES)))
        ).all()
        n = len(areas)
        insert_columns(session, User.__table__, {  # type: ignore[arg-type]
            "username": [f"owner{code}" for code, _ in areas],
            "display_name": [f"负责人{code}" for code, _ in areas],
            "role": [OWNER_ROLES[level] for _, level in areas],
            "area_code": [code for code, _ in areas],
            "password_hash": ["!"] * n,  # no password: nobody signs in as them here
            "active": [True] * n,
            "created_at": [timeutil.now()] * n,
        })  # fmt: skip
    return n


def cascade(database: Database, deadline: date) -> tuple[float, int]:
    """Seconds to issue one directive from the province to every village, and its id."""
    factory = make_sessionmaker(database.engine)
    start = perf_counter()
    with transaction(factory) as session:
        directive = service.issue(
            session=session, actor=SYSTEM,
            data=service.DirectiveInput(
                area=PROVINCE, title="重点人群健康服务全覆盖", text="各村逐户摸排，建立台账。",
                to_level=AreaLevel.village, deadline=deadline,
            ),
        )  # fmt: skip
        directive_id = directive.id
    elapsed = perf_counter() - start
    with factory() as session:
        leaves = session.scalar(
            select(Task.id)
            .where(Task.directive_id == directive_id, Task.leaf)
            .order_by(Task.id.desc())
            .limit(1)
        )
        count = len(
            session.scalars(
                select(Task.id).where(Task.directive_id == directive_id, Task.leaf)
            ).all()
        )
    if leaves is None or count != VILLAGES:
        raise RuntimeError(f"the cascade made {count} village tasks, not {VILLAGES}")
    return elapsed, directive_id


def progress(database: Database, directive_id: int, seed: int = 5) -> dict[str, int]:
    """Move the villages' tasks along as a week of work would: done, verified, in progress,
    late (an earlier deadline), the rest not started; return how many of each."""
    rng = np.random.default_rng(seed)
    factory = make_sessionmaker(database.engine)
    with transaction(factory) as session:
        ids = session.scalars(
            select(Task.id).where(Task.directive_id == directive_id, Task.leaf).order_by(Task.id)
        ).all()
        draw = rng.choice(5, size=len(ids), p=[0.35, 0.15, 0.2, 0.1, 0.2])
        moves = {
            "done": (TaskStatus.done, None),
            "verified": (TaskStatus.verified, None),
            "in_progress": (TaskStatus.in_progress, None),
            "late": (TaskStatus.accepted, timeutil.today() - timedelta(days=2)),
        }
        counts: dict[str, int] = {}
        for index, (name, (status, deadline)) in enumerate(moves.items()):
            chosen = [ids[i] for i in np.flatnonzero(draw == index)]
            counts[name] = len(chosen)
            values: dict[str, Any] = {"status": status}
            if deadline is not None:
                values["deadline"] = deadline
            for start in range(0, len(chosen), 5000):
                session.execute(
                    update(Task).where(Task.id.in_(chosen[start : start + 5000])).values(**values)
                )
        counts["not_started"] = int((draw == 4).sum())
    return counts


def reference_rows(database: Database, directive_id: int) -> list[Row]:
    """The task rows lianfang stored for the directive, ids and all, as the raw driver will
    insert them again (under a new directive)."""
    factory = make_sessionmaker(database.engine)
    with factory() as session:
        found = session.execute(
            select(Task.id, Task.parent_id, Task.area_code, Task.level, Task.leaf, Task.owner_id,
                   Task.deadline).where(Task.directive_id == directive_id).order_by(Task.id)
        ).all()  # fmt: skip
    return [tuple(row) for row in found]


def raw_cascade(database: Database, template: list[Row]) -> float:
    """Seconds for the raw driver to insert a directive and the same task rows (new ids)."""
    now = timeutil.now()
    with make_sessionmaker(database.engine)() as session:
        top = int(session.scalar(select(Task.id).order_by(Task.id.desc()).limit(1)) or 0)
    shift = top + 1 - template[0][0]
    if database.backend == SQLITE:
        return _sqlite_cascade(database, template, shift, now)
    return _postgres_cascade(database, template, shift, now)


def _rows(
    template: list[Row], shift: int, directive_id: int, now: Any, stamp: Callable[[Any], Any]
) -> list[Row]:
    return [
        (tid + shift, directive_id, parent + shift if parent else None, area, level.value, leaf,
         owner, deadline, (TaskStatus.new if leaf else TaskStatus.divided).value, 0, stamp(now),
         stamp(now))
        for tid, parent, area, level, leaf, owner, deadline in template
    ]  # fmt: skip


DIRECTIVE_SQL = (
    "INSERT INTO directive (area_code, level, to_level, title, text, targets, departments, "
    "deadline, issued_by_name, created_at) VALUES ({p}) RETURNING id"
)


def _sqlite_cascade(database: Database, template: list[Row], shift: int, now: datetime) -> float:
    connection = sqlite3.connect(database.driver_target)
    try:
        connection.execute("PRAGMA foreign_keys=ON")
        stamp = now.strftime("%Y-%m-%d %H:%M:%S.%f")
        start = perf_counter()
        with connection:
            directive_id = connection.execute(
                DIRECTIVE_SQL.format(p=", ".join("?" * 10)),
                ("320000000000", "province", "village", "raw", "", "320000000000", "",
                 template[0][6].isoformat(), "raw", stamp),
            ).fetchone()[0]  # fmt: skip
            rows = _rows(template, shift, directive_id, now, lambda _: stamp)
            rows = [(*r[:7], r[7].isoformat(), *r[8:]) for r in rows]
            connection.executemany(SQLITE_INSERT, rows)
        return perf_counter() - start
    finally:
        connection.close()


def _postgres_cascade(database: Database, template: list[Row], shift: int, now: datetime) -> float:
    with psycopg.connect(database.driver_target) as connection:
        start = perf_counter()
        directive_id = connection.execute(
            DIRECTIVE_SQL.format(p=", ".join(["%s"] * 10)),
            ("320000000000", "province", "village", "raw", "", "320000000000", "",
             template[0][6], "raw", now),
        ).fetchone()[0]  # type: ignore[index]  # fmt: skip
        with connection.cursor() as cursor, cursor.copy(POSTGRES_COPY) as copy:
            for row in _rows(template, shift, directive_id, now, lambda t: t):
                copy.write_row(row)
        connection.commit()
        return perf_counter() - start


def ours_rollup(database: Database, directive_id: int, node: str) -> list[float]:
    """Seconds of each of READS roll-ups of the directive under the node, one session each."""
    factory = make_sessionmaker(database.engine)

    def once() -> None:
        with factory() as session:
            rollup.rollup(session=session, actor=SYSTEM, directive_id=directive_id, area=node)

    return _samples(once)


def raw_rollup(database: Database, directive_id: int, node: str) -> list[float]:
    """The same figures by one hand-written GROUP BY per read (the child areas' counts)."""
    prefix = codes.short(codes.normalise(node))
    width = codes.LEVEL_LENGTHS[codes.level_of(codes.normalise(node)).child]  # type: ignore[index]
    today = timeutil.today()
    sql = (
        "SELECT substr(area_code, 1, {w}) AS k, count(*), "
        "sum(CASE WHEN status IN ('done', 'verified') THEN 1 ELSE 0 END), "
        "sum(CASE WHEN status IN ('new', 'accepted', 'in_progress') "
        "AND deadline < {p} THEN 1 ELSE 0 END), "
        "sum(CASE WHEN status = 'new' AND deadline >= {p} THEN 1 ELSE 0 END) "
        "FROM task WHERE directive_id = {p} AND leaf AND area_code >= {p} AND area_code < {p} "
        "GROUP BY k"
    )
    low, high = prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)
    if database.backend == SQLITE:
        connection = sqlite3.connect(database.driver_target)
        query = sql.format(w=width, p="?")
        args: Sequence[Any] = (today.isoformat(), today.isoformat(), directive_id, low, high)
        try:
            return _samples(lambda: connection.execute(query, args).fetchall())
        finally:
            connection.close()
    with psycopg.connect(database.driver_target) as pg:
        query = sql.format(w=width, p="%s")
        args = (today, today, directive_id, low, high)
        return _samples(lambda: pg.execute(query, args).fetchall())


def _samples(action: Callable[[], object]) -> list[float]:
    for _ in range(3):
        action()
    out = []
    for _ in range(READS):
        start = perf_counter()
        action()
        out.append(perf_counter() - start)
    return out


def make_table() -> Table:
    """The empty results table, with notes on what is timed."""
    return Table(
        title="A directive cascaded to all 21,958 villages of Jiangsu, and its roll-up",
        widths=[10, 22],
        columns=["Back end", "What", "lianfang", "Raw driver", "Ratio"],
        notes=[
            "The world: Jiangsu's divisions (13 cities, 104 counties, 1,487 towns, 21,958 "
            "villages) and one owner per county, town and village (23,549 users), in a fresh "
            "migrated database per back end (not timed).",
            "Cascade: `dispatch.service.issue` of one directive from the province to the "
            "village level in one `transaction()` — checking the issuer, the targets, finding "
            "every village and each one's owner, inserting 23,562 tasks level by level (13 "
            "cities, 104 counties, 1,487 towns split, 21,958 village tasks) and the audit row; "
            f"median of {CASCADES} directives. Raw driver: the directive row and the same "
            "23,562 task rows, ids and parents prepared beforehand (not timed), by `sqlite3` "
            "`executemany` / psycopg `COPY`.",
            "Roll-up: the directive's progress per child area (done, late, not started, with "
            "each child's task, owner and status), after a week's work moved the villages' "
            "tasks along (35 % done, 15 % verified, 20 % in progress, 10 % late, 20 % not "
            f"started). `dispatch.rollup.rollup` in a fresh session, {READS} reads after 3 "
            "untimed, median (p95). Raw driver: the one GROUP BY of the child counts on an "
            "open connection — less than lianfang does (no task, owner or area names).",
            "Ratio = lianfang / raw driver.",
        ],
    )


def run() -> Table:
    """Time the cascade and the roll-ups on every back end, next to the raw driver."""
    table = make_table()
    table.start()
    deadline = timeutil.today() + timedelta(days=7)
    for backend in table.backends():
        with fresh_database(backend) as database:
            build_world(database)
            runs = [cascade(database, deadline) for _ in range(CASCADES)]
            ours = statistics.median(seconds for seconds, _ in runs)
            directive_id = runs[0][1]
            template = reference_rows(database, directive_id)
            raw = statistics.median(raw_cascade(database, template) for _ in range(CASCADES))
            shown = " / ".join(f"{s:.2f}" for s, _ in runs)
            table.add(
                backend, "cascade (s)", f"{ours:.2f} ({shown})", f"{raw:.3f}", ratio(ours, raw)
            )
            table.figure(f"dispatch.cascade.{_key(backend)}", ours, raw)
            progress(database, directive_id)
            worst, worst_raw = 0.0, 0.0
            for label, node in NODES:
                mine = ours_rollup(database, directive_id, node)
                theirs = raw_rollup(database, directive_id, node)
                median = statistics.median(mine)
                if median > worst:
                    worst, worst_raw = median, statistics.median(theirs)
                table.add(
                    backend,
                    f"roll-up at the {label} (ms)",
                    f"{milliseconds(median)} ({milliseconds(percentile(mine, 95))})",
                    milliseconds(statistics.median(theirs)),
                    ratio(median, statistics.median(theirs)),
                )
            table.figure(f"dispatch.rollup.{_key(backend)}", worst * 1000, worst_raw * 1000)
    return table


def _key(backend: str) -> str:
    return "sqlite" if backend == SQLITE else "postgresql"
