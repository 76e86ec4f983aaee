"""The audit log's hash chain: intact when written by the application, broken where someone with
direct database access changed it (triggers off), on SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from lianfang.auth import audit, chain
from lianfang.auth.choices import AuditAction, Role
from lianfang.auth.models import AuditEvent
from lianfang.auth.scope import SYSTEM, Actor
from lianfang.db.engine import make_engine, make_sessionmaker, transaction
from lianfang.db.migrate import alembic_config, upgrade
from lianfang.errors import PermissionDenied
from tests.cli.test_cli import lianfang
from tests.conftest import bearer
from tests.factories import TOWN, VILLAGE


def write_events(session: Session, count: int) -> list[int]:
    """Events as the application writes them, one at a time; their ids."""
    return [
        audit.record(
            session=session, actor=SYSTEM, action=AuditAction.update, entity_type="person",
            entity_id=str(n), area_code=VILLAGE, detail={"note": f"第{n}次 \"quoted\""},
        ).id
        for n in range(count)
    ]  # fmt: skip


def test_rows_written_one_by_one_and_in_bulk_form_one_intact_chain(session: Session) -> None:
    before = session.scalar(select(func.count()).select_from(AuditEvent))
    ids = write_events(session, 3)
    shared = {"source": "表格", "quote": 'a"b\\c'}
    entries = [
        audit.Entry(AuditAction.create if n % 3 else AuditAction.update, "person",
                    str(n) if n % 5 else f"x-{n}\"", VILLAGE if n % 7 else None,
                    shared if n % 2 else ({"n": n} if n % 4 else None))
        for n in range(1200)
    ]  # fmt: skip
    assert audit.record_many(session=session, actor=SYSTEM, entries=entries) == 1200
    ids += write_events(session, 2)
    verdict = chain.verify(session)
    assert verdict.broken is None
    assert verdict.rows == before + 1205
    last = session.get(AuditEvent, ids[-1])
    assert last is not None
    assert (verdict.last_id, verdict.head) == (last.id, last.hash)
    bulk = session.scalars(select(AuditEvent).where(AuditEvent.id > ids[2]).order_by(AuditEvent.id))
    linked = [ids[2], *[e.id for e in bulk]]
    assert len(linked) == 1203  # the bulk rows lie between, in order


def triggers_off(session: Session) -> None:
    """What someone with the database's keys can do: SQLite — drop the triggers; PostgreSQL —
    replica mode, which skips ordinary triggers (the issue's attack)."""
    if session.connection().dialect.name == "sqlite":
        for name in ("no_update", "no_delete", "no_reused_id"):
            session.execute(text(f"DROP TRIGGER audit_event_{name}"))
    else:
        session.execute(text("SET LOCAL session_replication_role = replica"))


def test_an_update_with_triggers_off_is_found_at_its_row(session: Session) -> None:
    ids = write_events(session, 4)
    with session.begin_nested() as tampering:
        triggers_off(session)
        session.execute(text("UPDATE audit_event SET username = 'nobody' WHERE id = :id"),
                        {"id": ids[1]})  # fmt: skip
        broken = chain.verify(session).broken
        assert broken is not None
        assert broken.row_id == ids[1]
        assert "content does not match its hash" in broken.en
        tampering.rollback()
    assert chain.verify(session).broken is None


def test_a_row_deleted_in_the_middle_is_found_at_the_next_row(session: Session) -> None:
    ids = write_events(session, 4)
    with session.begin_nested() as tampering:
        triggers_off(session)
        session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": ids[1]})
        verdict = chain.verify(session)
        assert verdict.broken is not None
        assert verdict.broken.row_id == ids[2]
        assert f"is not the hash of row {ids[0]}" in verdict.broken.en
        assert verdict.last_id == ids[0]
        tampering.rollback()


def test_the_triggers_refuse_reused_ids_and_truncate(session: Session) -> None:
    ids = write_events(session, 2)
    if session.connection().dialect.name == "sqlite":
        with pytest.raises(DatabaseError, match="id already used"), session.begin_nested():
            session.execute(text(
                "INSERT OR REPLACE INTO audit_event (id, at, username, action, entity_type, "
                "prev_hash, hash) SELECT id, at, 'forged', action, entity_type, prev_hash, hash "
                "FROM audit_event WHERE id = :id"
            ), {"id": ids[0]})  # fmt: skip
    else:
        with pytest.raises(DatabaseError, match="append-only"), session.begin_nested():
            session.execute(text("TRUNCATE audit_event"))
        with pytest.raises(DatabaseError, match="append-only"), session.begin_nested():
            session.execute(text(
                "INSERT INTO audit_event (id, at, username, action, entity_type, prev_hash, hash) "
                "SELECT id, at, 'forged', action, entity_type, prev_hash, hash FROM audit_event "
                "WHERE id = :id ON CONFLICT (id) DO UPDATE SET username = 'forged'"
            ), {"id": ids[0]})  # fmt: skip
    assert session.scalar(select(AuditEvent.username).where(AuditEvent.id == ids[0])) == "system"


def test_only_an_actor_of_every_area_verifies(session: Session) -> None:
    town = Actor(user_id=None, username="town", role=Role.district_operator, area_code=TOWN)
    with pytest.raises(PermissionDenied):
        audit.verify(session=session, actor=town)
    assert audit.verify(session=session, actor=SYSTEM).broken is None


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file at the newest schema holding six events written by the application."""
    path = tmp_path_factory.mktemp("chain") / "audit.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with transaction(make_sessionmaker(engine)) as session:
        write_events(session, 6)
    engine.dispose()
    return path


def tampered(source: Path, tmp_path: Path, *statements: str) -> str:
    """A copy of the file changed through sqlite3 with the triggers dropped; its URL."""
    path = tmp_path / "tampered.db"
    shutil.copy(source, path)
    with sqlite3.connect(path) as connection:
        for name in ("no_update", "no_delete", "no_reused_id"):
            connection.execute(f"DROP TRIGGER audit_event_{name}")
        for statement in statements:
            connection.execute(statement)
    return f"sqlite:///{path}"


def test_the_command_finds_a_real_file_intact(logged: Path) -> None:
    result = lianfang("audit", "verify", db=f"sqlite:///{logged}", env={"LIANFANG_LANGUAGE": "en"})
    assert result.returncode == 0, result.stderr
    assert "intact: 6 rows, last id 6" in result.stdout


def test_insert_or_replace_is_refused_on_a_real_file(logged: Path) -> None:
    with sqlite3.connect(logged) as connection, pytest.raises(sqlite3.DatabaseError, match="id"):
        connection.execute(
            "INSERT OR REPLACE INTO audit_event (id, at, username, action, entity_type, "
            "prev_hash, hash) VALUES (1, '2026-01-01 00:00:00.000000', 'x', 'create', 'person', "
            "'', '')"
        )


@pytest.mark.parametrize(
    ("statements", "row", "says"),
    [
        (["UPDATE audit_event SET detail = NULL WHERE id = 3"], 3, "content does not match"),
        (["DELETE FROM audit_event WHERE id = 3"], 4, "is not the hash of row 2"),
        (["INSERT OR REPLACE INTO audit_event (id, at, user_id, username, action, entity_type, "
          "entity_id, area_code, ip, detail, prev_hash, hash) SELECT 1, at, user_id, 'forged', "
          "action, entity_type, entity_id, area_code, ip, detail, prev_hash, hash "
          "FROM audit_event WHERE id = 1"], 1, "content does not match"),
    ],
    ids=["update", "delete", "insert-or-replace"],
)  # fmt: skip
def test_the_command_names_the_first_broken_link_of_a_tampered_file(
    logged: Path, tmp_path: Path, statements: list[str], row: int, says: str
) -> None:
    url = tampered(logged, tmp_path, *statements)
    result = lianfang("audit", "verify", db=url)
    assert result.returncode == 4, result.stdout + result.stderr
    assert f"row {row}:" in result.stderr
    assert says in result.stderr
    assert "Traceback" not in result.stderr


def test_the_migration_chains_rows_written_before_it(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    command.upgrade(alembic_config(engine), "0007")
    with engine.begin() as connection:
        for n, detail in enumerate(['{"a": "引号\\""}', None, "x"]):
            connection.execute(text(
                "INSERT INTO audit_event (at, user_id, username, action, entity_type, entity_id, "
                "area_code, ip, detail) VALUES (:at, :user, 'old', 'create', 'person', :n, "
                ":area, NULL, :detail)"
            ), {"at": f"2026-11-0{n + 1} 08:00:00.12345{n}", "user": n or None, "n": str(n),
                "area": VILLAGE, "detail": detail})  # fmt: skip
    upgrade(engine)
    with transaction(make_sessionmaker(engine)) as session:
        write_events(session, 1)
        verdict = chain.verify(session)
    assert verdict.broken is None
    assert verdict.rows == 4
    with engine.connect() as connection, pytest.raises(DatabaseError, match="append-only"):
        connection.execute(text("UPDATE audit_event SET username = 'new' WHERE id = 1"))
    engine.dispose()


def test_the_migration_chains_rows_on_postgresql_too(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    url = engine.url.render_as_string(hide_password=False)
    separate = url + ("&" if "?" in url else "?") + "options=-csearch_path%3Dlf_chain_migration"
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS lf_chain_migration CASCADE"))
        connection.execute(text("CREATE SCHEMA lf_chain_migration"))
    other = make_engine(separate)
    try:
        command.upgrade(alembic_config(other), "0007")
        with other.begin() as connection:
            connection.execute(text(
                "INSERT INTO audit_event (at, username, action, entity_type, detail) VALUES "
                "('2026-11-01 08:00:00.5+00', 'old', 'create', 'person', '{\"k\": \"值\"}'), "
                "('2026-11-02 08:00:00+00', 'old', 'update', 'person', NULL)"
            ))  # fmt: skip
        upgrade(other)
        with transaction(make_sessionmaker(other)) as session:
            write_events(session, 1)
            verdict = chain.verify(session)
        assert (verdict.broken, verdict.rows) == (None, 3)
    finally:
        other.dispose()
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA lf_chain_migration CASCADE"))


def test_the_api_reports_the_chain_to_an_administrator(client: TestClient) -> None:
    answer = client.get("/api/audit/verify", headers=bearer(client, Role.admin))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["ok"] is True
    assert body["broken_at"] is None
    assert body["rows"] >= 1
    assert len(body["head"]) == 64
