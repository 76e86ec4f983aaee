"""Role × endpoint: who may call what, on which area. Every API route must appear here."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.api.app import create_app
from lianfang.areas import codes
from lianfang.auth import service as auth
from lianfang.auth.choices import Role
from lianfang.auth.scope import SYSTEM
from lianfang.config import Settings
from lianfang.forecast import adoption
from lianfang.forecast import service as forecasts
from lianfang.forecast.models import RunKind, RunStatus
from lianfang.io import sheets
from lianfang.people import exporting, flows, followups
from lianfang.people import service as people
from lianfang.people.choices import ChangeSource, ContactMethod, ExportStatus, ResponsibleKind
from lianfang.people.models import ExportJob, ImportReport, Responsible
from lianfang.people.sheet import SPEC
from lianfang.resources import ledger
from lianfang.resources import service as resources
from lianfang.resources import sheet as resource_sheets
from lianfang.resources.choices import FacilityType, StaffMoveKind, StaffRole
from lianfang.resources.models import Facility, Item
from lianfang.resources.schemas import (
    FacilityCreate,
    InstitutionWrite,
    PairingCreate,
    StaffMoveCreate,
    TargetWrite,
)
from tests.conftest import bearer
from tests.factories import (
    COUNTY,
    OTHER_COUNTY_TOWN,
    OTHER_TOWN,
    OTHER_TOWN_VILLAGE,
    ROLE_AREAS,
    TOWN,
    VILLAGE,
    VILLAGE_2,
    id_number,
    make_user,
    role_username,
)

ALL = frozenset(Role)
MANAGERS = frozenset({Role.admin, Role.city_commander, Role.district_operator})
CITY_WIDE = frozenset(
    {Role.admin, Role.city_commander, Role.hospital_operator, Role.safety_inspector, Role.viewer}
)
REACH_TOWN = CITY_WIDE | {Role.district_operator, Role.town_operator}
FORECASTERS = frozenset({Role.admin, Role.city_commander, Role.district_operator})
READERS = ALL - {Role.hospital_operator, Role.safety_inspector}
EDITORS = frozenset({Role.admin, Role.district_operator, Role.town_operator, Role.village_worker})
REVEALERS = EDITORS | {Role.city_commander}
GRADERS = frozenset({Role.admin, Role.district_operator, Role.town_operator})
PERSON = id_number("19410305", 2)
PEOPLE_CSV = f"姓名,身份证号,村(居)代码\n甲,{id_number('19400101', 1)},{VILLAGE}\n".encode()
OTHER_COUNTY_VILLAGE = OTHER_COUNTY_TOWN[:9] + "001"
SPREAD = (VILLAGE_2, OTHER_TOWN_VILLAGE, OTHER_COUNTY_VILLAGE)
"""Villages outside the narrower roles' areas, where every list gets rows of its own."""
Rows = Callable[[Any], list[str | None]]
"""The area code of every row a list or export answered with."""


def items(key: str = "area_code", within: str | None = "items") -> Rows:
    """The codes of a JSON list (or of the list under ``within``)."""
    return lambda answer: [row[key] for row in (answer.json()[within] if within else answer.json())]


def exported_facilities(answer: Any) -> list[str | None]:
    """The area codes of an exported facilities sheet."""
    _spec, table = resource_sheets.read(answer.content, "export.csv")
    return list(table.values("area_code") or [])


def exported(answer: Any) -> list[str | None]:
    """The village codes of an exported people sheet."""
    table = sheets.read(answer.content, "export.csv", SPEC)
    return list(table.array("area_code").to_pylist())  # type: ignore[union-attr]


@dataclass(frozen=True)
class Case:
    """One concrete call of an endpoint and the roles for which it succeeds."""

    method: str
    route: str
    url: str
    allowed: frozenset[Role]
    ok: int = 200
    body: dict[str, Any] | None = field(default=None)
    upload: bytes | None = None  # sent as a multipart file, with body as form fields
    upload_field: str = "series"
    upload_name: str = "upload.csv"
    rows: Rows | None = None  # a list or an export: no row may lie outside the caller's area

    def send(
        self,
        client: TestClient,
        url: str,
        headers: dict[str, str] | None = None,
        values: dict[str, Any] | None = None,
    ) -> Any:
        """Make the call, as JSON or as a form with a file; "{name}" in the body is filled in."""
        body = fill(self.body, values or {})
        if self.upload is not None:
            return client.request(
                self.method,
                url,
                data=body,
                headers=headers,
                files={self.upload_field: (self.upload_name, self.upload, "text/csv")},
            )
        return client.request(self.method, url, json=body, headers=headers)


def fill(body: Any, values: dict[str, Any]) -> Any:
    """A body with "{name}" strings replaced by the standing values."""
    if isinstance(body, dict):
        return {k: fill(v, values) for k, v in body.items()}
    if isinstance(body, list):
        return [fill(v, values) for v in body]
    if isinstance(body, str) and body.startswith("{") and body.endswith("}"):
        return values[body[1:-1]]
    return body


