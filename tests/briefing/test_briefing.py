"""The situation of an area (overview, briefing): figures counted by hand from what the test
made, the change since the stored day before, past days, roles and scope, the files."""

from __future__ import annotations

import io
from datetime import timedelta

import openpyxl
import pypdf
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.auth.choices import Role
from lianfang.auth.scope import SYSTEM
from lianfang.briefing import read, render, workbook
from lianfang.briefing.choices import Layer
from lianfang.briefing.models import BriefingSnapshot
from lianfang.dispatch.models import Task
from lianfang.errors import InvalidInputError, NotFoundError, PermissionDenied
from lianfang.resources import reserve
from lianfang.resources.models import CapacityReport, Facility
from tests.conftest import bearer
from tests.dispatch.helpers import three_villages
from tests.factories import (
    COUNTY,
    OTHER_COUNTY_TOWN,
    TOWN,
    VILLAGE,
    VILLAGE_2,
    actor_of,
    id_number,
)


def register(client: TestClient, headers: dict[str, str], village: str, seq: int) -> int:
    """An 81-year-old in a village (a followed grade), answered by the API."""
    body = {"name": f"测试{seq}", "id_number": id_number("19410305", seq), "area_code": village}
    answer = client.post("/api/people", json=body, headers=headers)
    assert answer.status_code in (200, 201), answer.text
    return int(answer.json()["id"])


def low_reading(client: TestClient, headers: dict[str, str], person_id: int) -> None:
    """A follow-up with SpO2 90%: a referral alert."""
    answer = client.post(
        f"/api/people/{person_id}/follow-ups",
        json={"method": "phone", "spo2_pct": 90},
        headers=headers,
    )
    assert answer.status_code in (200, 201), answer.text
    assert answer.json()["alert"] is not None


def test_villages_count_what_was_recorded_and_changes_since_the_stored_day_before(
    client: TestClient, session: Session
) -> None:
    town = bearer(client, Role.town_operator)
    first = register(client, town, VILLAGE, 11)
    low_reading(client, town, first)
    today = timeutil.today()

    answer = client.get(f"/api/briefing?area={TOWN}", headers=town)
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert found["live"] is True
    assert found["compared"] is False
    rows = {r["code"]: r for r in found["rows"]}
    assert (rows[VILLAGE]["followed"], rows[VILLAGE]["alerts"]) == (1, 1)
    assert (rows[VILLAGE_2]["followed"], rows[VILLAGE_2]["alerts"]) == (0, 0)
    assert found["area"]["alerts"] == 1
    # the day's first reading stored the town and each of its villages
    stored = set(
        session.scalars(select(BriefingSnapshot.area_code).where(BriefingSnapshot.day == today))
    )
    assert {TOWN, VILLAGE, VILLAGE_2} <= stored
    # a second reading keeps the first figures
    second = register(client, town, VILLAGE_2, 12)
    low_reading(client, town, second)
    client.get(f"/api/briefing?area={TOWN}", headers=town)
    kept = session.scalars(
        select(BriefingSnapshot).where(BriefingSnapshot.area_code == VILLAGE_2,
                                       BriefingSnapshot.day == today)
    ).one()  # fmt: skip
    assert '"alerts": 0' in kept.figures

    # the stored figures become yesterday's: today's change is the second person and alert
    session.execute(
        update(BriefingSnapshot)
        .where(BriefingSnapshot.day == today)
        .values(day=today - timedelta(1))
    )  # fmt: skip
    session.expunge_all()  # the rows loaded above were moved to another day
    found = client.get(f"/api/briefing?area={TOWN}", headers=town).json()
    assert found["compared"] is True
    assert found["area"]["changes"]["alerts"] == 1
    assert found["area"]["changes"]["followed"] == 1
    rows = {r["code"]: r for r in found["rows"]}
    assert rows[VILLAGE_2]["changes"]["alerts"] == 1
    assert rows[VILLAGE]["changes"]["alerts"] == 0

    # yesterday as it was stored; a day with nothing stored; a day to come
    past = client.get(f"/api/briefing?area={TOWN}&date={today - timedelta(1)}", headers=town)
    assert past.status_code == 200, past.text
    assert (past.json()["live"], past.json()["area"]["alerts"]) == (False, 1)
    none = client.get(f"/api/briefing?area={TOWN}&date={today - timedelta(9)}", headers=town)
    assert none.status_code == 404
    assert "掘港街道" in none.json()["message_zh"]
    later = client.get(f"/api/briefing?area={TOWN}&date={today + timedelta(1)}", headers=town)
    assert later.status_code == 400


def test_rows_come_worst_first(session: Session) -> None:
    found = read.briefing(session=session, actor=SYSTEM, code=COUNTY)
    assert [r.code for r in found.rows] == [r.code for r in read.worst_first(found.rows)]
    rows = [
        read.Row("1", "a", found.area.level, followed=10, all_four=9),
        read.Row("2", "b", found.area.level, followed=10, all_four=2),
        read.Row("3", "c", found.area.level, followed=0, all_four=0, overdue=4),
        read.Row("4", "d", found.area.level, followed=10, all_four=2, overdue=3),
    ]
    assert [r.code for r in read.worst_first(rows)] == ["4", "2", "1", "3"]


