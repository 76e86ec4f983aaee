"""Engines and sessions for SQLite (WAL, foreign keys on) and PostgreSQL (psycopg 3)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError, DisconnectionError, OperationalError
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from lianfang.errors import DatabaseUnavailableError, InvalidInputError
from lianfang.i18n import _


def normalise_url(raw: str) -> URL:
    """Parse a database URL; plain ``postgresql://`` means the psycopg 3 driver."""
    try:
        url = make_url(raw)
    except ArgumentError as exc:
        raise InvalidInputError(_("cannot parse database URL: %(raw)s", raw=raw)) from exc
    if url.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        url = url.set(drivername="postgresql+psycopg")
    if url.drivername not in ("sqlite", "postgresql+psycopg"):
        raise InvalidInputError(
            _(
                "unsupported database '%(drivername)s': use sqlite or postgresql",
                drivername=url.drivername,
            ),
        )
    return url


PAGE_SIZE = 16_384


def _sqlite_pragmas(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin: the module's own
    # implicit BEGIN breaks SAVEPOINTs (nested all-or-nothing steps).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # Pages of 16 KiB instead of 4: a quarter of the pages, WAL frames and write calls for the
    # same rows (a city's people commit in 60% of the time). Takes effect only when the file is
    # created, so it comes before WAL mode; an existing database keeps its page size.
    cursor.execute(f"PRAGMA page_size={PAGE_SIZE}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    # 64 MiB of page cache instead of 2: city-scale imports and roll-ups touch indexes far
    # larger than the default holds.
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


WRITE = "lianfang_write"
"""Execution option marking a connection whose next transaction writes (see ``begin_write``)."""

BUSY_TIMEOUT_MS = 5000
"""How long a SQLite writer waits for the write lock before the request answers 503."""

POOL_SIZE = {"sqlite": 5, "postgresql+psycopg": 7}
"""Connections a process opens at most, per back end, when the settings do not say: one for
the periodic jobs and the rest for requests, each on a thread of its own. Few, because a
process runs Python one thread at a time: 50 users at once on the 2-core benchmark machine
answered with a p99 of 2.9 s for writes with 10 (SQLite) and 4.0 s with 20 (PostgreSQL)
request threads, 1.9 s with 4 and 2.1 s with 6 — the rest of the crowd waits its turn in
order instead of slowing the turns of everyone (see BENCHMARKS.md). PostgreSQL's have more:
there a thread also waits for the server's answers."""


def _sqlite_begin(connection: Connection) -> None:
    # A writer takes the write lock at BEGIN (IMMEDIATE), where SQLite's busy handler waits for
    # it. A deferred transaction that reads and then writes would instead fail at once with
    # "database is locked" (SQLITE_BUSY_SNAPSHOT) when another writer committed in between.
    mode = "BEGIN IMMEDIATE" if connection.get_execution_options().get(WRITE) else "BEGIN"
    connection.exec_driver_sql(mode)


PING_AFTER_S = 10.0
"""A pooled PostgreSQL connection unused this long is tried before a request gets it."""
_IDLE_SINCE = "lianfang_idle_since"


def _ping_when_idle(engine: Engine) -> None:
    """Try a connection that waited in the pool longer than ``PING_AFTER_S`` (``SELECT 1``)
    before handing it out, and replace it when the server has dropped it (a restart, an idle
    time-out): what ``pool_pre_ping`` does, without its round trip for every request of a busy
    server, whose connections go back and forth within milliseconds."""

    def checked_in(dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    def checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        since = record.info.pop(_IDLE_SINCE, None)
        if since is None or time.monotonic() - since < PING_AFTER_S:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:  # the pool connects afresh
            raise DisconnectionError("the pooled connection was dropped") from exc

    event.listen(engine, "checkin", checked_in)
    event.listen(engine, "checkout", checkout)


def _pool_options(url: URL, pool_size: int | None, pool_timeout_s: float) -> dict[str, Any]:
    if url.drivername == "sqlite" and url.database in (None, "", ":memory:"):
        return {}  # one in-memory database per connection: SQLAlchemy's own pool
    return {
        "pool_size": pool_size or POOL_SIZE[url.drivername],
        "max_overflow": 0,  # the pool size is the most connections open at once
        "pool_timeout": pool_timeout_s,
    }


def make_engine(
    raw_url: str, *, pool_size: int | None = None, pool_timeout_s: float = 10.0
) -> Engine:
    """Create an engine and check that the database answers.

    At most ``pool_size`` connections are open at once (default per back end, ``POOL_SIZE``); a
    request that waits longer than ``pool_timeout_s`` for one fails with a pool time-out, which
    the API answers with 503 and Retry-After."""
    url = normalise_url(raw_url)
    kwargs: dict[str, Any] = _pool_options(url, pool_size, pool_timeout_s)
    if url.drivername == "sqlite":
        kwargs["connect_args"] = {"check_same_thread": False}
    else:
        kwargs["connect_args"] = {"connect_timeout": 5}
    # Error messages name the statement but never its values: they end up in logs, and the values
    # are people's ID numbers and phones.
    engine = create_engine(url, hide_parameters=True, **kwargs)
    if url.drivername == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    else:
        _ping_when_idle(engine)
    try:
        with engine.connect():
            pass
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        where = url.render_as_string(hide_password=True)
        raise DatabaseUnavailableError(
            _("cannot reach database %(where)s: %(reason)s", where=where, reason=reason)
        ) from exc
    return engine


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """A session factory whose objects stay readable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def release(session: Session) -> None:
    """End a transaction that only read, giving its connection back to the pool (its objects
    stay loaded): call it before slow work that needs no database, such as a password hash."""
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("release() with unsaved changes: commit them or roll them back")
    if session.in_transaction():
        session.commit()


def begin_write(session: Session) -> None:
    """Make the session's transaction a writer's from its start.

    On SQLite it begins with ``BEGIN IMMEDIATE``: the write lock is taken first, waiting for it
    at most the busy timeout, so the transaction cannot fail half-way with "database is locked".
    A read-only transaction in progress is committed first (its objects stay loaded). Does
    nothing when the transaction already writes; on PostgreSQL it only starts the transaction.
    """
    if session.in_transaction():
        if session.connection().get_execution_options().get(WRITE):
            return
        release(session)
    session.connection(execution_options={WRITE: True})


PLAIN = "lianfang_plain_bind"


def writes(session: Session) -> None:
    """Make the session's next transaction a writer's (``begin_write``) whenever it begins: the
    session of a request that may write, whose work begins in the endpoint. Transactions after
    that one (reading back what was saved) are readers again. A transaction in progress is
    ended first."""
    release(session)
    plain = session.info.setdefault(PLAIN, session.get_bind())
    session.bind = plain.execution_options(**{WRITE: True})


@event.listens_for(Session, "after_transaction_end")
def _one_writer(session: Session, transaction: SessionTransaction) -> None:
    plain = session.info.get(PLAIN)
    if plain is not None and transaction.parent is None and session.bind is not plain:
        session.bind = plain


@contextmanager
def read_apart(session: Session) -> Iterator[None]:
    """A read made before a request's work (who is calling) as a short transaction of its own,
    ended, its connection back in the pool, when the block ends; when the request writes
    (``writes``), it does not take the write lock, and the next transaction still does.

    A request's dependencies and its endpoint run in different threads with a wait for a free
    thread between them: nothing (a connection, SQLite's write lock) may be held across that
    wait, or the requests holding them and the threads waiting for them block one another until
    the pool's or the lock's time-out."""
    plain = session.info.get(PLAIN)
    pending = session.get_bind() if plain is not None and session.bind is not plain else None
    if pending is not None:
        release(session)
        session.bind = plain
    try:
        yield
    finally:
        release(session)
        if pending is not None:
            session.bind = pending


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One all-or-nothing writing unit of work: commit on success, roll back on any error."""
    with factory() as session:
        begin_write(session)
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        session.commit()
