"""The bulk writer: rows land, and a bulk load's dropped indexes come back."""

from __future__ import annotations

import pytest
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lianfang.db import bulk
from lianfang.people.models import Responsible
from lianfang.timeutil import utcnow
from tests.factories import VILLAGE


def index_names(session: Session) -> set[str]:
    return {i["name"] for i in inspect(session.connection()).get_indexes("responsible")}


@pytest.mark.parametrize("reindex_rows", [1_000_000, 3])
def test_rows_land_and_indexes_survive(
    session: Session, monkeypatch: pytest.MonkeyPatch, reindex_rows: int
) -> None:
    monkeypatch.setattr(bulk, "REINDEX_ROWS", reindex_rows)  # 3: take the drop-and-rebuild path
    before = index_names(session)
    defaults = column_defaults(session)
    assert "ix_responsible_area_code" in before
    held = session.scalar(select(func.count()).select_from(Responsible)) or 0
    rows = max(2 * bulk.SQLITE_ROWS_PER_STATEMENT + 7, held + 1)  # whole statements and a rest
    now = utcnow()
    written = bulk.insert_columns(
        session,
        Responsible.__table__,  # type: ignore[arg-type]
        {
            "area_code": [VILLAGE] * rows,
            "name": [f"测试{i}" for i in range(rows)],
            "kind": ["grid_worker"] * rows,
            "phone": [f"1390000{i:04d}" for i in range(rows)],
            "created_at": [now] * rows,
            "user_id": [None] * rows,
        },
    )
    assert written == rows
    assert session.scalar(select(func.count()).select_from(Responsible)) == held + rows
    assert index_names(session) == before
    # PostgreSQL's locked load writes columns of one value as the column's default for the
    # load; every default is as it was.
    assert column_defaults(session) == defaults
    stored = session.scalar(select(Responsible).where(Responsible.name == "测试0"))
    assert stored is not None
    assert stored.created_at == now  # an aware UTC time, as the ORM writes it
    assert (stored.kind, stored.user_id, stored.area_code) == ("grid_worker", None, VILLAGE)


def column_defaults(session: Session) -> dict[str, object]:
    return {
        c["name"]: c.get("default")
        for c in inspect(session.connection()).get_columns("responsible")
    }


def constraint_names(session: Session) -> set[str]:
    inspector = inspect(session.connection())
    return {str(c["name"]) for c in inspector.get_foreign_keys("responsible")} | {
        str(c["name"]) for c in inspector.get_unique_constraints("responsible")
    }


@pytest.mark.parametrize("reindex_rows", [1_000_000, 3])
def test_a_row_breaking_a_constraint_fails_the_load_and_constraints_come_back(
    session: Session, monkeypatch: pytest.MonkeyPatch, reindex_rows: int
) -> None:
    monkeypatch.setattr(bulk, "REINDEX_ROWS", reindex_rows)
    before = constraint_names(session)
    held = session.scalar(select(func.count()).select_from(Responsible)) or 0
    rows = max(2 * bulk.SQLITE_ROWS_PER_STATEMENT + 7, held + 1)  # whole statements and a rest
    now = utcnow()
    with pytest.raises(IntegrityError), session.begin_nested():
        bulk.insert_columns(
            session,
            Responsible.__table__,  # type: ignore[arg-type]
            {
                "area_code": [VILLAGE] * (rows - 1) + ["999999999999"],  # no such area
                "name": [f"测试{i}" for i in range(rows)],
                "kind": ["grid_worker"] * rows,
                "phone": [""] * rows,
                "created_at": [now] * rows,
            },
        )
    assert session.scalar(select(func.count()).select_from(Responsible)) == held
    assert constraint_names(session) == before


def test_text_with_tabs_quotes_and_backslashes_and_nulls_round_trip(session: Session) -> None:
    awkward = ["tab\there", "new\nline", "back\\slash", "O'Brien", "", "\\N", "carriage\rreturn"]
    now = utcnow()
    bulk.insert_columns(
        session,
        Responsible.__table__,  # type: ignore[arg-type]
        {
            "area_code": [VILLAGE] * len(awkward),
            "name": awkward,
            "kind": ["grid_worker"] * len(awkward),
            "phone": ["O'Neil"] * len(awkward),  # one value on every row: written as a literal
            "user_id": [None] * len(awkward),
            "created_at": [now] * len(awkward),
        },
    )
    stored = session.execute(
        select(Responsible.name, Responsible.phone, Responsible.user_id).where(
            Responsible.name.in_(awkward)
        )
    ).all()
    assert sorted(stored) == sorted((name, "O'Neil", None) for name in awkward)