def test_beds_sum_each_facilitys_latest_report(session: Session) -> None:
    found = read.briefing(session=session, actor=SYSTEM, code=COUNTY)
    latest: dict[int, CapacityReport] = {}
    ids = session.scalars(select(Facility.id).where(Facility.area_code.like("320623%"))).all()
    for report in session.scalars(
        select(CapacityReport).where(CapacityReport.facility_id.in_(ids))
    ):
        have = latest.get(report.facility_id)
        if have is None or report.reported_at > have.reported_at:
            latest[report.facility_id] = report
    assert latest, "the demo world reports capacity"
    assert found.area.beds_total == sum(r.beds_total or 0 for r in latest.values())
    assert found.area.icu_occupied == sum(r.icu_occupied or 0 for r in latest.values())
    assert sum(r.beds_total or 0 for r in found.rows) == found.area.beds_total
    assert found.updated[Layer.beds].newest == max(r.reported_at for r in latest.values())


def test_stock_below_target_agrees_with_the_reserve(session: Session) -> None:
    full = reserve.stock_rows(session=session, actor=SYSTEM, prefix="320623")
    lean = reserve.below_target(session=session, actor=SYSTEM, prefix="320623")
    assert lean.rows == len(full)
    assert sorted(lean.short) == sorted(
        (r.facility.id, r.facility.area_code) for r in full if r.shortfall > 0
    )
    assert lean.stale == sum(r.stale for r in full)
    found = read.briefing(session=session, actor=SYSTEM, code=COUNTY)
    assert found.area.stock_short == len(lean.short) > 0


def test_tasks_past_their_deadline_put_a_directive_behind(session: Session) -> None:
    directive = three_villages(session)
    session.execute(
        update(Task).where(Task.directive_id == directive.id, Task.leaf)
        .values(deadline=timeutil.today() - timedelta(days=1))
    )  # fmt: skip
    found = read.briefing(session=session, actor=SYSTEM, code=COUNTY)
    assert found.area.tasks_late == 3
    assert [(b.directive_id, b.late, b.total) for b in found.behind] == [(directive.id, 3, 3)]
    towns = {r.code: r.tasks_late for r in found.rows}
    assert towns[TOWN] == 2  # two of the villages lie in 掘港街道
    assert sum(n or 0 for n in towns.values()) == 3


def test_a_role_sees_only_the_layers_it_may_read(session: Session) -> None:
    hospital = read.briefing(session=session, actor=actor_of(Role.hospital_operator), code=COUNTY)
    assert Layer.coverage not in hospital.layers
    assert Layer.beds in hospital.layers
    assert hospital.area.followed is None
    assert hospital.area.alerts is None
    assert all(r.followed is None for r in hospital.rows)
    assert hospital.area.beds_total
    inspector = read.briefing(session=session, actor=actor_of(Role.safety_inspector), code=COUNTY)
    assert Layer.beds not in inspector.layers
    assert inspector.area.beds_total is None
    assert Layer.tasks in inspector.layers


def test_scope_and_dates_are_refused_with_a_reason(session: Session) -> None:
    with pytest.raises(PermissionDenied):
        read.briefing(session=session, actor=actor_of(Role.town_operator), code=OTHER_COUNTY_TOWN)
    with pytest.raises(InvalidInputError, match="after today"):
        read.briefing(session=session, actor=SYSTEM, code=TOWN,
                      day=timeutil.today() + timedelta(days=1))  # fmt: skip
    with pytest.raises(NotFoundError):
        read.briefing(session=session, actor=SYSTEM, code=TOWN,
                      day=timeutil.today() - timedelta(days=30))  # fmt: skip


def test_the_pdf_is_an_a4_page_with_the_chinese_text_and_fonts(session: Session) -> None:
    found = read.briefing(session=session, actor=SYSTEM, code=COUNTY)
    pdf = pypdf.PdfReader(io.BytesIO(render.pdf(found, "zh")))
    page = pdf.pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)
    text = "".join(p.extract_text() for p in pdf.pages)
    assert "如东县调度会材料" in text
    assert "关键指标" in text
    assert "床位占用" in text
    worst = found.rows[0].name
    assert worst in text  # a town's name, in a row and on a chart
    fonts = {
        str(f.get_object().get("/BaseFont"))
        for p in pdf.pages
        for f in p["/Resources"]["/Font"].values()
    }
    assert any("CJK" in name for name in fonts), fonts
    for name in fonts:
        assert "+" in name  # a subset: embedded, not referred to


def test_the_workbook_reads_back_with_the_figures(session: Session) -> None:
    found = read.briefing(session=session, actor=SYSTEM, code=COUNTY)
    book = openpyxl.load_workbook(io.BytesIO(workbook.workbook(found, "zh")))
    sheet = book["调度简报"]
    assert "如东县调度会材料" in str(sheet["A1"].value)
    header = [c.value for c in sheet[4]]
    assert header[0] == "乡镇（街道）"
    assert "床位" in header
    names = [sheet.cell(row=r, column=1).value for r in range(5, 6 + len(found.rows))]
    assert names == [found.area.name, *(r.name for r in found.rows)]
    beds = header.index("床位") + 1
    assert sheet.cell(row=5, column=beds).value == found.area.beds_total
    assert "进度滞后的部署事项" in book.sheetnames


def test_file_route_answers_each_format(client: TestClient) -> None:
    headers = bearer(client, Role.district_operator)
    for format, kind in (("xlsx", "spreadsheetml"), ("html", "text/html"), ("pdf", "pdf")):
        answer = client.get(f"/api/briefing/file?area={TOWN}&format={format}", headers=headers)
        assert answer.status_code == 200, answer.text
        assert kind in answer.headers["content-type"]
        assert f"briefing-{TOWN[:9]}-" in answer.headers["content-disposition"]
    assert (
        "调度会材料"
        in client.get(f"/api/briefing/file?area={TOWN}&format=html", headers=headers).text
    )
    refused = client.get(f"/api/briefing/file?area={TOWN}&format=doc", headers=headers)
    assert refused.status_code == 422
