"""The key-population pages through the TestClient: who sees what, filters, forms."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from lianfang.auth.choices import Role
from lianfang.auth.scope import SYSTEM
from lianfang.io import sheets
from lianfang.people.choices import Grade
from lianfang.people.importing import import_table
from lianfang.people.models import Person
from lianfang.people.sheet import SPEC
from lianfang.resources import ledger
from lianfang.resources.models import Facility, StockBalance
from tests.factories import OTHER_TOWN_VILLAGE, VILLAGE, VILLAGE_2, id_number
from tests.web.test_pages import sign_in

HEADER = "姓名,身份证号,联系电话,村(居)代码,冠心病,疫苗剂次,负责人\n"


def add_people(session: Session) -> dict[str, Person]:
    """A red person in VILLAGE, a green one in VILLAGE_2, a red one in another town."""
    rows = {
        "周玉兰": f"{id_number('19410305', 2)},13812345678,{VILLAGE},不稳定,1,王医生",
        "李建国": f"{id_number('19700101', 3)},,{VILLAGE_2},,3,",
        "陈外镇": f"{id_number('19400101', 5)},,{OTHER_TOWN_VILLAGE},不稳定,0,",
    }
    body = "".join(f"{name},{cells}\n" for name, cells in rows.items())
    table = sheets.read((HEADER + body).encode(), "people.csv", SPEC)
    import_table(session=session, actor=SYSTEM, table=table)
    session.flush()
    found = session.scalars(select(Person).where(Person.name.in_(rows))).all()
    return {p.name: p for p in found}


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def test_list_shows_own_town_masked_and_filters_narrow(
    client: TestClient, session: Session
) -> None:
    people = add_people(session)
    sign_in(client, Role.town_operator)
    page = client.get("/people", params={"q": "周玉兰"})
    assert page.status_code == 200
    assert "周玉兰" in page.text
    assert "李建国" not in page.text
    assert people["周玉兰"].id_number not in page.text  # masked
    elsewhere = client.get("/people", params={"q": "陈外镇"}).text  # another town's person
    assert 'data-testid="people-none"' in elsewhere
    red = client.get("/people", params={"grade": "red", "q": "李建国"})
    assert 'data-testid="people-none"' in red.text
    searched = client.get("/people", params={"q": people["李建国"].id_number})
    assert "李建国" in searched.text
    assert "周玉兰" not in searched.text
    tail = client.get("/people", params={"q": people["李建国"].id_number[-6:]})
    assert tail.status_code == 400  # a part of a number would fill in masked ones
    assert "李建国" not in tail.text
    missing = client.get("/people", params={"missing": "checked_on", "q": "周玉兰"})
    assert "周玉兰" in missing.text


def test_town_operator_cannot_open_or_list_another_town(
    client: TestClient, session: Session
) -> None:
    people = add_people(session)
    sign_in(client, Role.town_operator)
    assert client.get(f"/people/{people['陈外镇'].id}").status_code == 404
    assert client.get("/people", params={"area": OTHER_TOWN_VILLAGE}).status_code == 403
    assert 'data-testid="people-none"' in client.get("/people", params={"q": "陈外镇"}).text
    assert client.get(f"/people/{people['周玉兰'].id}").status_code == 200


def test_roles_without_people_read_are_refused(client: TestClient, session: Session) -> None:
    add_people(session)
    sign_in(client, Role.hospital_operator)
    assert client.get("/people").status_code == 403
    assert client.get("/people/coverage").status_code == 403


def test_coverage_dashboard_links_each_number_to_the_list(
    client: TestClient, session: Session
) -> None:
    add_people(session)
    sign_in(client, Role.district_operator)
    page = client.get("/people/coverage")
    assert page.status_code == 200
    assert 'data-testid="count-red"' in page.text
    assert "/people?area=320623000000&amp;grade=red" in page.text
    assert "掘港街道" in page.text  # a child area with people
    listed = client.get("/people", params={"area": "320623000000", "grade": "red", "q": "陈外镇"})
    assert "陈外镇" in listed.text


def test_follow_up_with_low_spo2_raises_an_alert_once(client: TestClient, session: Session) -> None:
    person = add_people(session)["周玉兰"]
    sign_in(client, Role.village_worker)
    page = client.get(f"/people/{person.id}")
    assert page.status_code == 200
    assert 'data-testid="no-alerts"' in page.text
    form = {
        "csrf_token": csrf_of(page.text),
        "client_token": "3c2d6f0e-5a0b-4a43-9f67-1f0e2b8a8c11",
        "method": "phone",
        "spo2": "91",
        "temperature": "37.2",
    }
    saved = client.post(f"/people/{person.id}/follow-ups", data=form)
    assert saved.status_code == 200
    assert 'data-testid="alert-raised"' in saved.text
    assert saved.text.count('data-testid="open-alert"') == 1
    again = client.post(f"/people/{person.id}/follow-ups", data=form)
    assert again.text.count('data-testid="open-alert"') == 1  # the resubmission recorded once


def test_posts_need_the_csrf_token(client: TestClient, session: Session) -> None:
    person = add_people(session)["周玉兰"]
    sign_in(client, Role.town_operator)
    refused = client.post(
        f"/people/{person.id}/follow-ups",
        data={"csrf_token": "wrong", "client_token": "x", "method": "phone", "spo2": "91"},
    )
    assert refused.status_code == 403
    reveal = client.post(f"/people/{person.id}/reveal", data={"csrf_token": "", "reason": "核实"})
    assert reveal.status_code in (403, 422)
    assert person.id_number not in reveal.text


def test_reveal_shows_the_full_id_once_for_a_reason(client: TestClient, session: Session) -> None:
    person = add_people(session)["周玉兰"]
    sign_in(client, Role.town_operator)
    page = client.get(f"/people/{person.id}")
    assert person.id_number not in page.text
    shown = client.post(
        f"/people/{person.id}/reveal",
        data={"csrf_token": csrf_of(page.text), "reason": "核实身份信息"},
    )
    assert shown.status_code == 200
    assert person.id_number in shown.text
    assert "1941-03-05" in shown.text  # the birth date, with the number
    again = client.get(f"/people/{person.id}").text
    assert person.id_number not in again
    assert "1941-03-05" not in again


def test_viewer_sees_no_forms(client: TestClient, session: Session) -> None:
    person = add_people(session)["周玉兰"]
    sign_in(client, Role.viewer)
    page = client.get(f"/people/{person.id}")
    assert page.status_code == 200
    for form in ("follow-up-form", "reveal-form", "grade-form"):
        assert f'data-testid="{form}"' not in page.text
    assert client.get("/people/import").status_code == 403


def upload(client: TestClient, body: str) -> Any:
    """Send rows (after the header) through the import form, as the signed-in user."""
    page = client.get("/people/import")
    return client.post(
        "/people/import",
        data={"csrf_token": csrf_of(page.text)},
        files={"upload": ("people.csv", (HEADER + body).encode(), "text/csv")},
    )


def test_import_with_a_bad_row_writes_nothing_and_offers_the_error_workbook(
    client: TestClient, session: Session
) -> None:
    sign_in(client, Role.town_operator)
    good, bad = id_number("19450101", 7), id_number("19450102", 9)[:-1] + "Y"
    answer = upload(client, f"甲乙,{good},,{VILLAGE},,0,\n丙丁,{bad},,{VILLAGE},,0,\n")
    assert answer.status_code == 422
    assert 'data-testid="nothing-written"' in answer.text
    assert '<td class="num">3</td><td>身份证号</td>' in answer.text
    assert session.scalar(select(Person).where(Person.id_number == good)) is None
    token = re.search(r"/people/import/report/([\w-]+)", answer.text)
    assert token is not None
    report = client.get(f"/people/import/report/{token.group(1)}")
    assert report.status_code == 200
    assert report.content[:2] == b"PK"
    template = client.get("/people/import/template")
    assert template.status_code == 200
    assert template.content[:2] == b"PK"


def test_masked_export_and_map_data(client: TestClient, session: Session) -> None:
    people = add_people(session)
    sign_in(client, Role.town_operator)
    exported = client.get("/people/export", params={"format": "csv"})
    assert exported.status_code == 200
    text = exported.content.decode("utf-8-sig")
    assert "周玉兰" in text
    assert people["周玉兰"].id_number not in text
    assert "1941-03-05" not in text
    assert "年龄" in text
    assert "陈外镇" not in text
    villages = client.get("/people/map", params={"area": "320623001000"}).json()["villages"]
    assert VILLAGE in {v["code"] for v in villages}
    assert all(v["code"].startswith("320623001") for v in villages)
    assert all(v["covered"]["all"] <= v["covered"]["in_charge"] <= v["followed"] for v in villages)


def test_care_form_records_the_hospital_and_the_responsible(
    client: TestClient, session: Session
) -> None:
    person = add_people(session)["周玉兰"]
    sign_in(client, Role.village_worker)
    page = client.get(f"/people/{person.id}")
    assert 'data-testid="care-form"' in page.text
    form = {"csrf_token": csrf_of(page.text), "hospital": "如东人民医院", "responsible_id": ""}
    saved = client.post(f"/people/{person.id}/care", data=form, follow_redirects=False)
    assert saved.status_code == 303
    session.refresh(person)
    hospital = session.scalar(select(Facility).where(Facility.code == "H2-320623-RM"))
    assert hospital is not None
    assert person.hospital_id == hospital.id  # a name without 县 still names it
    assert person.treatment_ok
    assert person.responsible_id is None  # '—' chosen: nobody in charge any more
    unknown = client.post(f"/people/{person.id}/care", data=form | {"hospital": "月亮医院"})
    assert unknown.status_code == 422
    assert "月亮医院" in unknown.text


def test_kit_form_issues_from_the_clinic_and_names_the_balance_when_empty(
    client: TestClient, session: Session
) -> None:
    person = add_people(session)["周玉兰"]
    clinic = session.scalar(select(Facility).where(Facility.code == f"VC-{VILLAGE}"))
    assert clinic is not None
    red = ledger.item_by_code(session, "kit_red")
    held = session.scalar(
        select(StockBalance.balance).where(
            StockBalance.facility_id == clinic.id, StockBalance.item_id == red.id
        )
    )
    if held:  # empty the clinic of red kits first
        ledger.count(session=session, actor=SYSTEM, facility_id=clinic.id, item_id=red.id,
                     counted=0)  # fmt: skip
    sign_in(client, Role.village_worker)
    page = client.get(f"/people/{person.id}")
    form = {"csrf_token": csrf_of(page.text), "kit": "red", "facility_id": str(clinic.id)}
    refused = client.post(f"/people/{person.id}/kits", data=form)
    assert refused.status_code == 409
    assert 'data-testid="kit-facility-error"' in refused.text
    assert "0" in refused.text.split('data-testid="kit-facility-error"')[1].split("</span>")[0]
    ledger.receive(session=session, actor=SYSTEM, facility_id=clinic.id, item_id=red.id,
                   quantity=2)  # fmt: skip
    issued = client.post(f"/people/{person.id}/kits", data=form, follow_redirects=False)
    assert issued.status_code == 303
    session.refresh(person)
    assert (person.kit_grade, person.medicine_ok) == (Grade.red, True)
    after = session.scalar(
        select(StockBalance.balance).where(
            StockBalance.facility_id == clinic.id, StockBalance.item_id == red.id
        )
    )
    assert after == 1
    green = client.post(f"/people/{person.id}/kits", data=form | {"kit": "green"})
    assert green.status_code == 422
    assert 'data-testid="kit-kit-error"' in green.text


def test_map_of_villages_for_a_town_but_not_for_one_village(
    client: TestClient, session: Session
) -> None:
    add_people(session)
    sign_in(client, Role.town_operator)
    assert 'data-testid="people-map"' in client.get("/people").text
    assert 'data-testid="people-map"' not in client.get("/people", params={"area": VILLAGE}).text


def test_import_form_says_whom_to_ask_of_a_number_registered_in_another_town(
    client: TestClient, session: Session
) -> None:
    from lianfang.people.importing import OUTSIDE_SCOPE

    elsewhere = add_people(session)["陈外镇"]  # registered in 栟茶镇
    sign_in(client, Role.village_worker)
    answer = upload(client, f"陈某,{elsewhere.id_number},,{VILLAGE},,0,\n")
    assert answer.status_code == 422
    assert OUTSIDE_SCOPE.in_language("zh") in answer.text
    assert OTHER_TOWN_VILLAGE not in answer.text
    assert OTHER_TOWN_VILLAGE[:9] not in answer.text
    assert "栟茶" not in answer.text
