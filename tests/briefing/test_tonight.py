"""Tonight's duty in the briefing: the read model (the area and each child area, the area's
own roster only, phones masked without pii.reveal), the page, the overview's card, the
workbook's sheet 值班表 and the PDF."""

from __future__ import annotations

import io
from datetime import timedelta

import openpyxl
import pypdf
from fastapi.testclient import TestClient
from sqlalchemy import delete
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.areas import codes
from lianfang.auth.choices import Role
from lianfang.auth.scope import SYSTEM
from lianfang.briefing import read, render, workbook
from lianfang.duty import service
from lianfang.duty.choices import DutyRole, Shift
from lianfang.duty.models import DutyShift
from lianfang.duty.service import ShiftIn
from tests.factories import COUNTY, OTHER_TOWN, TOWN, actor_of
from tests.web.test_pages import sign_in

LEADER_PHONE, STAFF_PHONE = "13905550101", "13905550102"


def arrange(session: Session) -> None:
    """A county with nobody on its own roster but a leader and a staff member in one town
    tonight, a day shift in another town (not on duty at 22:00) and yesterday's night there."""
    session.execute(delete(DutyShift).where(codes.in_subtree(DutyShift.area_code, "320623")))
    today = timeutil.today()
    for area, on, shift, role, name, phone in (
        (TOWN, today, Shift.night, DutyRole.leader, "贺带班", LEADER_PHONE),
        (TOWN, today, Shift.night, DutyRole.staff, "邵值守", STAFF_PHONE),
        (OTHER_TOWN, today, Shift.day, DutyRole.leader, "白日班", "13905550103"),
        (OTHER_TOWN, today - timedelta(days=1), Shift.night, DutyRole.leader, "昨夜班", ""),
    ):
        data = ShiftIn(area_code=area, on_date=on, shift=shift, role=role, name=name, phone=phone)
        service.create(session=session, actor=SYSTEM, data=data)


def test_the_read_model_lists_each_areas_own_duty_tonight(session: Session) -> None:
    arrange(session)
    found = read.briefing(session=session, actor=actor_of(Role.district_operator), code=COUNTY)
    assert found.duty is not None
    by_code = {d.code: d for d in found.duty}
    assert found.duty[0].code == COUNTY
    assert not found.duty[0].covered
    assert len(found.duty) == 1 + len(found.rows)
    town = by_code[TOWN]
    assert [(p.name, p.phone, p.hours) for p in town.leaders] == [
        ("贺带班", LEADER_PHONE, "20:00–08:00")
    ]
    assert [p.name for p in town.staff] == ["邵值守"]
    assert not by_code[OTHER_TOWN].covered  # a day shift and last night are not tonight


def test_phones_are_masked_without_pii_reveal(
    session: Session,
) -> None:
    arrange(session)
    viewer = read.briefing(session=session, actor=actor_of(Role.viewer), code=COUNTY)
    assert viewer.duty is not None
    town = next(d for d in viewer.duty if d.code == TOWN)
    assert town.leaders[0].phone not in ("", LEADER_PHONE)
    assert town.leaders[0].phone.endswith(LEADER_PHONE[-4:])
    assert "*" in town.leaders[0].phone
    commander = read.briefing(session=session, actor=actor_of(Role.city_commander), code=COUNTY)
    assert commander.duty is not None
    assert next(d for d in commander.duty if d.code == TOWN).leaders[0].phone == LEADER_PHONE


def test_the_briefing_page_and_the_overview_card_show_tonight(
    client: TestClient, session: Session
) -> None:
    arrange(session)
    sign_in(client, Role.district_operator)
    page = client.get(f"/briefing/{COUNTY[:6]}").text
    duty = page.split('data-testid="briefing-duty"')[1].split("</section>")[0]
    assert "贺带班" in duty
    assert "邵值守" in duty
    assert LEADER_PHONE in duty
    assert "无人值班" in duty  # the county itself and the towns nobody covers
    overview = client.get(f"/overview/{COUNTY[:6]}").text
    card = overview.split('data-testid="overview-duty"')[1].split("</section>")[0]
    assert "今晚值班" in card
    assert 'data-testid="overview-duty-none"' in card  # the county's own roster is empty
    gaps = card.split('data-testid="overview-duty-gaps"')[1].split("</p>")[0]
    rows = duty.count("<tr data-code=")  # the county and its towns
    uncovered = duty.count('class="uncovered"')  # all but 掘港街道
    assert uncovered == rows - 1
    assert f"下级 {rows - 1} 个地区中 {uncovered - 1} 个今晚无人值班" in gaps


def test_the_workbook_has_a_duty_sheet(session: Session) -> None:
    arrange(session)
    found = read.briefing(session=session, actor=actor_of(Role.viewer), code=COUNTY)
    book = openpyxl.load_workbook(io.BytesIO(workbook.workbook(found, "zh")))
    sheet = book["值班表"]
    assert [c.value for c in sheet[3]] == ["区划名称", "岗位", "姓名", "电话", "时段"]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=4)]
    assert rows[0][:2] == ["如东县", "无人值班。"]
    mine = [r for r in rows if r[0] == "掘港街道"]
    assert [r[1:3] for r in mine] == [["带班领导", "贺带班"], ["值班员", "邵值守"]]
    assert mine[0][3] != LEADER_PHONE
    assert mine[0][3].endswith(LEADER_PHONE[-4:])
    assert mine[0][4] == "20:00–08:00"


def test_the_pdf_names_who_is_on_duty(session: Session) -> None:
    arrange(session)
    found = read.briefing(session=session, actor=SYSTEM, code=COUNTY)
    pdf = pypdf.PdfReader(io.BytesIO(render.pdf(found, "zh")))
    text = "".join(p.extract_text() for p in pdf.pages)
    assert "今晚值班" in text
    assert "贺带班" in text
    assert "邵值守" in text
    assert LEADER_PHONE in text  # the system may reveal
