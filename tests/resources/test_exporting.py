"""Exports of facilities, capacity reports and stock counts import again unchanged."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lianfang.auth.choices import Role
from lianfang.auth.scope import SYSTEM
from lianfang.errors import PermissionDenied
from lianfang.resources import exporting, importing, ledger, service, sheet
from lianfang.resources.choices import FacilityType
from lianfang.resources.models import CapacityReport, Facility, StockBalance, StockMovement
from lianfang.resources.schemas import CapacityCreate
from tests.factories import OTHER_COUNTY_TOWN, TOWN, VILLAGE, actor_of
from tests.resources.factories import facility, item


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
@pytest.mark.parametrize("kind", ["facilities", "capacity", "stock"])
def test_an_export_imports_again(session: Session, kind: str, file_format: str) -> None:
    centre = facility(session, "E-CENTRE", VILLAGE, FacilityType.township_centre, name="=危险名")
    service.report_capacity(
        session=session,
        actor=SYSTEM,
        facility_id=centre.id,
        data=CapacityCreate(beds_total=12, beds_occupied=3),
    )
    ledger.receive(
        session=session,
        actor=SYSTEM,
        facility_id=centre.id,
        item_id=item(session, "ibuprofen").id,
        quantity=7,
    )
    data, count = exporting.export(
        session=session,
        actor=actor_of(Role.village_worker),
        kind=kind,
        area_code=VILLAGE,
        file_format=file_format,
    )
    spec, table = sheet.read(data, f"e.{file_format}")
    assert spec is exporting.KINDS[kind]
    assert count == len(table)
    codes = table.values("facility_code") or []
    assert "E-CENTRE" in codes
    assert all(c for c in codes)
    if kind == "facilities":
        names = table.values("name") or []
        assert "=危险名" in names  # the formula guard is undone on reading
    before = stored(session)
    result = importing.import_table(session=session, actor=SYSTEM, spec=spec, table=table)
    assert result.rows == len(table)
    assert (result.created, result.updated, result.unchanged) == (0, 0, len(table))
    assert stored(session) == before  # nothing written: no report, no line, no new time


def stored(session: Session) -> tuple[object, ...]:
    """What an import could change: facilities, capacity reports, balances and their times."""
    return (
        session.execute(select(Facility.code, Facility.name, Facility.lon, Facility.status,
                               Facility.capabilities).order_by(Facility.id)).all(),
        session.scalar(select(func.count()).select_from(CapacityReport)),
        session.scalar(select(func.count()).select_from(StockMovement)),
        session.execute(select(StockBalance.facility_id, StockBalance.item_id,
                               StockBalance.balance, StockBalance.moved_at)
                        .order_by(StockBalance.facility_id, StockBalance.item_id)).all(),
    )  # fmt: skip


def test_an_export_stays_in_scope(session: Session) -> None:
    facility(session, "E-FAR", OTHER_COUNTY_TOWN[:9] + "001")
    with pytest.raises(PermissionDenied):
        exporting.rows(
            session=session,
            actor=actor_of(Role.town_operator),
            kind="facilities",
            area_code=OTHER_COUNTY_TOWN,
        )
    _spec, rows = exporting.rows(
        session=session, actor=actor_of(Role.town_operator), kind="facilities", area_code=TOWN
    )
    assert all(r[3].startswith(TOWN[:9]) for r in rows)