def people_cases() -> list[Case]:
    """Every people endpoint, on a person and an alert of the first village."""
    person = "/api/people/{person_id}"
    return [
        *[
            Case("GET", "/api/areas/{code}/coverage", f"/api/areas/{code}/coverage", allowed)
            for code, allowed in (
                (VILLAGE, READERS),
                (TOWN, READERS - {Role.village_worker}),
                (OTHER_COUNTY_TOWN, READERS & CITY_WIDE),
            )
        ],
        Case("GET", "/api/people", f"/api/people?area={VILLAGE}&grade=red", READERS,
             rows=items()),
        Case("GET", "/api/people", f"/api/people?area={TOWN}#t", READERS - {Role.village_worker},
             rows=items()),
        Case("GET", "/api/people", "/api/people?area=3206&size=500#city", READERS & CITY_WIDE,
             rows=items()),
        Case("POST", "/api/people", "/api/people", EDITORS, 201,
             {"name": "乙", "id_number": id_number("19400102", 3), "area_code": VILLAGE}),
        Case("GET", person, "/api/people/{village_person}", READERS),
        Case("PATCH", person, "/api/people/{village_person}", EDITORS, 200, {"address": "1号"}),
        Case("POST", person + "/reveal", "/api/people/{village_person}/reveal", REVEALERS, 200,
             {"reason": "上门核对身份"}),
        Case("POST", person + "/grade", "/api/people/{village_person}/grade", GRADERS, 200,
             {"grade": "yellow", "reason": "病情稳定三月"}),
        Case("GET", person + "/history", "/api/people/{village_person}/history", READERS),
        Case("POST", person + "/follow-ups", "/api/people/{village_person}/follow-ups", EDITORS,
             201, {"method": "phone", "spo2_pct": 97}),
        Case("POST", person + "/kits", "/api/people/{village_person}/kits", EDITORS, 201,
             {"kit": "red"}),
        Case("GET", "/api/people/alerts", f"/api/people/alerts?area={VILLAGE}", READERS,
             rows=items()),
        Case("GET", "/api/people/alerts", f"/api/people/alerts?area={TOWN}#t",
             READERS - {Role.village_worker}, rows=items()),
        Case("POST", "/api/people/alerts/{alert_id}/close", "/api/people/alerts/{alert}/close",
             EDITORS, 200, {"note": "已转诊县医院"}),
        Case("PUT", "/api/people/responsibles/{responsible_id}/user",
             "/api/people/responsibles/{responsible}/user", EDITORS, 200,
             {"username": role_username(Role.village_worker)}),
        Case("GET", "/api/people/responsibles", f"/api/people/responsibles?area={VILLAGE}",
             READERS, rows=items(within=None)),
        Case("GET", "/api/people/responsibles", "/api/people/responsibles?area=3206#city",
             READERS & CITY_WIDE, rows=items(within=None)),
        Case("POST", "/api/people/responsibles", "/api/people/responsibles", EDITORS, 201,
             {"area_code": VILLAGE, "name": "张医生", "kind": "family_doctor"}),
        Case("POST", "/api/people/assign", "/api/people/assign", EDITORS, 200,
             {"person_ids": ["{village_person}"], "responsible_id": "{responsible}"}),
        Case("GET", "/api/people/template", "/api/people/template", EDITORS),
        Case("POST", "/api/people/import", "/api/people/import", EDITORS, 200, {},
             PEOPLE_CSV, "file"),
        Case("GET", "/api/people/import/reports/{token}", "/api/people/import/reports/{report}",
             ALL),
        Case("GET", "/api/people/export", f"/api/people/export?area={VILLAGE}&format=csv",
             REVEALERS, rows=exported),
        Case("GET", "/api/people/export", f"/api/people/export?area={TOWN}&format=csv#t",
             REVEALERS - {Role.village_worker}, rows=exported),
        Case("POST", "/api/people/exports", "/api/people/exports", REVEALERS, 202,
             {"area": VILLAGE, "format": "csv"}),
        Case("POST", "/api/people/exports", "/api/people/exports#t",
             REVEALERS - {Role.village_worker}, 202, {"area": TOWN, "grade": ["red"]}),
        Case("GET", "/api/people/exports", "/api/people/exports", REVEALERS,
             rows=items(within=None)),
        Case("GET", "/api/people/exports/{job_id}", "/api/people/exports/{job}", REVEALERS),
        Case("GET", "/api/people/exports/{job_id}/file", "/api/people/exports/{job}/file",
             REVEALERS),
        Case("DELETE", "/api/people/exports/{job_id}", "/api/people/exports/{job}", REVEALERS,
             204),
    ]  # fmt: skip


