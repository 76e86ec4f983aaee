from datetime import datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, select, text, update
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from lianfang.auth.choices import AuditAction
from lianfang.auth.models import AuditEvent
from lianfang.db.migrate import current_revision, head_revision
from lianfang.db.models import metadata


def test_no_model_change_lacks_a_migration(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_database_is_at_the_newest_revision(engine: Engine) -> None:
    assert current_revision(engine) == head_revision(engine)


def test_the_audit_log_refuses_updates_and_deletes(session: Session) -> None:
    event = AuditEvent(username="x", action=AuditAction.create, entity_type="test")
    session.add(event)
    session.flush()
    with pytest.raises(DatabaseError, match="append-only"), session.begin_nested():
        session.execute(update(AuditEvent).where(AuditEvent.id == event.id).values(username="y"))
    with pytest.raises(DatabaseError, match="append-only"), session.begin_nested():
        session.execute(text("DELETE FROM audit_event"))
    assert session.scalar(select(AuditEvent.username).where(AuditEvent.id == event.id)) == "x"


def test_times_come_back_aware_utc_and_naive_ones_are_refused(session: Session) -> None:
    event = AuditEvent(username="x", action=AuditAction.create, entity_type="test")
    session.add(event)
    session.flush()
    session.expire(event)
    assert event.at.utcoffset() is not None
    assert event.at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    moment = datetime(2023, 1, 5, 10, 0)  # noqa: DTZ001 (naive on purpose)
    naive = AuditEvent(username="x", action=AuditAction.create, entity_type="test", at=moment)
    session.add(naive)
    with pytest.raises(Exception, match="naive"):
        session.flush()
    session.rollback()


def test_sqlite_runs_with_foreign_keys_and_wal_in_16_kib_pages(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas only")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA page_size")).scalar() == 16_384  # a new file
