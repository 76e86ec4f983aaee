"""Every write route refuses a body field it does not know (422 naming it), and stores nothing.

The routes come from the application's OpenAPI document, so a write route added later without a
strict schema (``lianfang.schemas.WriteSchema``) or without an example body here fails this test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lianfang.alerts import jobs
from lianfang.alerts.choices import AlertKind
from lianfang.alerts.models import Alert
from lianfang.auth.choices import Role
from lianfang.auth.scope import SYSTEM
from lianfang.db.base import Base
from lianfang.dispatch.models import Task
from lianfang.people.models import FollowUp
from lianfang.resources import ledger
from lianfang.resources import service as resources
from lianfang.resources.choices import FacilityType
from lianfang.resources.models import Item
from lianfang.resources.schemas import FacilityCreate
from lianfang.schemas import nearest
from tests.api.test_scope_matrix import finished_run
from tests.conftest import bearer
from tests.factories import PASSWORD, VILLAGE, id_number, make_user, role_username

UNKNOWN = "zz_not_a_field"
WRITE_METHODS = ("post", "put", "patch")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
SERIES = "date,visits\n" + "".join(f"2022-12-{d:02d},{d * 3}\n" for d in range(1, 29))


@dataclass
class Example:
    """A valid request to a write route: its JSON body, or its form fields and files."""

    json: dict[str, Any] | None = None
    data: dict[str, str] = field(default_factory=dict)
    files: dict[str, tuple[str, bytes, str]] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)  # path parameter -> key of the ids fixture


DUTY_CSV = f"区划代码,日期,班次,岗位,姓名\n{VILLAGE[:9]},2023-01-12,夜班,值班员,王五\n".encode()


def people_csv() -> bytes:
    return f"姓名,身份证号,村(居)代码\n严守一,{id_number('19450203', 5)},{VILLAGE}\n".encode()


EXAMPLES: dict[tuple[str, str], Example] = {
    ("post", "/api/auth/token"): Example(
        json={"username": role_username(Role.viewer), "password": PASSWORD}
    ),
    ("post", "/api/users"): Example(
        json={
            "username": "strict_new",
            "display_name": "新用户",
            "role": "viewer",
            "area_code": VILLAGE,
            "password": "a-long-enough-password",
        }
    ),
    ("patch", "/api/users/{user_id}"): Example(
        json={"display_name": "改名"}, ids={"user_id": "user"}
    ),
    ("post", "/api/forecast/runs"): Example(json={"area_code": VILLAGE[:9], "days": 30}),
    ("post", "/api/forecast/fits"): Example(
        data={"area_code": VILLAGE[:9]}, files={"series": ("s.csv", SERIES.encode(), "text/csv")}
    ),
    ("post", "/api/forecast/reruns"): Example(json={"run_id": 0}, ids={"run_id": "run"}),
    ("post", "/api/forecast/adoptions"): Example(json={"run_id": 0}, ids={"run_id": "done_run"}),
    ("post", "/api/people/import"): Example(
        data={"dry_run": "true"}, files={"file": ("p.csv", people_csv(), "text/csv")}
    ),
    ("post", "/api/people"): Example(
        json={"name": "严守一", "id_number": id_number("19450203", 5), "area_code": VILLAGE}
    ),
    ("post", "/api/people/alerts/{alert_id}/close"): Example(
        json={"note": "已转诊县人民医院"}, ids={"alert_id": "alert"}
    ),
    ("post", "/api/people/exports"): Example(json={"area": VILLAGE, "format": "csv"}),
    ("put", "/api/people/responsibles/{responsible_id}/user"): Example(
        json={"username": role_username(Role.village_worker)},
        ids={"responsible_id": "responsible"},
    ),
    ("put", "/api/alerts/thresholds"): Example(
        json={"area_code": VILLAGE, "kind": "beds_full", "value": 0.9}
    ),
    ("post", "/api/alerts/{alert_id}/close"): Example(
        json={"note": "已补充库存"}, ids={"alert_id": "facility_alert"}
    ),
    ("post", "/api/people/responsibles"): Example(json={"area_code": VILLAGE, "name": "严医生"}),
    ("post", "/api/people/assign"): Example(
        json={"person_ids": [], "responsible_id": 0}, ids={"person_ids": "person"}
    ),
    ("patch", "/api/people/{person_id}"): Example(
        json={"address": "掘港街道1号"}, ids={"person_id": "person"}
    ),
    ("post", "/api/people/{person_id}/reveal"): Example(
        json={"reason": "电话随访需要号码"}, ids={"person_id": "person"}
    ),
    ("post", "/api/people/{person_id}/grade"): Example(
        json={"grade": "red", "reason": "独居且行动不便"}, ids={"person_id": "person"}
    ),
    ("post", "/api/people/{person_id}/follow-ups"): Example(
        json={"method": "phone", "spo2_pct": 97}, ids={"person_id": "person"}
    ),
    ("post", "/api/people/{person_id}/kits"): Example(
        json={"kit": "red", "note": "随访时送达"}, ids={"person_id": "person"}
    ),
    **{
        (method, "/api/resources" + path): Example(json=body, ids=named)
        for method, path, body, named in (
            (
                "post",
                "/facilities",
                {"code": "S-NEW", "name": "新药房", "type": "pharmacy", "area_code": VILLAGE},
                {},
            ),
            ("patch", "/facilities/{facility_id}", {"phone": "0513-1"}, {"facility_id": "clinic"}),
            (
                "post",
                "/facilities/{facility_id}/capacity",
                {"beds_total": 300, "beds_occupied": 9},
                {"facility_id": "hospital"},
            ),
            (
                "post",
                "/facilities/{facility_id}/movements",
                {"kind": "receipt", "item_id": "{item}", "quantity": 3},
                {"facility_id": "clinic"},
            ),
            (
                "post",
                "/movements/{movement_id}/correction",
                {"note": "重复入库"},
                {"movement_id": "receipt"},
            ),
            (
                "put",
                "/facilities/{facility_id}/staff",
                {"role": "nurse", "total": 4, "on_duty": 3},
                {"facility_id": "clinic"},
            ),
            (
                "post",
                "/facilities/{facility_id}/staff-moves",
                {
                    "kind": "sent_down",
                    "name": "李医生",
                    "role": "doctor",
                    "to_facility_id": "{clinic}",
                    "start_on": "2022-12-20",
                },
                {"facility_id": "hospital"},
            ),
            (
                "put",
                "/facilities/{facility_id}/institution",
                {"beds": 280, "residents": 183},
                {"facility_id": "home"},
            ),
            (
                "post",
                "/facilities/{facility_id}/pairings",
                {"partner_id": "{clinic}", "since": "2022-12-20"},
                {"facility_id": "hospital"},
            ),
            (
                "post",
                "/facilities/{facility_id}/operators",
                {"user_id": "{hospital_user}"},
                {"facility_id": "hospital"},
            ),
            (
                "put",
                "/targets",
                {
                    "area_code": VILLAGE[:9],
                    "item_id": "{item}",
                    "facility_type": "village_clinic",
                    "per_facility": 3,
                },
                {},
            ),
        )
    },
    ("post", "/api/directives"): Example(
        json={
            "area": "3206",
            "title": "药包发放到户",
            "to_level": "village",
            "deadline": "2099-12-25",
            "targets": [VILLAGE],
            "departments": ["卫健委"],
        }
    ),
    ("post", "/api/tasks/{task_id}/split"): Example(
        json={"areas": []}, ids={"task_id": "town_task"}
    ),
    ("post", "/api/tasks/{task_id}/actions"): Example(
        json={"action": "accept"}, ids={"task_id": "task"}
    ),
    ("post", "/api/tasks/{task_id}/comments"): Example(
        json={"text": "已联系村医"}, ids={"task_id": "task"}
    ),
    ("post", "/api/tasks/{task_id}/evidence"): Example(
        data={"text": "已发放"},
        files={"file": ("签收.png", PNG, "image/png")},
        ids={"task_id": "task"},
    ),
    ("post", "/api/notifications/read"): Example(json={}),
    ("post", "/api/notify/channels"): Example(
        json={
            "name": "县值班邮箱",
            "area_code": VILLAGE[:6],
            "kind": "email",
            "target": "duty@example.gov.cn",
        }
    ),
    ("patch", "/api/notify/channels/{channel_id}"): Example(
        json={"enabled": True}, ids={"channel_id": "channel"}
    ),
    ("post", "/api/notify/channels/{channel_id}/test"): Example(
        json={"text": "测试"}, ids={"channel_id": "channel"}
    ),
    ("post", "/api/duty"): Example(
        json={
            "area_code": VILLAGE[:9],
            "on_date": "2023-01-12",
            "shift": "night",
            "role": "leader",
            "name": "陈建国",
            "phone": "13912340001",
        }
    ),
    ("patch", "/api/duty/{shift_id}"): Example(json={"note": "开机"}, ids={"shift_id": "duty"}),
    ("post", "/api/duty/handovers"): Example(
        json={"area_code": VILLAGE[:9], "on_date": "2023-01-12", "shift": "day", "text": "交接"}
    ),
    ("post", "/api/duty/handovers/read"): Example(json={"ids": ["{handover}"]}),
    ("post", "/api/duty/import"): Example(
        data={"dry_run": "true"},
        files={"file": ("roster.csv", DUTY_CSV, "text/csv")},
    ),
}


def write_routes(client: TestClient) -> dict[tuple[str, str], dict[str, Any]]:
    """Every route of the OpenAPI document that writes with a request body."""
    document = client.get("/openapi.json").json()
    return {
        (method, path): operation
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if method in WRITE_METHODS
    }


@pytest.fixture
def ids(client: TestClient, session: Session) -> dict[str, Any]:
    """A person with an open alert, a user and a responsible person to write to."""
    town = bearer(client, Role.town_operator)
    person = client.post(
        "/api/people",
        json={"name": "周玉兰", "id_number": id_number("19410305", 2), "area_code": VILLAGE},
        headers=town,
    ).json()
    alert = client.post(
        f"/api/people/{person['id']}/follow-ups", json={"method": "phone", "spo2_pct": 90},
        headers=town,
    ).json()["alert"]  # fmt: skip
    users = client.get("/api/users", headers=bearer(client, Role.admin)).json()
    responsible = client.post(
        "/api/people/responsibles", json={"area_code": VILLAGE, "name": "王医生"}, headers=town
    ).json()
    run = client.post(
        "/api/forecast/runs", json={"area_code": VILLAGE[:9], "days": 30},
        headers=bearer(client, Role.admin),
    ).json()  # fmt: skip
    jobs.run_rules(session=session, kinds=[AlertKind.stock_low])
    facility_alert = session.scalar(
        select(Alert.id).where(Alert.kind == AlertKind.stock_low, Alert.status == "open")
    )
    tasks = {}
    for key, to_level, target in (("task", "village", VILLAGE), ("town_task", "town", VILLAGE[:9])):
        made = client.post("/api/directives", headers=bearer(client, Role.admin), json={
            "area": VILLAGE[:6], "title": "摸排重点人群", "to_level": to_level,
            "deadline": "2099-12-25", "targets": [target]}).json()  # fmt: skip
        assert "rollup" in made, made
        tasks[key] = session.scalars(select(Task.id).where(
            Task.directive_id == made["directive"]["id"], Task.leaf)).one()  # fmt: skip
    channel = client.post("/api/notify/channels", headers=bearer(client, Role.admin), json={
        "name": "县企业微信群", "area_code": VILLAGE[:6], "kind": "wecom",
        "target": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"}).json()  # fmt: skip
    return resource_ids(session) | tasks | duty_ids(session) | {
        "channel": channel["id"],
        "facility_alert": facility_alert,
        "person": person["id"], "alert": alert["id"], "responsible": responsible["id"],
        "run": run["id"], "done_run": finished_run(session, VILLAGE[:9] + "000"),
        "user": next(u["id"] for u in users if u["username"] == role_username(Role.viewer)),
    }  # fmt: skip


def duty_ids(session: Session) -> dict[str, Any]:
    """A staff member on duty in the first town, and a handover note there."""
    from lianfang.duty import service
    from lianfang.duty.choices import DutyRole, Shift

    town, day = VILLAGE[:9] + "000", date(2023, 1, 11)
    data = service.ShiftIn(
        area_code=town, on_date=day, shift=Shift.night, role=DutyRole.staff, name="赵六"
    )
    made = service.create(session=session, actor=SYSTEM, data=data)
    note = service.hand_over(session=session, actor=SYSTEM, area_code=town, on_date=day,
                             shift=Shift.day, text="交接")  # fmt: skip
    return {"duty": made.id, "handover": note.id}


def resource_ids(session: Session) -> dict[str, Any]:
    """A clinic with a receipt to correct, a hospital, a nursing home, an item and a hospital
    operator to name, in the first village."""
    ibu = session.scalar(select(Item).where(Item.code == "ibuprofen"))
    assert ibu is not None
    made = {
        key: resources.create_facility(
            session=session, actor=SYSTEM,
            data=FacilityCreate(code=f"S-{key}", name=f"严格{key}", type=kind, area_code=VILLAGE),
        ).id
        for key, kind in (("clinic", FacilityType.village_clinic),
                          ("hospital", FacilityType.secondary_hospital),
                          ("home", FacilityType.nursing_home))
    }  # fmt: skip
    receipt = ledger.receive(
        session=session, actor=SYSTEM, facility_id=made["clinic"], item_id=ibu.id, quantity=9
    )
    user = make_user(session, username="s_hospital", role=Role.hospital_operator,
                     area_code=VILLAGE)  # fmt: skip
    return made | {"item": ibu.id, "receipt": receipt.id, "hospital_user": user.id}


def counts(session: Session) -> dict[str, int]:
    """Rows in every table (sign-in's own session and audit rows aside)."""
    return {
        name: session.scalar(select(func.count()).select_from(table)) or 0
        for name, table in Base.metadata.tables.items()
        if name not in ("user_session", "api_token", "audit_event")
    }


def value(ids: dict[str, Any], v: Any) -> Any:
    """A "{name}" string of an example replaced by the standing id of that name."""
    return ids[v[1:-1]] if isinstance(v, str) and v[:1] == "{" and v[-1:] == "}" else v


def send(client: TestClient, method: str, path: str, example: Example, ids: dict[str, Any],
         headers: dict[str, str], extra: dict[str, Any]) -> Any:  # fmt: skip
    url = path.format(**{name: ids[key] for name, key in example.ids.items() if "{" + name in path})
    if example.json is not None:
        body = dict(example.json)
        if "person_ids" in example.ids:
            body |= {"person_ids": [ids["person"]], "responsible_id": ids["responsible"]}
        if "run_id" in example.ids:
            body |= {"run_id": ids[example.ids["run_id"]]}
        body = {
            k: [value(ids, x) for x in v] if isinstance(v, list) else value(ids, v)
            for k, v in body.items()
        }
        return client.request(method, url, json=body | extra, headers=headers)
    data = example.data | {k: str(v) for k, v in extra.items()}
    return client.request(method, url, data=data, files=example.files, headers=headers)


def test_every_write_route_has_a_strict_schema_and_an_example(client: TestClient) -> None:
    routes = write_routes(client)
    document = client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    assert set(routes) == set(EXAMPLES), "add an example body for each new write route"
    for (method, path), operation in routes.items():
        content = operation["requestBody"]["content"]
        for media in content.values():
            name = media["schema"]["$ref"].rsplit("/", 1)[-1]
            assert schemas[name].get("additionalProperties") is False, (method, path, name)


def test_every_write_route_refuses_an_unknown_field_and_stores_nothing(
    client: TestClient, session: Session, ids: dict[str, Any]
) -> None:
    admin = bearer(client, Role.admin)
    before = counts(session)
    for (method, path), example in EXAMPLES.items():
        answer = send(client, method, path, example, ids, admin, {UNKNOWN: "1"})
        assert answer.status_code == 422, (method, path, answer.text)
        body = answer.json()
        assert [u["field"] for u in body["unknown_fields"]] == [UNKNOWN], (method, path)
        assert UNKNOWN in body["message"]
        assert {d["type"] for d in body["detail"]} == {"extra_forbidden"}, (path, body)
        assert counts(session) == before, (method, path)


def test_the_examples_are_accepted_without_the_unknown_field(
    client: TestClient, ids: dict[str, Any]
) -> None:
    admin = bearer(client, Role.admin)
    for (method, path), example in EXAMPLES.items():
        answer = send(client, method, path, example, ids, admin, {})
        assert answer.status_code < 300, (method, path, answer.text)


def test_guessed_follow_up_fields_are_refused_with_hints(
    client: TestClient, session: Session, ids: dict[str, Any]
) -> None:
    before = session.scalar(select(func.count()).select_from(FollowUp))
    answer = client.post(
        f"/api/people/{ids['person']}/follow-ups",
        json={"spo2": 91, "temperature": 38.9, "method": "phone"},
        headers=bearer(client, Role.town_operator),
    )
    assert answer.status_code == 422, answer.text
    unknown = {u["field"]: u["did_you_mean"] for u in answer.json()["unknown_fields"]}
    assert unknown == {"spo2": "spo2_pct", "temperature": "temperature_c"}
    assert "spo2（是否应为 spo2_pct？）" in answer.json()["message_zh"]
    assert "spo2 (did you mean spo2_pct?)" in answer.json()["message_en"]
    assert session.scalar(select(func.count()).select_from(FollowUp)) == before


def test_unknown_fields_inside_forecast_inputs_are_named_where_they_are(
    client: TestClient,
) -> None:
    answer = client.post(
        "/api/forecast/runs",
        json={
            "area_code": VILLAGE[:9],
            "scenarios": [
                {
                    "name": "x",
                    "festivals": {},
                    "measures": [{"name": "m", "start": "2022-12-10", "contact": 0.8}],
                }
            ],
            "parameters": {"R0": 2.5},
        },
        headers=bearer(client, Role.admin),
    )
    assert answer.status_code == 422, answer.text
    unknown = {u["field"]: u["did_you_mean"] for u in answer.json()["unknown_fields"]}
    assert unknown == {
        "scenarios.0.festivals": "festival",
        "scenarios.0.measures.0.contact": "contact_factor",
        "parameters.R0": "r0",
    }


def test_a_bad_parameter_value_is_a_422_not_a_failed_run(client: TestClient) -> None:
    answer = client.post(
        "/api/forecast/runs",
        json={"area_code": VILLAGE[:9], "parameters": {"r0": "many"},
              "scenarios": [{"measures": [{"name": "m", "start": "2022-12-10",
                                           "oximetry_coverage": 2}]}]},
        headers=bearer(client, Role.admin),
    )  # fmt: skip
    assert answer.status_code == 422, answer.text
    assert {tuple(d["loc"][:2]) for d in answer.json()["detail"]} == {
        ("body", "scenarios"), ("body", "parameters")
    }  # fmt: skip


@pytest.mark.parametrize(
    ("name", "hint"),
    [("spo2", "spo2_pct"), ("temperature", "temperature_c"), ("adress", "address"),
     ("vaccine", "vaccine_doses"), ("xyz", None)],
)  # fmt: skip
def test_nearest_known_name(name: str, hint: str | None) -> None:
    known = ["spo2_pct", "temperature_c", "address", "vaccine_doses", "method", "notes"]
    assert nearest(name, known) == hint
