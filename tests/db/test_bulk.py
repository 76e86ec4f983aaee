"""The bulk writer: rows land, and a bulk load's dropped indexes come back."""

from __future__ import annotations

import pytest
from sqlalchemy import func, inspect, select
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
    assert "ix_responsible_area_code" in before
    held = session.scalar(select(func.count()).select_from(Responsible)) or 0
    rows = max(5, held + 1)
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
        },
    )
    assert written == rows
    assert session.scalar(select(func.count()).select_from(Responsible)) == held + rows
    assert index_names(session) == before
    stored = session.scalar(select(Responsible).where(Responsible.name == "测试0"))
    assert stored is not None
    assert stored.created_at == now  # an aware UTC time, as the ORM writes it