ISSUERS = frozenset({Role.admin, Role.city_commander, Role.district_operator, Role.town_operator})
WORKERS = ALL - {Role.viewer}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def dispatch_cases() -> list[Case]:
    """Every dispatch endpoint, on a city directive reaching the first village (and the first
    town, to split). A record outside the caller's scope is a 404 (tests/dispatch/test_api.py),
    an area outside it a 403 (here)."""
    deadline = str(timeutil.today() + timedelta(days=3))
    directive = {"title": "药包发放到户", "to_level": "village", "deadline": deadline}
    task = "/api/tasks/{task_id}"
    return [
        Case("POST", "/api/directives", "/api/directives", ISSUERS, 201,
             directive | {"area": TOWN, "targets": [VILLAGE]}),
        Case("POST", "/api/directives", "/api/directives#far", CITY_WIDE & ISSUERS, 201,
             directive | {"area": OTHER_COUNTY_TOWN}),
        Case("GET", "/api/directives", "/api/directives", ALL),
        Case("GET", "/api/directives/{directive_id}", "/api/directives/{directive}", ALL),
        Case("GET", "/api/directives/{directive_id}",
             "/api/directives/{directive}?area=" + OTHER_TOWN + "#other-town",
             CITY_WIDE | {Role.district_operator}),
        Case("GET", "/api/tasks/mine", "/api/tasks/mine?finished=true", ALL,
             rows=items(within=None)),
        Case("GET", task, "/api/tasks/{village_task}", ALL),
        Case("POST", task + "/split", "/api/tasks/{town_task}/split", ISSUERS, 201, {}),
        Case("POST", task + "/actions", "/api/tasks/{village_task}/actions", WORKERS, 200,
             {"action": "accept"}),
        Case("POST", task + "/comments", "/api/tasks/{village_task}/comments", WORKERS, 201,
             {"text": "明日上门"}),
        Case("POST", task + "/evidence", "/api/tasks/{village_task}/evidence", WORKERS, 201,
             {"text": "已发放"}, PNG, "file", "签收.png"),
        Case("GET", "/api/evidence/{evidence_id}/file", "/api/evidence/{evidence}/file", ALL),
    ]  # fmt: skip


