"""Importing facility, capacity and stock-count sheets: all or nothing, row-level errors."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lianfang.auth.scope import SYSTEM
from lianfang.errors import ImportFileError
from lianfang.resources import importing, sheet
from lianfang.resources.models import CapacityReport, Facility, StockBalance
from tests.factories import VILLAGE
from tests.resources.factories import item

FACILITIES = (
    "机构编码,名称,类型,区划代码,开放时间,能力\n"
    f"T-IMP-1,测试卫生室一,村卫生室,{VILLAGE},08:00-17:00,普通病房\n"
    f"T-IMP-2,测试药店,药店,{VILLAGE},,\n"
)


def run(
    session: Session, text: str, name: str = "f.csv", dry_run: bool = False
) -> importing.ImportResult:
    spec, table = sheet.read(text.encode(), name)
    return importing.import_table(
        session=session, actor=SYSTEM, spec=spec, table=table, dry_run=dry_run
    )


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Facility)) or 0


def test_facilities_then_capacity_then_counts(session: Session) -> None:
    before = count(session)
    dry = run(session, FACILITIES, dry_run=True)
    assert (dry.kind, dry.created) == ("facilities", 2)
    assert count(session) == before
    assert run(session, FACILITIES).created == 2
    assert count(session) == before + 2
    capacity = "机构编码,上报时间,床位,在床人数\nT-IMP-1,2023-01-04 08:00,6,4\n"
    assert run(session, capacity).created == 1
    assert (
        session.scalar(
            select(func.count())
            .select_from(CapacityReport)
            .join(Facility, Facility.id == CapacityReport.facility_id)
            .where(Facility.code == "T-IMP-1")
        )
        == 1
    )
    counts = "机构编码,物资,盘点数量\nT-IMP-1,指夹式血氧仪,2\nT-IMP-2,ibuprofen,30\n"
    assert run(session, counts).updated == 2
    ox = item(session, "oximeter")
    place = session.scalar(select(Facility).where(Facility.code == "T-IMP-1"))
    assert place is not None
    assert session.get(StockBalance, (place.id, ox.id)).balance == 2  # type: ignore[union-attr]


def test_one_bad_row_writes_nothing_and_names_row_and_problem(session: Session) -> None:
    before = count(session)
    bad = FACILITIES + f"T-IMP-3,坏行,不是类型,{VILLAGE},,\nT-IMP-4,无区划,药店,999999,,\n"
    with pytest.raises(ImportFileError) as caught:
        run(session, bad)
    rows = {e.row for e in caught.value.rows}
    assert rows == {4, 5}
    assert count(session) == before


def test_an_unknown_sheet_is_refused(session: Session) -> None:
    with pytest.raises(ImportFileError, match="not a facilities, capacity or stock-count sheet"):
        run(session, "姓名,身份证号\n张三,1\n")
