from datetime import datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, select, text, update
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from lianfang.auth import audit
from lianfang.auth.choices import AuditAction
from lianfang.auth.models import AuditEvent
from lianfang.auth.scope import SYSTEM
from lianfang.db.engine import make_engine, make_sessionmaker, transaction
from lianfang.db.migrate import alembic_config, current_revision, head_revision, upgrade
from lianfang.db.models import metadata
from lianfang.demo import world


def test_no_model_change_lacks_a_migration(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_database_is_at_the_newest_revision(engine: Engine) -> None:
    assert current_revision(engine) == head_revision(engine)


def test_the_audit_log_refuses_updates_and_deletes(session: Session) -> None:
    event = audit.record(session=session, actor=SYSTEM, action=AuditAction.create, entity_type="t")
    with pytest.raises(DatabaseError, match="append-only"), session.begin_nested():
        session.execute(update(AuditEvent).where(AuditEvent.id == event.id).values(username="y"))
    with pytest.raises(DatabaseError, match="append-only"), session.begin_nested():
        session.execute(text("DELETE FROM audit_event"))
    assert session.scalar(select(AuditEvent.username).where(AuditEvent.id == event.id)) == "system"


def test_times_come_back_aware_utc_and_naive_ones_are_refused(session: Session) -> None:
    event = audit.record(session=session, actor=SYSTEM, action=AuditAction.create, entity_type="t")
    session.expire(event)
    assert event.at.utcoffset() is not None
    assert event.at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    moment = datetime(2023, 1, 5, 10, 0)  # noqa: DTZ001 (naive on purpose)
    naive = AuditEvent(
        username="x", action=AuditAction.create, entity_type="t", at=moment, prev_hash="", hash=""
    )
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


def test_sqlite_rebuilds_a_table_without_losing_the_rows_that_refer_to_it(tmp_path: Path) -> None:
    # 0006 rebuilds `person` on SQLite (to turn its unique constraint into an index); with
    # foreign keys on, dropping the old table would cascade into follow-ups and alerts.
    # The world is built by today's models, so on the current schema, then taken back to 0005.
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine)  # built by today's code, then taken back to the schema of 0005
    with transaction(make_sessionmaker(engine)) as session:
        world.build(session=session, actor=SYSTEM, seed=3, people_share=0.002)
    command.downgrade(alembic_config(engine), "0005")

    def counts(alerts: str) -> dict[str, int]:
        with engine.connect() as connection:
            return {
                table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                for table in ("person", "follow_up", alerts, "coverage_cell")
            }

    before = counts("referral_alert")
    assert before["person"] > 0
    assert before["follow_up"] > 0
    upgrade(engine)  # 0018 moves the referral alerts into the engine's table
    after = counts("alert")
    assert after.pop("alert") == before.pop("referral_alert")
    assert after == before
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA foreign_key_check")).fetchall() == []
        duplicate = connection.execute(text("SELECT id_number FROM person LIMIT 1")).scalar_one()
        with pytest.raises(DatabaseError, match="UNIQUE"):
            connection.execute(text(
                "INSERT INTO person SELECT NULL, :n, name, sex, birth_date, phone, area_code, "
                "address, living, conditions, disease, vaccine_doses, last_dose_on, arrived_on, "
                "groups, followup_opt_in, rule_grade, grade, grade_method, override_reason, "
                "graded_on, responsible_id, last_contact_at, due_on, kit_grade, kit_on, "
                "medicine_ok, hospital, hospital_capabilities, treatment_ok, registered_on, "
                "created_at, updated_at FROM person LIMIT 1"
            ), {"n": duplicate})  # fmt: skip
    engine.dispose()