def notify_cases() -> list[Case]:
    """Your own notifications (everyone), and the channels of a county (managers of its area)."""
    channel = "/api/notify/channels/{channel_id}"
    made = {"name": "县值班群", "area_code": COUNTY, "kind": "wecom",
            "target": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"}  # fmt: skip
    return [
        Case("GET", "/api/notifications", "/api/notifications", ALL),
        Case("POST", "/api/notifications/read", "/api/notifications/read", ALL, 200, {}),
        Case("GET", "/api/notify/channels", "/api/notify/channels", MANAGERS,
             rows=items(within=None)),
        Case("POST", "/api/notify/channels", "/api/notify/channels", MANAGERS, 201, made),
        Case("POST", "/api/notify/channels", "/api/notify/channels#far",
             MANAGERS - {Role.district_operator}, 201, made | {"area_code": OTHER_COUNTY_TOWN}),
        Case("PATCH", channel, "/api/notify/channels/{channel}", MANAGERS, 200,
             {"enabled": True}),
        Case("POST", channel + "/test", "/api/notify/channels/{channel}/test", MANAGERS, 202, {}),
        Case("DELETE", channel, "/api/notify/channels/{channel}", MANAGERS, 204),
        Case("GET", "/api/notify/deliveries", "/api/notify/deliveries", MANAGERS,
             rows=items(within=None)),
    ]  # fmt: skip


DUTY_CSV = f"区划代码,日期,班次,岗位,姓名,电话\n{TOWN},2023-01-12,夜班,值班员,王五,13912340003\n"


def duty_cases() -> list[Case]:
    """Duty rosters of the first town: read with dispatch.read, arranged with duty.manage,
    handover notes written by those who work (dispatch.work)."""
    shift = "/api/duty/{shift_id}"
    made = {"area_code": TOWN, "on_date": "2023-01-12", "shift": "night", "role": "staff",
            "name": "王五", "phone": "13912340003"}  # fmt: skip
    note = {"area_code": TOWN, "on_date": "2023-01-12", "shift": "day", "text": "交接"}
    writers = REACH_TOWN - {Role.viewer}
    return [
        Case("GET", "/api/duty", f"/api/duty?area={TOWN}&from=2023-01-10", REACH_TOWN,
             rows=items(within=None)),
        Case("GET", "/api/duty/now", f"/api/duty/now?area={VILLAGE}", ALL),
        Case("GET", "/api/duty/now", f"/api/duty/now?area={TOWN}&tonight=true#t", REACH_TOWN),
        Case("POST", "/api/duty", "/api/duty", ISSUERS, 201, made),
        Case("POST", "/api/duty", "/api/duty#far", CITY_WIDE & ISSUERS, 201,
             made | {"area_code": OTHER_COUNTY_TOWN}),
        Case("PATCH", shift, "/api/duty/{duty}", ISSUERS, 200, {"note": "开机"}),
        Case("DELETE", shift, "/api/duty/{duty}", ISSUERS, 204),
        Case("POST", "/api/duty/handovers", "/api/duty/handovers", writers, 201, note),
        Case("GET", "/api/duty/handovers", f"/api/duty/handovers?area={TOWN}", REACH_TOWN,
             rows=items(within=None)),
        Case("POST", "/api/duty/handovers/read", "/api/duty/handovers/read", WORKERS, 200,
             {"ids": ["{handover}"]}),
        Case("GET", "/api/duty/template", "/api/duty/template", ISSUERS),
        Case("POST", "/api/duty/import", "/api/duty/import", ISSUERS, 200, None,
             DUTY_CSV.encode(), "file", "roster.csv"),
        Case("GET", "/api/duty/export", f"/api/duty/export?area={TOWN}&format=csv", REACH_TOWN),
    ]  # fmt: skip


def duty_values(url: str, session: Session) -> dict[str, Any]:
    """A staff member on the first town's night, and a handover note in its first village."""
    from datetime import date

    from lianfang.duty import service
    from lianfang.duty.choices import DutyRole, Shift

    if "{duty}" not in url and "/handovers/read" not in url:
        return {}
    made = service.create(session=session, actor=SYSTEM, data=service.ShiftIn(
        area_code=TOWN, on_date=date(2023, 1, 11), shift=Shift.night, role=DutyRole.staff,
        name="赵六", phone="13912340009",
    ))  # fmt: skip
    note = service.hand_over(session=session, actor=SYSTEM, area_code=VILLAGE,
                             on_date=date(2023, 1, 11), shift=Shift.day, text="交接")  # fmt: skip
    return {"duty": made.id, "handover": note.id}


def notify_values(url: str, session: Session) -> dict[str, Any]:
    """A channel of the county, when a URL names one."""
    from lianfang.notify import service
    from lianfang.notify.choices import ChannelKind

    if "{channel}" not in url:
        return {}
    made = service.create_channel(session=session, actor=SYSTEM, data=service.ChannelIn(
        name="如东县值班邮箱", area_code=COUNTY, kind=ChannelKind.email,
        target="duty@example.gov.cn",
    ))  # fmt: skip
    return {"channel": made.id}


def dispatch_values(url: str, session: Session) -> dict[str, Any]:
    """A directive from the city to the first village and one in another county (and their
    tasks and evidence), or a town-level one to split, as a URL needs them."""
    from lianfang.areas.choices import AreaLevel
    from lianfang.dispatch import evidence, service
    from lianfang.dispatch.models import Task

    values: dict[str, Any] = {}
    if not any(k in url for k in ("directive}", "_task}", "evidence}")):
        return values

    def issue(area: str, targets: tuple[str, ...], to_level: AreaLevel) -> int:
        made = service.issue(session=session, actor=SYSTEM, data=service.DirectiveInput(
            area=area, title="摸排重点人群", text="", to_level=to_level,
            deadline=timeutil.today() + timedelta(days=3), targets=targets,
        ))  # fmt: skip
        return made.id

    def leaf(directive_id: int, code: str) -> int:
        found = session.scalars(
            select(Task.id).where(Task.directive_id == directive_id, Task.area_code == code)
        ).one()
        return int(found)

    values["directive"] = issue(codes.normalise("3206"), (VILLAGE,), AreaLevel.village)
    values["village_task"] = leaf(values["directive"], VILLAGE)
    far = OTHER_COUNTY_TOWN[:9] + "001"
    values["far_directive"] = issue(OTHER_COUNTY_TOWN, (far,), AreaLevel.village)
    values["far_task"] = leaf(values["far_directive"], far)
    town_directive = issue(codes.normalise("3206"), (TOWN,), AreaLevel.town)
    values["town_task"] = leaf(town_directive, TOWN)
    for key, task_key in (("evidence", "village_task"), ("far_evidence", "far_task")):
        values[key] = evidence.add(
            session=session, actor=SYSTEM, task_id=values[task_key], text="照片",
            upload=evidence.Upload("a.png", PNG),
        ).id  # fmt: skip
    return values


RESOURCE_READERS = ALL - {Role.safety_inspector}
ALERT_READERS = READERS | RESOURCE_READERS  # alerts about people, or about facilities


def alert_cases() -> list[Case]:
    """The alert engine's endpoints, on the referral alert of a person of the first village."""
    return [
        Case("GET", "/api/alerts", f"/api/alerts?area={VILLAGE}", ALERT_READERS, rows=items()),
        Case("GET", "/api/alerts", f"/api/alerts?area={TOWN}&status=open#t",
             ALERT_READERS - {Role.village_worker}, rows=items()),
        Case("GET", "/api/alerts", "/api/alerts?area=3206&limit=500#city",
             ALERT_READERS & CITY_WIDE, rows=items()),
        Case("GET", "/api/alerts/{alert_id}", "/api/alerts/{alert}", READERS),
        Case("POST", "/api/alerts/{alert_id}/close", "/api/alerts/{alert}/close", EDITORS, 200,
             {"note": "已转诊县医院"}),
        Case("GET", "/api/alerts/thresholds", f"/api/alerts/thresholds?area={TOWN}",
             ALERT_READERS - {Role.village_worker}),
        Case("PUT", "/api/alerts/thresholds", "/api/alerts/thresholds", MANAGERS, 200,
             {"area_code": TOWN, "kind": "beds_full", "value": 0.9}),
    ]  # fmt: skip


REPORTERS = frozenset({Role.admin, Role.district_operator, Role.town_operator, Role.village_worker})
RESOURCE_MANAGERS = frozenset({Role.admin, Role.city_commander, Role.district_operator})


def resource_cases() -> list[Case]:
    """Every resources endpoint, on facilities of the first village (``resource_values``): a
    clinic, a hospital whose named operator is the standing hospital operator, a nursing home."""
    clinic = "/api/resources/facilities/{facility_id}"
    at = "/api/resources/facilities/{clinic}"
    hospital = "/api/resources/facilities/{hospital}"
    moves = {"kind": "receipt", "item_id": "{item}", "quantity": 5}
    return [
        Case("GET", "/api/resources/items", "/api/resources/items", RESOURCE_READERS),
        Case("GET", "/api/resources/facilities", f"/api/resources/facilities?area={VILLAGE}",
             RESOURCE_READERS, rows=items()),
        Case("GET", "/api/resources/facilities", f"/api/resources/facilities?area={TOWN}#t",
             RESOURCE_READERS - {Role.village_worker}, rows=items()),
        Case("GET", "/api/resources/facilities",
             "/api/resources/facilities?area=3206&limit=500#city",
             RESOURCE_READERS & CITY_WIDE, rows=items()),
        Case("POST", "/api/resources/facilities", "/api/resources/facilities", RESOURCE_MANAGERS,
             201, {"code": "M-NEW", "name": "新药房", "type": "pharmacy", "area_code": VILLAGE}),
        Case("GET", clinic, at, RESOURCE_READERS),
        Case("PATCH", clinic, at, RESOURCE_MANAGERS, 200, {"phone": "0513-1"}),
        Case("PATCH", clinic, hospital + "#status", REPORTERS | {Role.hospital_operator}, 200,
             {"status": "outbreak"}),
        Case("POST", clinic + "/capacity", hospital + "/capacity",
             REPORTERS | {Role.hospital_operator}, 201, {"beds_total": 300, "beds_occupied": 10}),
        Case("GET", clinic + "/capacity", hospital + "/capacity", RESOURCE_READERS),
        Case("GET", clinic + "/stock", at + "/stock", RESOURCE_READERS),
        Case("GET", clinic + "/movements", at + "/movements", RESOURCE_READERS),
        Case("POST", clinic + "/movements", at + "/movements", REPORTERS, 201, moves),
        Case("POST", clinic + "/movements", hospital + "/movements#own",
             REPORTERS | {Role.hospital_operator}, 201, moves),
        Case("POST", "/api/resources/movements/{movement_id}/correction",
             "/api/resources/movements/{receipt}/correction", REPORTERS, 201,
             {"note": "重复入库"}),
        Case("GET", clinic + "/staff", at + "/staff", RESOURCE_READERS),
        Case("PUT", clinic + "/staff", at + "/staff", REPORTERS, 200,
             {"role": "doctor", "total": 3, "on_duty": 2}),
        Case("POST", clinic + "/staff-moves", hospital + "/staff-moves",
             REPORTERS | {Role.hospital_operator}, 201,
             {"kind": "sent_down", "name": "李医生", "role": "doctor", "to_facility_id": "{clinic}",
              "start_on": "2022-12-20"}),
        Case("GET", "/api/resources/staff-moves", f"/api/resources/staff-moves?area={VILLAGE}",
             RESOURCE_READERS, rows=items(within=None)),
        Case("PUT", clinic + "/institution", "/api/resources/facilities/{home}/institution",
             REPORTERS, 200, {"beds": 280, "residents": 183}),
        Case("GET", "/api/resources/institutions",
             f"/api/resources/institutions?area={VILLAGE}", RESOURCE_READERS,
             rows=items(within=None)),
        Case("POST", clinic + "/pairings", hospital + "/pairings", RESOURCE_MANAGERS, 201,
             {"partner_id": "{clinic}", "since": "2022-12-20"}),
        Case("GET", "/api/resources/pairings", f"/api/resources/pairings?area={VILLAGE}",
             RESOURCE_READERS, rows=items(within=None)),
        Case("GET", clinic + "/operators", hospital + "/operators", RESOURCE_READERS),
        Case("POST", clinic + "/operators", hospital + "/operators", MANAGERS, 201,
             {"user_id": "{county_hospital_user}"}),
        Case("GET", "/api/resources/export",
             f"/api/resources/export?kind=facilities&area={VILLAGE}&format=csv",
             RESOURCE_READERS, rows=exported_facilities),
        Case("GET", "/api/resources/export",
             f"/api/resources/export?kind=facilities&area={TOWN}&format=csv#t",
             RESOURCE_READERS - {Role.village_worker}, rows=exported_facilities),
        Case("GET", "/api/resources/targets", f"/api/resources/targets?area={TOWN}",
             RESOURCE_READERS - {Role.village_worker}, rows=items(within=None)),
        Case("PUT", "/api/resources/targets", "/api/resources/targets", RESOURCE_MANAGERS, 200,
             {"area_code": TOWN, "item_id": "{item}", "facility_type": "village_clinic",
              "per_facility": 3}),
    ]  # fmt: skip


def resource_values(case: Case, session: Session) -> dict[str, Any]:
    """Facilities of the first village for a resources case (a clinic with a receipt to
    correct, a hospital the standing hospital operator reports for, a nursing home), and a
    county hospital operator to name; for lists, the same kinds of rows in ``SPREAD``."""
    if not case.route.startswith("/api/resources"):
        return {}
    values: dict[str, Any] = {}
    ibu = session.scalar(select(Item).where(Item.code == "ibuprofen"))
    assert ibu is not None
    values["item"] = ibu.id

    def place(code: str, area: str, kind: FacilityType) -> Facility:
        data = FacilityCreate(code=code, name=f"矩阵{code}", type=kind, area_code=area)
        return resources.create_facility(session=session, actor=SYSTEM, data=data)

    clinic = place("M-CLINIC", VILLAGE, FacilityType.village_clinic)
    hospital = place("M-HOSP", VILLAGE, FacilityType.secondary_hospital)
    home = place("M-HOME", VILLAGE, FacilityType.nursing_home)
    values |= {"clinic": clinic.id, "hospital": hospital.id, "home": home.id}
    operator = auth.get_user(session=session, username=role_username(Role.hospital_operator))
    assert operator is not None
    resources.assign_operator(
        session=session, actor=SYSTEM, facility_id=hospital.id, user_id=operator.id
    )
    values["county_hospital_user"] = make_user(
        session, username="m_county_hospital", role=Role.hospital_operator,
        area_code=VILLAGE[:6] + "000000",
    ).id  # fmt: skip
    values["receipt"] = ledger.receive(
        session=session, actor=SYSTEM, facility_id=clinic.id, item_id=ibu.id, quantity=5
    ).id
    if case.rows is not None:
        for index, village in enumerate(SPREAD):
            far = place(f"M-FAR-{index}", village, FacilityType.village_clinic)
            far_home = place(f"M-FARH-{index}", village, FacilityType.nursing_home)
            resources.set_institution(
                session=session, actor=SYSTEM, facility_id=far_home.id,
                data=InstitutionWrite(beds=10, residents=5),
            )  # fmt: skip
            resources.add_staff_move(
                session=session, actor=SYSTEM, facility_id=hospital.id,
                data=StaffMoveCreate(kind=StaffMoveKind.sent_down, name="外", role=StaffRole.nurse,
                                     to_facility_id=far.id, start_on=timeutil.today()),
            )  # fmt: skip
            resources.add_pairing(
                session=session, actor=SYSTEM, facility_id=hospital.id,
                data=PairingCreate(partner_id=far.id, since=timeutil.today()),
            )  # fmt: skip
            resources.set_target(
                session=session, actor=SYSTEM,
                data=TargetWrite(area_code=village[:9] + "000", item_id=ibu.id,
                                 facility_type=FacilityType.village_clinic, per_facility=9),
            )  # fmt: skip
    return values


CASES = [
    Case(
        "GET",
        "/api/resources/reserve",
        f"/api/resources/reserve?area={VILLAGE}",
        RESOURCE_READERS,
        rows=items(within="rows"),
    ),
    Case(
        "GET",
        "/api/resources/reserve",
        f"/api/resources/reserve?area={TOWN}#t",
        RESOURCE_READERS - {Role.village_worker},
        rows=items(within="rows"),
    ),
    Case(
        "GET",
        "/api/briefing",
        f"/api/briefing?area={VILLAGE}",
        ALL,
        rows=items(key="code", within="rows"),
    ),
    Case(
        "GET",
        "/api/briefing",
        f"/api/briefing?area={TOWN}#t",
        ALL - {Role.village_worker},
        rows=items(key="code", within="rows"),
    ),
    Case(
        "GET",
        "/api/briefing/file",
        f"/api/briefing/file?area={TOWN}&format=xlsx",
        ALL - {Role.village_worker},
    ),
    Case("GET", "/api/me", "/api/me", ALL),
    Case("GET", "/api/users", "/api/users", MANAGERS, rows=items(within=None)),
    Case(
        "POST",
        "/api/users",
        "/api/users",
        MANAGERS,
        201,
        {
            "username": "new_viewer",
            "display_name": "新用户",
            "role": "viewer",
            "area_code": TOWN,
            "password": "long-enough-pw",
        },
    ),
    Case(
        "POST",
        "/api/users",
        "/api/users#other-county",
        CITY_WIDE & MANAGERS,
        201,
        {
            "username": "new_viewer2",
            "display_name": "新用户",
            "role": "viewer",
            "area_code": OTHER_COUNTY_TOWN,
            "password": "long-enough-pw",
        },
    ),
    Case(
        "PATCH",
        "/api/users/{user_id}",
        "/api/users/{town_user}",
        MANAGERS,
        200,
        {"display_name": "改名"},
    ),
    Case(
        "PATCH",
        "/api/users/{user_id}",
        "/api/users/{commander_user}",
        frozenset({Role.admin, Role.city_commander}),
        200,
        {"display_name": "改名"},
    ),
    Case("GET", "/api/audit", "/api/audit?limit=500", MANAGERS, rows=items()),
    Case("GET", "/api/audit/verify", "/api/audit/verify", frozenset({Role.admin})),
    Case("GET", "/api/forecast/parameters", "/api/forecast/parameters", ALL),
    Case("GET", "/api/forecast/presets", "/api/forecast/presets", ALL),
    Case("GET", "/api/forecast/runs", "/api/forecast/runs", ALL, rows=items(within=None)),
    Case(
        "POST",
        "/api/forecast/runs",
        "/api/forecast/runs",
        FORECASTERS,
        202,
        {"area_code": TOWN, "days": 30},
    ),
    Case(
        "POST",
        "/api/forecast/runs",
        "/api/forecast/runs#elsewhere",
        FORECASTERS - {Role.district_operator},
        202,
        {"area_code": OTHER_COUNTY_TOWN, "days": 30},
    ),
    Case("GET", "/api/forecast/runs/{run_id}", "/api/forecast/runs/{town_run}", REACH_TOWN),
    Case(
        "POST",
        "/api/forecast/fits",
        "/api/forecast/fits",
        FORECASTERS,
        202,
        {"area_code": TOWN},
        b"date,visits\n2022-12-01,3\n2022-12-02,5\n",
    ),
    Case(
        "POST",
        "/api/forecast/reruns",
        "/api/forecast/reruns",
        FORECASTERS,
        202,
        {"run_id": "{town_run}"},
    ),
    Case(
        "POST",
        "/api/forecast/adoptions",
        "/api/forecast/adoptions",
        FORECASTERS,
        201,
        {"run_id": "{town_done_run}"},
    ),
    Case("GET", "/api/forecast/adoptions", f"/api/forecast/adoptions?area={TOWN}", REACH_TOWN),
    Case("GET", "/api/forecast/adopted", f"/api/forecast/adopted?area={TOWN}#adopted", REACH_TOWN),
    Case("GET", "/api/areas", "/api/areas?q=街道", ALL, rows=items("code", None)),
    *[
        Case(
            "GET",
            f"/api/areas/{{code}}{tail}",
            f"/api/areas/{code}{tail}",
            allowed,
            rows=items("code", None) if tail == "/children" else None,
        )
        for tail in ("", "/children", "/map")
        for code, allowed in (
            (VILLAGE, ALL),
            (TOWN, REACH_TOWN),
            (OTHER_TOWN, CITY_WIDE | {Role.district_operator}),
            (OTHER_COUNTY_TOWN, CITY_WIDE),
            ("3206", CITY_WIDE),
        )
    ],
    *people_cases(),
    *alert_cases(),
    *resource_cases(),
    *dispatch_cases(),
    *notify_cases(),
    *duty_cases(),
]
PUBLIC = {("POST", "/api/auth/token"), ("GET", "/api/public/medicine")}


def spread(session: Session) -> None:
    """A person with an open alert, a responsible person, a forecast run and a user in each
    village of ``SPREAD``: rows a narrower role's lists must leave out."""
    for index, village in enumerate(SPREAD):
        person, _ = people.save_cells(
            session=session, actor=SYSTEM, source=ChangeSource.api,
            cells={"name": f"外{index}", "id_number": id_number("19420101", 11 + 2 * index),
                   "area_code": village},
        )  # fmt: skip
        flows.record_follow_up(
            session=session, actor=SYSTEM, person_id=person.id,
            contact=followups.Contact(method=ContactMethod.phone, spo2_pct=90),
        )  # fmt: skip
        made = Responsible(
            area_code=village, name=f"外医生{index}", kind=ResponsibleKind.village_doctor
        )
        people.add_responsible(session=session, actor=SYSTEM, responsible=made)
        forecasts.create_run(
            session=session, actor=SYSTEM, code=village[:9] + "000", kind=RunKind.forecast,
            inputs={"days": 1},
        )  # fmt: skip
        make_user(session, username=f"spread_{index}", role=Role.viewer, area_code=village)


def within_scope(role: Role, code: str | None) -> bool:
    """True when a row of this area may be shown to the standing user of the role."""
    area = ROLE_AREAS[role]
    if area is None:
        return True
    return code is not None and code.startswith(codes.short(area))


def people_values(url: str, session: Session, role: Role) -> dict[str, Any]:
    """A person, their alert, a responsible person and an error report, as a URL needs them."""
    values: dict[str, Any] = {}
    if "{village_person}" in url or "{alert}" in url or "/assign" in url or "{responsible}" in url:
        person, _ = people.save_cells(
            session=session, actor=SYSTEM, source=ChangeSource.api,
            cells={"name": "周玉兰", "id_number": PERSON, "area_code": VILLAGE},
        )  # fmt: skip
        values["village_person"] = person.id
        contact = followups.Contact(method=ContactMethod.phone, spo2_pct=90)
        _, alert = flows.record_follow_up(
            session=session, actor=SYSTEM, person_id=person.id, contact=contact
        )
        values["alert"] = alert.id if alert else None
        made = Responsible(area_code=VILLAGE, name="王医生", kind=ResponsibleKind.village_doctor)
        values["responsible"] = people.add_responsible(
            session=session, actor=SYSTEM, responsible=made
        ).id
    if "/kits" in url:  # the village clinic holds red kits to issue
        clinic = session.scalar(select(Facility.id).where(Facility.code == f"VC-{VILLAGE}"))
        red = ledger.item_by_code(session, "kit_red")
        ledger.receive(session=session, actor=SYSTEM, facility_id=clinic, item_id=red.id,
                       quantity=3)  # fmt: skip
    if "{job}" in url:
        stored = exporting.stored_filter(people.PeopleFilter(VILLAGE))
        job = ExportJob(
            area_code=VILLAGE, username=role_username(role), filter=json.dumps(stored),
            today=timeutil.today(), file_format="csv", masked=True, status=ExportStatus.done,
            rows=0, rows_done=0, content=b"x", expires_at=timeutil.utcnow() + timedelta(hours=1),
        )  # fmt: skip
        session.add(job)
        session.flush()
        values["job"] = job.id
    if "{report}" in url:
        session.add(ImportReport(
            token="t" + role.value, username=role_username(role), source="x.csv", content=b"PK"
        ))  # fmt: skip
        session.flush()
        values["report"] = "t" + role.value
    return values


def run_values(case: Case, session: Session) -> dict[str, Any]:
    """A stored run of the town when the case's body names one (a finished one to adopt), and
    an adopted one when the case reads it."""
    values: dict[str, Any] = {}
    if "{town_run}" in str(case.body):
        run = forecasts.create_run(
            session=session, actor=SYSTEM, code=TOWN, kind=RunKind.forecast, inputs={"days": 1}
        )
        values["town_run"] = run.id
    if "{town_done_run}" in str(case.body) or "#adopted" in case.url:
        values["town_done_run"] = finished_run(session, TOWN)
    if "#adopted" in case.url:
        adoption.adopt(session=session, actor=SYSTEM, run_id=values["town_done_run"])
    return values


def finished_run(session: Session, code: str) -> int:
    """A finished run of the area with a one-day result (what adoption reads of it)."""
    run = forecasts.create_run(
        session=session, actor=SYSTEM, code=code, kind=RunKind.forecast, inputs={"days": 1}
    )
    band = {"low": [[1.0]], "median": [[2.0]], "high": [[3.0]]}
    scenario = {"name": "x", "start": "2022-12-01", "days": 1, "bands": {"deaths": band},
                "peaks": [{"peak_date": None}]}  # fmt: skip
    forecasts.mark(
        session=session, run=run, status=RunStatus.done,
        result={"scenarios": [scenario], "group_codes": [], "group_names": []},
    )  # fmt: skip
    session.flush()
    return run.id


def concrete(url: str, session: Session, extra: dict[str, Any] | None = None) -> str:
    """The URL with the ids of the standing test users (and of a run in the town) filled in."""
    ids = {
        name: auth.get_user(session=session, username=role_username(role))
        for name, role in (
            ("town_user", Role.town_operator),
            ("commander_user", Role.city_commander),
        )
    }
    values = {k: v.id for k, v in ids.items() if v is not None}
    if "{town_run}" in url:
        run = forecasts.create_run(
            session=session, actor=SYSTEM, code=TOWN, kind=RunKind.forecast, inputs={"days": 1}
        )
        values["town_run"] = run.id
    values |= extra or {}
    return url.split("#")[0].format(**values)


def test_every_api_route_is_in_the_matrix(engine: Engine) -> None:
    app = create_app(Settings(database_url="sqlite://"), engine)
    routes = {
        (method.upper(), path) for path, item in app.openapi()["paths"].items() for method in item
    }
    covered = {(case.method, case.route) for case in CASES} | PUBLIC
    assert routes == covered


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.method} {c.url}")
def test_role_may_call_endpoint_only_within_scope(
    client: TestClient, session: Session, role: Role, case: Case
) -> None:
    if case.rows is not None:
        spread(session)
    values = (
        people_values(case.url, session, role)
        | run_values(case, session)
        | dispatch_values(case.url, session)
        | notify_values(case.url, session)
        | duty_values(case.url, session)
        | resource_values(case, session)
    )
    answer = case.send(client, concrete(case.url, session, values), bearer(client, role), values)
    expected = case.ok if role in case.allowed else 403
    assert answer.status_code == expected, answer.text
    if expected == 403:
        assert answer.json()["error"] == "forbidden"
    elif case.rows is not None:
        outside = [code for code in case.rows(answer) if not within_scope(role, code)]
        assert outside == [], f"{role.value} got rows of {sorted(set(map(str, outside)))}"


