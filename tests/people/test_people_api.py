"""The people API against a real database: masking, scope, reveal, imports, exports, coverage."""

from __future__ import annotations

import io
from typing import Any

from fastapi.testclient import TestClient
from python_calamine import CalamineWorkbook
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from lianfang.alerts.models import Alert
from lianfang.auth.choices import AuditAction, Role
from lianfang.auth.models import AuditEvent
from lianfang.people.choices import AlertStatus, Grade, Guarantee
from lianfang.people.models import Person
from tests.conftest import bearer
from tests.factories import OTHER_TOWN_VILLAGE, TOWN, VILLAGE, VILLAGE_2, add_hospital, id_number

PHONE = "13812345678"
HEADER = "姓名,身份证号,联系电话,村(居)代码,冠心病,疫苗剂次,负责人\n"


def create(client: TestClient, headers: dict[str, str], **fields: Any) -> Any:
    body = {
        "name": "周玉兰",
        "id_number": id_number("19410305", 2),
        "area_code": VILLAGE,
        "phone": PHONE,
        "conditions": {"coronary": "unstable"},
        "vaccine_doses": 1,
    } | fields
    answer = client.post("/api/people", json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    return answer.json()


def audits(session: Session, action: AuditAction) -> int:
    return session.scalar(select(func.count()).where(AuditEvent.action == action)) or 0


def test_create_reads_masked_with_grade_and_guarantees(client: TestClient) -> None:
    town = bearer(client, Role.town_operator)
    person = create(client, town)
    number = id_number("19410305", 2)
    assert person["id_number"] == number[:6] + "*" * 11 + number[-1]
    assert "birth_date" not in person
    assert person["age"] > 80
    assert person["phone"] == "138****5678"
    assert person["grade"] == "red"
    assert person["grade_method"] == "rule"
    states = {g["guarantee"]: g for g in person["guarantees"]}
    assert set(states) == {g.value for g in Guarantee}
    assert states["in_charge"]["met"] is False
    assert states["in_charge"]["zh"]
    assert person["due_on"] is not None
    assert person["alerts_open"] == 0
    again = client.get(f"/api/people/{person['id']}", headers=town).json()
    assert again["id_number"] == person["id_number"]
    assert again["phone"] == "138****5678"
    query = {"area": TOWN, "grade": ["red", "yellow"], "q": number}
    listed = client.get("/api/people", params=query, headers=town)
    assert [p["id"] for p in listed.json()["items"]] == [person["id"]]
    assert "5678" in listed.text
    assert PHONE not in listed.text
    assert number not in listed.text
    assert number[6:14] not in listed.text  # the birth date


def test_id_search_is_whole_numbers_only_audited_and_needs_reveal(
    client: TestClient, session: Session
) -> None:
    town = bearer(client, Role.town_operator)
    person = create(client, town)
    number = id_number("19410305", 2)
    before = audits(session, AuditAction.lookup)
    found = client.get("/api/people", params={"area": TOWN, "q": number.lower()}, headers=town)
    assert [p["id"] for p in found.json()["items"]] == [person["id"]]
    assert audits(session, AuditAction.lookup) == before + 1
    lookup = AuditEvent.action == AuditAction.lookup
    logged = session.scalar(select(AuditEvent.detail).where(lookup))
    assert number not in (logged or "")
    assert number[:6] in (logged or "")
    for part in (number[-4:], number[-8:], number[:17]):  # a tail would fill in masked numbers
        partial = client.get("/api/people", params={"area": TOWN, "q": part}, headers=town)
        assert partial.status_code == 400, part
        assert "18" in partial.json()["message_zh"]
    viewer = bearer(client, Role.viewer)
    refused = client.get("/api/people", params={"area": TOWN, "q": number}, headers=viewer)
    assert refused.status_code == 403
    by_name = client.get("/api/people", params={"area": TOWN, "q": "周玉兰"}, headers=viewer)
    assert [p["id"] for p in by_name.json()["items"]] == [person["id"]]
    exported = export(client, viewer, q=number)
    assert exported.status_code == 403


def test_bad_id_is_a_422_naming_the_field(client: TestClient, session: Session) -> None:
    before = session.scalar(select(func.count()).select_from(Person))
    good = id_number("19400101", 1)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    answer = client.post(
        "/api/people",
        json={"name": "乙", "id_number": bad, "area_code": VILLAGE},
        headers=bearer(client, Role.town_operator),
    )
    assert answer.status_code == 422, answer.text
    assert [d["field"] for d in answer.json()["detail"]] == ["id_number"]
    assert session.scalar(select(func.count()).select_from(Person)) == before


def test_patch_changes_only_given_fields(client: TestClient) -> None:
    town = bearer(client, Role.town_operator)
    person = create(client, town)
    answer = client.patch(
        f"/api/people/{person['id']}", json={"vaccine_doses": 3, "conditions": {}}, headers=town
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["grade"] == "yellow"
    assert answer.json()["phone"] == "138****5678"
    bad = client.patch(f"/api/people/{person['id']}", json={"phone": "12"}, headers=town)
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["field"] == "phone"
    history = client.get(f"/api/people/{person['id']}/history", headers=town).json()
    assert history["grades"][0]["to_grade"] == "yellow"


def test_out_of_scope_person_is_not_found(client: TestClient) -> None:
    town = bearer(client, Role.town_operator)
    elsewhere = create(client, bearer(client, Role.admin), area_code=OTHER_TOWN_VILLAGE)
    assert client.get(f"/api/people/{elsewhere['id']}", headers=town).status_code == 404
    village = bearer(client, Role.village_worker)
    other_town = client.get("/api/people", params={"area": OTHER_TOWN_VILLAGE}, headers=village)
    assert other_town.status_code == 403
    neighbour = create(client, town, id_number=id_number("19420101", 3), area_code=VILLAGE_2)
    assert client.get(f"/api/people/{neighbour['id']}", headers=village).status_code == 404


def test_reveal_needs_a_reason_and_is_audited(client: TestClient, session: Session) -> None:
    town = bearer(client, Role.town_operator)
    person = create(client, town)
    url = f"/api/people/{person['id']}/reveal"
    assert client.post(url, json={"reason": "看"}, headers=town).status_code == 400
    before = audits(session, AuditAction.reveal)
    answer = client.post(url, json={"reason": "上门随访核对身份"}, headers=town)
    assert answer.status_code == 200
    assert answer.json() == {"id": person["id"], "id_number": id_number("19410305", 2),
                             "birth_date": "1941-03-05", "phone": PHONE}  # fmt: skip
    assert audits(session, AuditAction.reveal) == before + 1
    viewer = client.post(
        url, json={"reason": "上门随访核对身份"}, headers=bearer(client, Role.viewer)
    )
    assert viewer.status_code == 403


def export(client: TestClient, headers: dict[str, str], **params: Any) -> Any:
    return client.get("/api/people/export", params={"area": TOWN} | params, headers=headers)


def test_export_is_masked_unless_revealed_with_permission_and_reason(client: TestClient) -> None:
    town = bearer(client, Role.town_operator)
    create(client, town)
    number = id_number("19410305", 2)
    masked = export(client, town, format="csv")
    assert masked.status_code == 200
    assert "138****5678" in masked.text
    assert number not in masked.text
    assert export(client, town, format="csv", reveal=True).status_code == 400
    viewer = export(client, bearer(client, Role.viewer), reveal=True, reason="核对名单")
    assert viewer.status_code == 403
    full = export(client, town, format="csv", reveal=True, reason="核对名单")
    assert number in full.text
    assert PHONE in full.text


def test_unmasked_export_reimports_unchanged(client: TestClient) -> None:
    town = bearer(client, Role.town_operator)
    create(client, town, responsible="王医生", responsible_phone="13900001111")
    create(client, town, name="李建国", id_number=id_number("19500101", 3), area_code=VILLAGE_2)
    data = export(client, town, reveal=True, reason="核对名单").content
    files = {"file": ("people.xlsx", data, "application/octet-stream")}
    answer = client.post("/api/people/import", files=files, headers=town)
    assert answer.status_code == 200, answer.text
    assert (answer.json()["created"], answer.json()["updated"]) == (0, 0)
    assert answer.json()["unchanged"] == answer.json()["rows"] >= 2


def test_bad_row_writes_nothing_and_its_report_downloads(
    client: TestClient, session: Session
) -> None:
    town = bearer(client, Role.town_operator)
    good, bad = id_number("19400101", 1), "32062319400102001"
    body = f"甲,{good},,{VILLAGE},,0,\n乙,{bad},,{VILLAGE},,0,\n"
    before = session.scalar(select(func.count()).select_from(Person))
    files = {"file": ("people.csv", (HEADER + body).encode(), "text/csv")}
    answer = client.post("/api/people/import", files=files, headers=town)
    assert answer.status_code == 422, answer.text
    problem = answer.json()["detail"][0]
    assert (problem["row"], problem["column"], problem["field"]) == (3, "身份证号", "id_number")
    assert session.scalar(select(func.count()).select_from(Person)) == before
    report = client.get(answer.json()["report_url"], headers=town)
    assert report.status_code == 200
    assert report.content[:2] == b"PK"
    rows = CalamineWorkbook.from_filelike(io.BytesIO(report.content)).get_sheet_by_index(0)
    table = [[str(c) for c in r] for r in rows.to_python()]
    flagged = [r for r in table if bad in r]
    assert flagged
    assert any("身份证号" in cell for cell in flagged[0])
    other = client.get(answer.json()["report_url"], headers=bearer(client, Role.admin))
    assert other.status_code == 404


def test_dry_run_writes_nothing(client: TestClient, session: Session) -> None:
    body = f"甲,{id_number('19400101', 1)},,{VILLAGE},,0,\n"
    before = session.scalar(select(func.count()).select_from(Person))
    files = {"file": ("people.csv", (HEADER + body).encode(), "text/csv")}
    answer = client.post(
        "/api/people/import", files=files, data={"dry_run": "true"},
        headers=bearer(client, Role.town_operator),
    )  # fmt: skip
    assert answer.status_code == 200
    assert answer.json()["created"] == 1
    assert session.scalar(select(func.count()).select_from(Person)) == before


def test_low_spo2_raises_an_alert_that_can_be_closed(client: TestClient) -> None:
    town = bearer(client, Role.town_operator)
    person = create(client, town)
    url = f"/api/people/{person['id']}/follow-ups"
    answer = client.post(url, json={"method": "phone", "spo2_pct": 91}, headers=town)
    assert answer.status_code == 201, answer.text
    alert = answer.json()["alert"]
    assert alert is not None
    assert alert["reasons"] == ["low_spo2"]
    assert client.get(f"/api/people/{person['id']}", headers=town).json()["alerts_open"] == 1
    calm = client.post(url, json={"method": "visit", "spo2_pct": 97}, headers=town)
    assert calm.json()["alert"] is None
    listed = client.get("/api/people/alerts", params={"area": TOWN}, headers=town).json()
    assert alert["id"] in [a["id"] for a in listed["items"]]
    close = f"/api/people/alerts/{alert['id']}/close"
    closed = client.post(close, json={"note": "已转诊县人民医院"}, headers=town)
    assert closed.status_code == 200
    assert closed.json()["status"] == "closed"
    assert client.post(close, json={"note": "已转诊县人民医院"}, headers=town).status_code == 409


def test_grade_override_needs_permission_and_reason(client: TestClient) -> None:
    town = bearer(client, Role.town_operator)
    person = create(client, town)
    url = f"/api/people/{person['id']}/grade"
    body = {"grade": "yellow", "reason": "病情已稳定三个月"}
    assert (
        client.post(url, json=body, headers=bearer(client, Role.village_worker)).status_code == 403
    )
    answer = client.post(url, json=body, headers=town).json()
    assert (answer["grade"], answer["grade_method"]) == ("yellow", "manual")
    back = client.post(url, json={"grade": None, "reason": "恢复规则定级"}, headers=town).json()
    assert back["grade"] == "red"


def test_responsibles_and_assignment(client: TestClient) -> None:
    town = bearer(client, Role.town_operator)
    people = [create(client, town, id_number=id_number("19400101", n)) for n in (1, 3)]
    made = client.post(
        "/api/people/responsibles",
        json={"area_code": VILLAGE, "name": "张医生", "kind": "family_doctor", "phone": PHONE},
        headers=town,
    )
    assert made.status_code == 201
    assert made.json()["phone"] == "138****5678"
    body = {"person_ids": [p["id"] for p in people], "responsible_id": made.json()["id"]}
    assert client.post("/api/people/assign", json=body, headers=town).json() == {"changed": 2}
    listed = client.get("/api/people/responsibles", params={"area": TOWN}, headers=town).json()
    assert "张医生" in [r["name"] for r in listed]
    query = {"area": TOWN, "responsible_id": made.json()["id"]}
    mine = client.get("/api/people", params=query, headers=town).json()
    assert sorted(p["id"] for p in mine["items"]) == sorted(p["id"] for p in people)
    lacking = client.get("/api/people", params=query | {"missing": "in_charge"}, headers=town)
    assert lacking.json()["total"] == 0


def test_coverage_matches_a_direct_count(client: TestClient, session: Session) -> None:
    town = bearer(client, Role.town_operator)
    create(client, town, responsible="王医生")
    create(client, town, id_number=id_number("19450101", 3), area_code=VILLAGE_2)
    create(client, town, id_number=id_number("19800101", 5), conditions={}, vaccine_doses=3)
    first = create(client, town, id_number=id_number("19460101", 7))
    client.post(f"/api/people/{first['id']}/follow-ups",
                json={"method": "phone", "spo2_pct": 90}, headers=town)  # fmt: skip
    answer = client.get(f"/api/areas/{TOWN}/coverage", headers=town)
    assert answer.status_code == 200, answer.text
    figures = answer.json()

    def count(*where: Any) -> int:
        people = select(func.count()).select_from(Person).where(Person.area_code.like("320623001%"))
        return session.scalar(people.where(*where)) or 0

    assert figures["red"] == count(Person.grade == Grade.red)
    assert figures["green"] == count(Person.grade == Grade.green)
    followed = Person.grade.in_((Grade.red, Grade.yellow))
    assert figures["no_responsible"] == count(followed, Person.responsible_id.is_(None))
    assert figures["alerts_open"] == session.scalar(
        select(func.count()).where(
            Alert.status == AlertStatus.open, Alert.area_code.like("320623001%")
        )
    )
    assert figures["alerts_open"] >= 1
    by_code = {c["code"]: c for c in figures["children"]}
    assert by_code[VILLAGE]["red"] == count(Person.area_code == VILLAGE, Person.grade == Grade.red)
    assert by_code[VILLAGE]["name"]
    assert sum(c["total"] for c in figures["children"]) == count()
    in_charge = next(g for g in figures["guarantees"] if g["guarantee"] == "in_charge")
    assert in_charge["covered"] == count(followed, Person.responsible_id.is_not(None))
    village = bearer(client, Role.village_worker)
    assert client.get(f"/api/areas/{TOWN}/coverage", headers=village).status_code == 403


def test_template_is_a_workbook_with_the_sheet_headers(client: TestClient) -> None:
    answer = client.get("/api/people/template", headers=bearer(client, Role.village_worker))
    assert answer.status_code == 200
    rows = CalamineWorkbook.from_filelike(io.BytesIO(answer.content)).get_sheet_by_index(0)
    headers = [str(c) for c in rows.to_python()[0]]
    assert "身份证号" in headers
    assert "风险等级" not in headers


ELSEWHERE = "320612001001"  # a village of 通州区, outside every test user's scope but admin's


def test_a_number_registered_elsewhere_says_whom_to_ask_never_where(
    client: TestClient, session: Session
) -> None:
    from lianfang.areas.models import Area
    from lianfang.people.importing import OUTSIDE_SCOPE

    number = id_number("19450607", 5, region="320612")
    stored = create(client, bearer(client, Role.admin), id_number=number, area_code=ELSEWHERE)
    names = session.scalars(
        select(Area.name).where(Area.code.in_([ELSEWHERE, "320612001000", "320612000000"]))
    ).all()
    places = [ELSEWHERE, ELSEWHERE[:9], "320612", *names]
    assert len(names) == 3
    village = bearer(client, Role.village_worker)
    answer = client.post(
        "/api/people", json={"name": "王某", "id_number": number, "area_code": VILLAGE},
        headers=village,
    )  # fmt: skip
    assert answer.status_code == 422, answer.text
    problem = answer.json()["detail"][0]
    assert problem["field"] == "id_number"
    assert problem["message_zh"].endswith(OUTSIDE_SCOPE.in_language("zh"))
    assert set(answer.json()) | set(problem) <= {  # no person id anywhere
        "error", "message", "message_zh", "message_en", "detail", "field", "row", "column",
    }  # fmt: skip
    assert str(stored["id"]) not in problem["message_zh"] + problem["message_en"]
    body = f"王某,{number},,{VILLAGE},,0,\n"
    files = {"file": ("people.csv", (HEADER + body).encode(), "text/csv")}
    imported = client.post("/api/people/import", files=files, headers=village)
    assert imported.status_code == 422
    assert imported.json()["detail"][0]["message_en"].endswith(OUTSIDE_SCOPE.in_language("en"))
    report = client.get(imported.json()["report_url"], headers=village)
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(report.content)).get_sheet_by_index(0)
    said = answer.text + imported.text + str(sheet.to_python()).replace(number, "")
    for place in places:
        assert place not in said, place


def test_a_list_reads_its_people_hospitals_once_whatever_its_size(
    client: TestClient, session: Session, engine: Engine
) -> None:
    town = bearer(client, Role.town_operator)
    for n in range(3):
        add_hospital(session, code=f"H{n}", name=f"第{n}人民医院")
    session.commit()
    for n in range(12):
        create(client, town, name=f"病人{n}", id_number=id_number(f"194{n % 10}0305", n + 10),
               hospital=f"H{n % 3}")  # fmt: skip
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    seen = {}
    event.listen(engine, "before_cursor_execute", count)
    try:
        for size in (2, 12):
            statements.clear()
            answer = client.get(f"/api/people?area={TOWN}&size={size}", headers=town)
            assert answer.status_code == 200, answer.text
            assert len(answer.json()["items"]) == size
            assert {p["hospital"] for p in answer.json()["items"]} <= {
                f"第{n}人民医院" for n in range(3)
            }
            seen[size] = len([s for s in statements if "FROM facility" in s])
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert seen[2] == seen[12] == 1, seen  # one read of the hospitals, not one per person
