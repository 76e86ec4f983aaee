import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from lianfang.db import engine as engine_module
from lianfang.db.engine import (
    POOL_SIZE,
    begin_write,
    make_engine,
    make_sessionmaker,
    normalise_url,
    transaction,
)
from lianfang.errors import DatabaseUnavailableError, InvalidInputError


def test_plain_postgresql_urls_use_psycopg3() -> None:
    assert normalise_url("postgresql://u@h/db").drivername == "postgresql+psycopg"


@pytest.mark.parametrize("url", ["mysql://u@h/db", "not a url"])
def test_unsupported_urls_are_refused(url: str) -> None:
    with pytest.raises(InvalidInputError):
        normalise_url(url)


def test_an_unreachable_server_is_named_without_its_password() -> None:
    with pytest.raises(DatabaseUnavailableError) as caught:
        make_engine("postgresql://someone:secret@127.0.0.1:1/nothing")
    assert "127.0.0.1:1" in caught.value.en
    assert "secret" not in caught.value.en


def _counter(tmp_path: Path) -> sessionmaker[Session]:
    engine = make_engine(f"sqlite:///{tmp_path / 'lock.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE tally (n INTEGER)"))
        connection.execute(text("INSERT INTO tally VALUES (0)"))
    return make_sessionmaker(engine)


def _bump(session: Session) -> None:
    session.execute(text("UPDATE tally SET n = n + 1"))


def test_a_reader_that_then_writes_is_not_refused_after_another_commit(tmp_path: Path) -> None:
    """A deferred transaction upgraded after another writer committed fails at once with
    "database is locked" (SQLITE_BUSY_SNAPSHOT); begin_write starts a writer instead."""
    factory = _counter(tmp_path)
    with factory() as reader, factory() as other:
        reader.execute(text("SELECT n FROM tally")).scalar_one()
        with transaction(factory) as writer:
            _bump(writer)
        with pytest.raises(OperationalError, match="locked"):
            _bump(reader)  # the old way: read, then write in the same deferred transaction
        reader.rollback()
        reader.execute(text("SELECT n FROM tally")).scalar_one()
        begin_write(reader)
        _bump(reader)
        reader.commit()
        assert other.execute(text("SELECT n FROM tally")).scalar_one() == 2


def test_a_writer_waits_for_the_lock_instead_of_failing(tmp_path: Path) -> None:
    factory = _counter(tmp_path)
    holding = threading.Event()
    outcome: list[object] = []

    def second() -> None:
        holding.wait()
        try:
            with transaction(factory) as session:
                _bump(session)
            outcome.append("written")
        except OperationalError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=second)
    thread.start()
    with transaction(factory) as first:  # BEGIN IMMEDIATE: the lock is held from here
        _bump(first)
        holding.set()
        thread.join(timeout=0.3)  # the second writer is waiting, not failed
        assert outcome == []
    thread.join(timeout=10)
    assert outcome == ["written"]
    with factory() as session:
        assert session.execute(text("SELECT n FROM tally")).scalar_one() == 2


def test_reads_do_not_take_the_write_lock(tmp_path: Path) -> None:
    factory = _counter(tmp_path)
    with transaction(factory) as writer, factory() as reader:
        _bump(writer)
        assert reader.execute(text("SELECT n FROM tally")).scalar_one() == 0


def test_pool_size_and_time_out_follow_the_settings(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'pool.db'}"
    assert make_engine(url).pool.size() == POOL_SIZE["sqlite"]  # type: ignore[attr-defined]
    small = make_engine(url, pool_size=2, pool_timeout_s=0.1)
    assert small.pool.size() == 2  # type: ignore[attr-defined]
    with small.connect(), small.connect(), pytest.raises(PoolTimeout):
        small.connect()


def test_a_connection_the_server_dropped_while_idle_is_replaced(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no server to drop a connection")
    own = make_engine(engine.url.render_as_string(hide_password=False), pool_size=1)

    def drop_the_pooled_connection() -> int:
        with own.connect() as connection:
            pid: int = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with engine.connect() as admin:  # as a server restart or an idle time-out would
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            admin.commit()
        return pid

    try:
        drop_the_pooled_connection()
        monkeypatch.setattr(engine_module, "PING_AFTER_S", 3600.0)  # just used: not tried
        with pytest.raises(OperationalError), own.connect() as connection:
            connection.execute(text("SELECT 1"))
        pid = drop_the_pooled_connection()
        monkeypatch.setattr(engine_module, "PING_AFTER_S", 0.0)  # idle long enough: tried
        with own.connect() as connection:  # found dropped and replaced: no error
            assert connection.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid
    finally:
        own.dispose()
