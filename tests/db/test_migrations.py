from datetime import datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, bindparam, select, text, update
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
                for table in ("person", "follow_up", alerts)
            } | {  # 0018 judges 有医治 again and rebuilds the roll-up: every person still in it
                "covered": connection.execute(
                    text("SELECT sum(persons) FROM coverage_cell")
                ).scalar_one()
            }

    before = counts("referral_alert")
    assert before["person"] > 0
    assert before["follow_up"] > 0
    upgrade(engine)  # 0019 moves the referral alerts into the engine's table
    after = counts("alert")
    assert after.pop("alert") == before.pop("referral_alert")
    assert after == before
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA foreign_key_check")).fetchall() == []
        duplicate = connection.execute(text("SELECT id_number FROM person LIMIT 1")).scalar_one()
        columns = (
            "name, sex, birth_date, phone, area_code, address, living, conditions, disease, "
            "vaccine_doses, last_dose_on, arrived_on, groups, followup_opt_in, rule_grade, "
            "grade, grade_method, override_reason, graded_on, responsible_id, "
            "last_contact_at, due_on, kit_grade, kit_on, medicine_ok, hospital_id, "
            "treatment_ok, registered_on, created_at, updated_at"
        )
        with pytest.raises(DatabaseError, match="UNIQUE"):
            connection.execute(text(
                f"INSERT INTO person (id_number, {columns}) SELECT :n, {columns} FROM person "
                "LIMIT 1"
            ), {"n": duplicate})  # fmt: skip
    engine.dispose()


def test_0018_links_typed_hospitals_to_facilities_and_keeps_the_rest(tmp_path: Path) -> None:
    # Built on today's schema, taken back to 0015 (typed hospital names, as the register held
    # them), typed over with names as people wrote them, then upgraded.
    engine = make_engine(f"sqlite:///{tmp_path / 'hospitals.db'}")
    upgrade(engine)
    with transaction(make_sessionmaker(engine)) as session:
        world.build(session=session, actor=SYSTEM, seed=3, people_share=0.002)
    command.downgrade(alembic_config(engine), "0017")
    with engine.begin() as connection:
        ids = connection.execute(text("SELECT id FROM person ORDER BY id LIMIT 5")).scalars().all()
        hospital = connection.execute(
            text("SELECT id, name FROM facility WHERE code = 'H2-320623-RM'")
        ).one()
        typed = {
            ids[0]: hospital.name,  # as registered: 如东县人民医院
            ids[1]: "如东人民医院",  # the county's 县 left out
            ids[2]: " 如东县 人民医院 ",  # spaces
            ids[3]: "月亮湾康复医院",  # no such facility
            ids[4]: "双名医院",  # two facilities bear it
        }
        for pid, name in typed.items():
            connection.execute(
                text("UPDATE person SET hospital = :h, kit_grade = 'red', kit_on = '2023-01-02' "
                     "WHERE id = :p"), {"h": name, "p": pid},
            )  # fmt: skip
        for code in ("TWIN-1", "TWIN-2"):
            connection.execute(
                text("INSERT INTO facility (code, name, type, area_code, address, hours, phone, "
                     "capabilities, status, created_at, updated_at) VALUES (:c, '双名医院', "
                     "'secondary_hospital', '320623000000', '', '', '', 'general', 'open', "
                     "'2023-01-01 00:00:00', '2023-01-01 00:00:00')"), {"c": code},
            )  # fmt: skip
        people = connection.execute(text("SELECT count(*) FROM person")).scalar_one()
        named = connection.execute(
            text("SELECT count(*) FROM person WHERE hospital <> ''")
        ).scalar_one()
    upgrade(engine)
    with engine.connect() as connection:
        linked = dict(
            connection.execute(
                text("SELECT id, hospital_id FROM person WHERE id IN :ids").bindparams(
                    bindparam("ids", expanding=True)
                ),
                {"ids": ids},
            ).all()
        )
        assert [linked[i] for i in ids[:3]] == [hospital.id] * 3
        assert linked[ids[3]] is None
        assert linked[ids[4]] is None
        kept = dict(
            connection.execute(text("SELECT person_id, text FROM unmatched_hospital")).all()
        )
        assert kept[ids[3]] == "月亮湾康复医院"
        assert kept[ids[4]] == "双名医院"
        reason = connection.execute(
            text("SELECT reason FROM unmatched_hospital WHERE person_id = :p"), {"p": ids[4]}
        ).scalar_one()
        assert "TWIN-1" in reason
        assert "TWIN-2" in reason
        # nothing dropped: every typed name is linked or kept
        assert (
            connection.execute(
                text("SELECT count(*) FROM person WHERE hospital_id IS NOT NULL")
            ).scalar_one()
            + len(kept)
            == named
        )
        opening = connection.execute(
            text("SELECT kit_opening, kit_opening_on, kit_grade FROM person WHERE id = :p"),
            {"p": ids[0]},
        ).one()
        assert (opening[0], str(opening[1]), opening[2]) == ("red", "2023-01-02", "red")
        assert connection.execute(text("SELECT count(*) FROM person")).scalar_one() == people
        covered = connection.execute(text("SELECT sum(persons) FROM coverage_cell")).scalar_one()
        assert covered == people
    engine.dispose()
