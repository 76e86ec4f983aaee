"""The duty API end to end: arranging a town's night, who is on duty now, masking, the sheet
(template, an import rejected row by row, an export that imports back), handover notes."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lianfang.auth.choices import Role
from lianfang.duty.models import DutyShift
from lianfang.duty.sheet import SPEC
from lianfang.io import sheets
from tests.conftest import bearer
from tests.factories import COUNTY, TOWN, VILLAGE

DAY = "2023-01-12"
HEADERS = "区划代码,日期,班次,岗位,姓名,电话,备注"


def upload(client: TestClient, role: Role, data: bytes, name: str = "roster.csv", **form: str):  # type: ignore[no-untyped-def]
    return client.post("/api/duty/import", data=form, headers=bearer(client, role),
                       files={"file": (name, data, "text/csv")})  # fmt: skip


def test_arrange_see_now_and_mask(client: TestClient) -> None:
    town = bearer(client, Role.town_operator)
    body = {"area_code": TOWN, "on_date": DAY, "shift": "night", "role": "leader",
            "name": "陈建国", "phone": "13912340001"}  # fmt: skip
    made = client.post("/api/duty", json=body, headers=town)
    assert made.status_code == 201, made.text
    again = client.post("/api/duty", json=body | {"name": "李四", "phone": "13912340002"},
                        headers=town)  # fmt: skip
    assert again.status_code == 409
    assert "陈建国" in again.json()["message_zh"]
    now = client.get(f"/api/duty/now?area={VILLAGE}&at={DAY}T23:00:00", headers=town).json()
    assert (now["fallback"], now["source_code"]) == (True, TOWN)
    assert [(s["name"], s["phone"]) for s in now["shifts"]] == [("陈建国", "13912340001")]
    viewer = bearer(client, Role.viewer)
    listed = client.get(f"/api/duty?area={COUNTY}&from={DAY}&to={DAY}", headers=viewer).json()
    assert [s["phone"] for s in listed] == ["139****0001"]
    changed = client.patch(f"/api/duty/{made.json()['id']}", json={"note": "手机24小时开机"},
                           headers=town)  # fmt: skip
    assert changed.json()["note"] == "手机24小时开机"
    refused = client.patch(f"/api/duty/{made.json()['id']}", json={"phon": "1"}, headers=town)
    assert refused.status_code == 422
    assert client.delete(f"/api/duty/{made.json()['id']}", headers=viewer).status_code == 403
    assert client.delete(f"/api/duty/{made.json()['id']}", headers=town).status_code == 204


def test_an_import_with_bad_rows_writes_nothing_and_names_row_and_column(
    client: TestClient, session: Session
) -> None:
    before = session.scalar(select(func.count()).select_from(DutyShift))
    csv = (f"{HEADERS}\n{TOWN},{DAY},夜班,带班领导,陈建国,13912340001,\n"
           f"{TOWN},{DAY},夜班,带班领导,李四,13912340002,\n"
           f"{TOWN},2023-13-01,白班,值班员,王五,13912340003,\n"
           f"{TOWN},{DAY},早班,值班员,赵六,13912340004,\n").encode()  # fmt: skip
    answer = upload(client, Role.town_operator, csv)
    assert answer.status_code == 422, answer.text
    problems = {(d["row"], d["column"]) for d in answer.json()["detail"]}
    assert problems == {(3, "姓名"), (4, "日期"), (5, "班次")}
    assert "陈建国" in answer.json()["detail"][0]["message_zh"]  # row 3 meets row 2's leader
    assert session.scalar(select(func.count()).select_from(DutyShift)) == before
    unknown = upload(client, Role.town_operator, f"{HEADERS},工号\n".encode())
    assert unknown.status_code == 400
    assert "工号" in unknown.json()["message_zh"]


def test_template_import_in_english_and_export_that_imports_back(client: TestClient) -> None:
    town = bearer(client, Role.town_operator)
    template = client.get("/api/duty/template", headers=town)
    assert template.status_code == 200
    assert template.content[:2] == b"PK"
    english = ",".join(c.en for c in SPEC.importable)
    rows = (f"{english}\n{TOWN},{DAY},night,,,leader,Chen,,13912340001,\n"
            f"{VILLAGE},{DAY},day,09:00,17:00,staff,Wang,,13912340005,带\n").encode()  # fmt: skip
    dry = upload(client, Role.town_operator, rows, dry_run="true")
    assert dry.json() == {"rows": 2, "created": 2, "updated": 0, "dry_run": True}
    assert client.get(f"/api/duty?area={TOWN}&from={DAY}&to={DAY}", headers=town).json() == []
    assert upload(client, Role.town_operator, rows).json()["created"] == 2
    viewer = bearer(client, Role.viewer)
    exported = client.get(f"/api/duty/export?area={TOWN}&from={DAY}&to={DAY}&format=csv",
                          headers=viewer)  # fmt: skip
    table = sheets.read(exported.content, "duty.csv", SPEC)
    assert table.values("phone") == ["139****0001", "139****0005"]
    assert table.values("start") == ["", "09:00"]
    back = upload(client, Role.town_operator, exported.content)  # masked phones keep the stored
    assert back.json() == {"rows": 2, "created": 0, "updated": 2, "dry_run": False}
    shown = client.get(f"/api/duty?area={TOWN}&from={DAY}&to={DAY}", headers=town).json()
    assert [s["phone"] for s in shown] == ["13912340001", "13912340005"]


def test_handover_notes(client: TestClient) -> None:
    town = bearer(client, Role.town_operator)
    text = "栟茶镇转运车辆今晚检修。"
    note = client.post("/api/duty/handovers", headers=town, json={
        "area_code": TOWN, "on_date": DAY, "shift": "day", "text": text})  # fmt: skip
    assert note.status_code == 201, note.text
    listed = client.get(f"/api/duty/handovers?area={TOWN}&from={DAY}&to={DAY}", headers=town)
    assert [h["text"] for h in listed.json()] == [text]
    read = client.post("/api/duty/handovers/read", json={"ids": [note.json()["id"]]},
                       headers=town)  # fmt: skip
    assert read.json()[0]["read_by_name"] == "t_town_operator"
    viewer = bearer(client, Role.viewer)
    refused = client.post("/api/duty/handovers", headers=viewer, json={
        "area_code": TOWN, "on_date": DAY, "shift": "day", "text": "x"})  # fmt: skip
    assert refused.status_code == 403
