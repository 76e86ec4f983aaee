"""The medical-resource pages as the server renders them: the facility list and its stale flags,
the facility page, the reserve dashboard down to the facility, and the forms (stock movements,
capacity reports) that keep every value and name each field's problem."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.auth.choices import Role
from lianfang.auth.scope import SYSTEM
from lianfang.resources import service, sheet
from lianfang.resources.choices import FacilityType
from lianfang.resources.models import CapacityReport, Facility, StockBalance, StockMovement
from lianfang.resources.schemas import CapacityCreate
from tests.factories import VILLAGE
from tests.resources.factories import item
from tests.web.test_pages import sign_in
from tests.web.test_people_pages import csrf_of
from tests.web.test_phone_pages import register

YANGKOU_CENTRE = "TC-320623101"  # 洋口镇卫生院: a behind town's centre, its capacity stale


def by_code(session: Session, code: str) -> Facility:
    found = session.scalar(select(Facility).where(Facility.code == code))
    assert found is not None, code
    return found


def clinic_of(session: Session, area: str) -> Facility:
    found = session.scalar(
        select(Facility).where(
            Facility.area_code == area, Facility.type == FacilityType.village_clinic
        )
    )
    assert found is not None
    return found


def row_of(page: str, facility_id: int) -> str:
    found = re.search(rf'<tr data-facility="{facility_id}"[^>]*>(.*?)</tr>', page, re.S)
    assert found is not None, facility_id
    return found.group(1)


def balance(session: Session, place: Facility, code: str) -> int:
    held = session.get(StockBalance, (place.id, item(session, code).id))
    return held.balance if held else 0


def test_the_list_flags_a_stale_capacity_report_with_when_it_was_reported(
    client: TestClient, session: Session
) -> None:
    centre = by_code(session, YANGKOU_CENTRE)
    sign_in(client, Role.district_operator)
    page = client.get("/resources?area=320623101&type=township_centre")
    assert page.status_code == 200
    row = row_of(page.text, centre.id)
    assert 'data-testid="capacity-stale"' in row
    assert "过时" in row
    newest = service.latest_capacity(session, [centre.id])[centre.id]
    assert timeutil.format_local(newest.reported_at, "zh") in row
    # a fresh report clears the flag
    service.report_capacity(
        session=session, actor=SYSTEM, facility_id=centre.id,
        data=CapacityCreate(beds_total=40, beds_occupied=20),
    )  # fmt: skip
    row = row_of(client.get("/resources?area=320623101&type=township_centre").text, centre.id)
    assert 'data-testid="capacity-stale"' not in row


def test_only_stale_lists_every_stale_facility_and_nothing_fresh(
    client: TestClient, session: Session
) -> None:
    sign_in(client, Role.district_operator)
    page = client.get("/resources?area=320623&stale=1").text
    ids = [int(i) for i in re.findall(r'<tr data-facility="(\d+)"', page)]
    assert ids
    assert page.count('class="has-stale"') == len(ids)
    assert by_code(session, YANGKOU_CENTRE).id in ids


def test_the_list_sorts_by_occupancy_fullest_first_and_pages(
    client: TestClient, session: Session
) -> None:
    sign_in(client, Role.city_commander)
    page = client.get("/resources?area=3206&sort=occupancy&order=desc").text
    first = int(re.findall(r'<tr data-facility="(\d+)"', page)[0])
    assert session.get(Facility, first).name == "南通市第三人民医院"  # 97% full in the story
    assert 'data-testid="pager"' in page
    assert 'data-testid="page-2"' in page
    second = client.get("/resources?area=3206&sort=occupancy&order=desc&page=2").text
    assert first not in [int(i) for i in re.findall(r'<tr data-facility="(\d+)"', second)]


def test_the_map_answers_facilities_by_type_within_scope(client: TestClient) -> None:
    sign_in(client, Role.town_operator)
    data = client.get("/resources/map?area=320623001").json()
    assert data["facilities"]
    assert {f["type"] for f in data["facilities"]} >= {"village_clinic", "pharmacy"}
    assert client.get("/resources/map?area=320623101").status_code == 403  # another town


def test_the_facility_page_shows_capacity_stock_staff_and_the_stale_flag(
    client: TestClient, session: Session
) -> None:
    centre = by_code(session, YANGKOU_CENTRE)
    sign_in(client, Role.district_operator)
    page = client.get(f"/resources/facilities/{centre.id}").text
    capacity = page[page.index('data-testid="capacity"') : page.index('id="stock"')]
    assert 'data-testid="capacity-stale"' in capacity
    assert 'data-testid="capacity-chart"' in capacity
    stock = page[page.index('id="stock"') : page.index('id="staff"')]
    assert 'data-testid="shortfall-azvudine"' in stock  # short of antivirals in the story
    assert "栟茶镇卫生院" in stock or "医药储备库" in stock  # a suggested source
    assert 'data-testid="staff-table"' in page
    for action in ("report-capacity", "do-receipt", "do-issue", "do-transfer", "do-count"):
        assert f'data-testid="{action}"' in page


def test_a_viewer_sees_no_forms_and_cannot_open_them(client: TestClient, session: Session) -> None:
    centre = by_code(session, YANGKOU_CENTRE)
    sign_in(client, Role.viewer)
    page = client.get(f"/resources/facilities/{centre.id}").text
    assert 'data-testid="facility-actions"' not in page
    assert client.get(f"/resources/facilities/{centre.id}/stock?kind=receipt").status_code == 403
    assert client.get(f"/resources/facilities/{centre.id}/capacity").status_code == 403


def test_a_hospital_operator_reports_only_for_a_facility_they_operate(
    client: TestClient, session: Session
) -> None:
    from lianfang.auth.models import User
    from tests.factories import role_username

    centre = by_code(session, YANGKOU_CENTRE)
    sign_in(client, Role.hospital_operator)
    assert client.get(f"/resources/facilities/{centre.id}/capacity").status_code == 403
    operator = session.scalar(
        select(User).where(User.username == role_username(Role.hospital_operator))
    )
    assert operator is not None
    service.assign_operator(
        session=session, actor=SYSTEM, facility_id=centre.id, user_id=operator.id
    )
    listed = client.get("/resources").text
    assert 'data-testid="operated"' in listed
    assert f"/resources/facilities/{centre.id}" in listed
    form = client.get(f"/resources/facilities/{centre.id}/capacity")
    assert form.status_code == 200
    other = by_code(session, "TC-320623100")  # 栟茶镇卫生院: not theirs
    assert client.get(f"/resources/facilities/{other.id}/capacity").status_code == 403


def test_a_town_operator_cannot_open_a_facility_of_another_town(
    client: TestClient, session: Session
) -> None:
    centre = by_code(session, YANGKOU_CENTRE)
    sign_in(client, Role.town_operator)
    assert client.get(f"/resources/facilities/{centre.id}").status_code == 404
    assert client.get("/resources/reserve?area=320623101").status_code == 403


def test_the_reserve_dashboard_goes_down_city_county_town_facility(
    client: TestClient, session: Session
) -> None:
    sign_in(client, Role.city_commander)
    county = client.get("/resources/reserve?area=320623")
    assert county.status_code == 200
    towns = re.findall(r'<tr data-code="(\d+)">', county.text)
    assert "320623101000" in towns
    yangkou = re.search(r'<tr data-code="320623101000">(.*?)</tr>', county.text, re.S)
    assert yangkou is not None
    assert 'class="bad"' in yangkou.group(1)
    assert 'href="/resources/reserve?area=320623101000"' in county.text
    town = client.get("/resources/reserve?area=320623101000").text
    centre = by_code(session, YANGKOU_CENTRE)
    assert f'<tr data-facility="{centre.id}" data-item="azvudine">' in town
    assert f'href="/resources/facilities/{centre.id}"' in town


def test_the_list_and_the_reserve_link_exports_that_import_again(client: TestClient) -> None:
    sign_in(client, Role.town_operator)
    listing = client.get("/resources").text
    links = re.findall(r'href="(/api/resources/export\?[^"]+)"', listing)
    kinds = {re.search(r"kind=(\w+)", link).group(1) for link in links}  # type: ignore[union-attr]
    assert kinds == {"facilities", "capacity", "stock"}
    facilities = client.get(next(u for u in links if "facilities" in u and "csv" in u)
                            .replace("&amp;", "&"))  # fmt: skip
    assert facilities.status_code == 200  # the page's own sign-in is enough
    spec, table = sheet.read(facilities.content, "facilities.csv")
    assert spec is sheet.FACILITIES
    assert len(table) > 0
    reserve = client.get("/resources/reserve").text
    assert re.findall(r'href="/api/resources/export\?kind=(\w+)', reserve) == ["stock", "stock"]


def test_a_receipt_then_an_issue_change_the_balance_shown(
    client: TestClient, session: Session
) -> None:
    clinic = clinic_of(session, VILLAGE)
    ibuprofen = item(session, "ibuprofen")
    before = balance(session, clinic, "ibuprofen")
    sign_in(client, Role.village_worker)
    form = client.get(f"/resources/facilities/{clinic.id}/stock?kind=receipt").text
    token = csrf_of(form)
    answer = client.post(
        f"/resources/facilities/{clinic.id}/stock",
        data={"csrf_token": token, "kind": "receipt", "item": ibuprofen.id, "quantity": "30"},
    )
    assert answer.status_code == 200
    assert "现有结存 " + f"{before + 30:,}" in answer.text
    assert f'data-testid="balance-ibuprofen">{before + 30:,} 盒' in answer.text
    answer = client.post(
        f"/resources/facilities/{clinic.id}/stock",
        data={"csrf_token": token, "kind": "issue", "item": ibuprofen.id, "quantity": "12",
              "recipient": "ward", "ward": "门诊"},
    )  # fmt: skip
    assert f'data-testid="balance-ibuprofen">{before + 18:,} 盒' in answer.text
    assert balance(session, clinic, "ibuprofen") == before + 18


def test_an_issue_beyond_the_balance_is_refused_beside_the_quantity_keeping_values(
    client: TestClient, session: Session
) -> None:
    clinic = clinic_of(session, VILLAGE)
    oximeter = item(session, "oximeter")
    held = balance(session, clinic, "oximeter")
    sign_in(client, Role.village_worker)
    token = csrf_of(client.get(f"/resources/facilities/{clinic.id}/stock?kind=issue").text)
    lines = session.query(StockMovement).count()
    answer = client.post(
        f"/resources/facilities/{clinic.id}/stock",
        data={"csrf_token": token, "kind": "issue", "item": oximeter.id,
              "quantity": str(held + 1), "recipient": "ward", "ward": "留观室", "note": "夜班"},
    )  # fmt: skip
    assert answer.status_code == 409
    assert 'data-testid="quantity-error"' in answer.text
    assert f'value="{held + 1}"' in answer.text
    assert 'value="留观室"' in answer.text
    assert ">夜班</textarea>" in answer.text
    assert f'<option value="{oximeter.id}" selected>' in answer.text
    assert session.query(StockMovement).count() == lines


def test_a_form_with_bad_fields_names_each_and_writes_nothing(
    client: TestClient, session: Session
) -> None:
    clinic = clinic_of(session, VILLAGE)
    sign_in(client, Role.village_worker)
    token = csrf_of(client.get(f"/resources/facilities/{clinic.id}/stock?kind=issue").text)
    answer = client.post(
        f"/resources/facilities/{clinic.id}/stock",
        data={"csrf_token": token, "kind": "issue", "item": "", "quantity": "三",
              "recipient": "ward", "ward": ""},
    )  # fmt: skip
    assert answer.status_code == 422
    for field in ("item", "quantity", "ward"):
        assert f'data-testid="{field}-error"' in answer.text
    assert "“三”不是整数" in answer.text
    assert 'value="三"' in answer.text


def test_an_issue_to_a_person_found_by_name_shows_them_masked(
    client: TestClient, session: Session
) -> None:
    found = register(session)
    person = found["红无人管"]
    clinic = clinic_of(session, VILLAGE)
    antigen = item(session, "antigen")
    before = balance(session, clinic, "antigen")
    sign_in(client, Role.village_worker)
    url = f"/resources/facilities/{clinic.id}/stock"
    token = csrf_of(client.get(url + "?kind=issue").text)
    answer = client.post(
        url,
        data={"csrf_token": token, "kind": "issue", "item": antigen.id, "quantity": "2",
              "recipient": "person", "person_q": "红无人管", "find": "1"},
    )  # fmt: skip
    assert answer.status_code == 200
    assert 'data-testid="person-matches"' in answer.text
    assert person.id_number not in answer.text
    assert person.id_number[:6] in answer.text  # masked: the first digits only
    assert f'name="person_id" value="{person.id}" checked' in answer.text
    assert 'value="2"' in answer.text  # the quantity typed is kept
    answer = client.post(
        url,
        data={"csrf_token": token, "kind": "issue", "item": antigen.id, "quantity": "2",
              "recipient": "person", "person_q": "红无人管", "person_id": person.id},
    )  # fmt: skip
    assert answer.status_code == 200
    assert balance(session, clinic, "antigen") == before - 2
    line = session.scalar(select(StockMovement).where(StockMovement.person_id == person.id))
    assert line is not None
    assert line.quantity == -2
    movements = answer.text[answer.text.index('data-testid="movements"') :]
    assert "红无人管" in movements
    assert person.id_number not in movements


def test_a_transfer_moves_stock_to_the_facility_chosen(
    client: TestClient, session: Session
) -> None:
    centre = by_code(session, YANGKOU_CENTRE)
    warehouse = by_code(session, "WH-320623")
    azvudine = item(session, "azvudine")
    before = balance(session, centre, "azvudine")
    sign_in(client, Role.district_operator)
    url = f"/resources/facilities/{warehouse.id}/stock"
    form = client.get(url + "?kind=transfer").text
    assert f'<option value="{centre.id}"' in form
    answer = client.post(
        url,
        data={"csrf_token": csrf_of(form), "kind": "transfer", "item": azvudine.id,
              "quantity": "14", "to": centre.id},
    )  # fmt: skip
    assert answer.status_code == 200
    assert balance(session, centre, "azvudine") == before + 14


def test_a_capacity_report_names_the_field_and_then_saves(
    client: TestClient, session: Session
) -> None:
    centre = by_code(session, YANGKOU_CENTRE)
    sign_in(client, Role.district_operator)
    url = f"/resources/facilities/{centre.id}/capacity"
    form = client.get(url).text
    assert 'value="40"' in form  # the totals from the newest report
    token = csrf_of(form)
    answer = client.post(url, data={"csrf_token": token, "beds_total": "40", "beds_occupied": "41"})
    assert answer.status_code == 422
    assert 'data-testid="beds_occupied-error"' in answer.text
    assert 'value="41"' in answer.text
    answer = client.post(url, data={"csrf_token": token, "beds_total": "", "icu_total": ""})
    assert answer.status_code == 422
    assert 'data-testid="form-error"' in answer.text
    answer = client.post(
        url, data={"csrf_token": token, "beds_total": "40", "beds_occupied": "38",
                   "fever_visits": "12"},
    )  # fmt: skip
    assert answer.status_code == 200
    assert 'data-testid="saved"' in answer.text
    newest = session.scalar(
        select(CapacityReport)
        .where(CapacityReport.facility_id == centre.id)
        .order_by(CapacityReport.reported_at.desc())
    )
    assert newest is not None
    assert newest.beds_occupied == 38
    assert timeutil.now() - newest.reported_at < timedelta(minutes=1)
    capacity = answer.text[
        answer.text.index('data-testid="capacity"') : answer.text.index('id="stock"')
    ]
    assert 'data-testid="capacity-stale"' not in capacity


def test_the_nav_shows_resources_to_roles_that_read_them(client: TestClient) -> None:
    sign_in(client, Role.viewer)
    page = client.get("/").text
    assert 'data-testid="nav-resources"' in page
    assert "医疗资源" in page
    english = client.get("/resources?lang=en").text
    assert "Medical facilities" in english


def test_the_english_pages_label_everything_in_english(client: TestClient) -> None:
    """Item and facility names are data and stay Chinese; every label of these pages is not."""
    from tests.test_messages import visible_text

    ours = {
        "医疗机构", "药品储备", "可供天数", "储备目标", "缺口", "结存", "低于储备目标",
        "最近出入库",
        "人员力量", "收治能力", "上报时间", "可调出机构", "登记", "病区", "数量", "物资", "过时",
    }  # fmt: skip
    sign_in(client, Role.district_operator)
    client.cookies.set("lianfang_lang", "en")
    for path in (
        "/resources?area=320623101", "/resources/reserve?area=320623101",
        "/resources/facilities/221", "/resources/facilities/18/stock?kind=issue",
        "/resources/facilities/18/stock?kind=transfer",
    ):  # fmt: skip
        page = client.get(path)
        assert page.status_code == 200, path
        shown = visible_text(page.text)
        assert not sorted(t for t in ours if t in shown), path
    assert "Days of supply" in visible_text(client.get("/resources/facilities/221").text)