def test_lists_without_an_area_hold_rows_a_narrower_role_must_not_see(
    client: TestClient, session: Session
) -> None:
    """The row check above can fail: the administrator's answer to each list that takes no area
    holds rows outside the county of the district operator (the narrowest role allowed)."""
    spread(session)
    headers = bearer(client, Role.admin)
    for url in ("/api/audit?limit=500", "/api/users", "/api/forecast/runs", "/api/areas?q=街道"):
        case = next(c for c in CASES if c.url == url)
        assert case.rows is not None
        codes = case.rows(case.send(client, url, headers))
        assert any(not within_scope(Role.district_operator, c) for c in codes), url


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.method} {c.url}")
def test_anonymous_callers_are_refused(client: TestClient, session: Session, case: Case) -> None:
    values = (
        people_values(case.url, session, Role.admin)
        | run_values(case, session)
        | dispatch_values(case.url, session)
        | notify_values(case.url, session)
        | duty_values(case.url, session)
        | resource_values(case, session)
    )
    answer = case.send(client, concrete(case.url, session, values), None, values)
    assert answer.status_code == 401


def test_search_results_never_leave_scope(client: TestClient) -> None:
    for role in Role:
        prefix = {
            Role.town_operator: "320623001",
            Role.village_worker: "320623001001",
            Role.district_operator: "320623",
        }.get(role, "")
        rows = client.get(
            "/api/areas", params={"q": "村", "limit": 100}, headers=bearer(client, role)
        ).json()
        assert all(r["code"].startswith(prefix) for r in rows), role
