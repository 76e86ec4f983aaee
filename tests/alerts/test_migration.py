"""0019 moves the registry's referral alerts into the engine's table: every row, its status,
times and note, and its history as events; of a person's several open alerts the newest is the
one the engine updates from then on."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text

from lianfang.auth.scope import SYSTEM
from lianfang.db.engine import make_engine, make_sessionmaker, transaction
from lianfang.db.migrate import alembic_config, upgrade
from lianfang.demo import world
from tests.conftest import BACKENDS, empty_database


@pytest.mark.parametrize("backend", BACKENDS)
def test_upgrade_keeps_every_referral_alert_its_status_and_history(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    engine = make_engine(empty_database(backend, tmp_path_factory, name="lf_alert_migration"))
    upgrade(engine)
    with transaction(make_sessionmaker(engine)) as session:
        world.build(session=session, actor=SYSTEM, seed=3, people_share=0.002)
    command.downgrade(alembic_config(engine), "0018")
    with engine.begin() as connection:
        person, follow_up, area, at = connection.execute(
            text("SELECT person_id, id, area_code, contacted_at FROM follow_up LIMIT 1")
        ).one()
        # The registry never deduplicated: two open alerts of one person, and a closed one.
        for alert_id, reasons, status, note in (
            (900001, "low_spo2", "open", None),
            (900002, "breathless,low_spo2", "open", None),
            (900003, "persistent_fever", "closed", "已转诊至县医院"),
        ):
            connection.execute(
                text(
                    "INSERT INTO referral_alert (id, person_id, follow_up_id, area_code, reasons,"
                    " status, raised_at, closed_at, closed_by, close_note) VALUES (:id, :p, :f,"
                    " :a, :r, :s, :at, :closed, :by, :note)"
                ),
                {"id": alert_id, "p": person, "f": follow_up, "a": area, "r": reasons,
                 "s": status, "at": at, "closed": at if note else None,
                 "by": "村医" if note else None, "note": note},
            )  # fmt: skip
        before = set(
            connection.execute(
                text(
                    "SELECT id, person_id, follow_up_id, area_code, reasons, status, raised_at,"
                    " closed_at, closed_by, close_note FROM referral_alert"
                )
            ).all()
        )
        closed_before = connection.execute(
            text("SELECT count(*) FROM referral_alert WHERE status = 'closed'")
        ).scalar_one()
    assert len(before) >= 3
    upgrade(engine)
    with engine.connect() as connection:
        after = set(
            connection.execute(
                text(
                    "SELECT id, person_id, follow_up_id, area_code, reasons, status, opened_at,"
                    " closed_at, closed_by, close_note FROM alert WHERE kind = 'referral'"
                )
            ).all()
        )
        assert after == before
        keys = dict(
            connection.execute(
                text("SELECT id, open_key FROM alert WHERE id IN (900001, 900002, 900003)")
            ).all()
        )
        assert keys == {900001: None, 900002: f"referral:person:{person}", 900003: None}
        severities = dict(
            connection.execute(
                text("SELECT id, severity FROM alert WHERE id IN (900001, 900002, 900003)")
            ).all()
        )
        assert severities == {900001: "high", 900002: "high", 900003: "medium"}
        opened = connection.execute(
            text("SELECT count(*) FROM alert_event WHERE kind = 'opened'")
        ).scalar_one()
        assert opened == len(before)
        closed = connection.execute(
            text("SELECT alert_id, username, note FROM alert_event WHERE kind = 'closed'")
        ).all()
        assert len(closed) == closed_before
        assert (900003, "村医", "已转诊至县医院") in set(closed)
        if backend == "postgresql":  # the id sequence continues after the moved rows
            connection.execute(
                text(
                    "INSERT INTO alert (kind, severity, status, subject, area_code, dedupe_key,"
                    " reasons, opened_at, updated_at) VALUES ('referral', 'high', 'open',"
                    " 'area', :a, 'x', '', now(), now())"
                ),
                {"a": area},
            )
    engine.dispose()
