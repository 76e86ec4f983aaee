"""The resources write API: facilities, capacity, the ledger through HTTP, staff, institutions,
pairings, operators and targets — scope, refusals and audit rows."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.auth import audit, chain
from lianfang.auth import service as auth
from lianfang.auth.choices import Role
from lianfang.auth.models import AuditEvent
from lianfang.auth.scope import SYSTEM
from lianfang.resources import ledger, service
from lianfang.resources.choices import FacilityType
from lianfang.resources.models import CapacityReport, StockBalance
from lianfang.resources.schemas import CapacityCreate
from tests.conftest import bearer
from tests.factories import OTHER_COUNTY_TOWN, TOWN, VILLAGE, role_username
from tests.resources.factories import facility, item


def audits(session: Session, entity_type: str) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.entity_type == entity_type)
        )
        or 0
    )


def test_facility_list_filters_by_type_status_and_flags_stale(
    client: TestClient, session: Session
) -> None:
    clinic = facility(session, "A-CLINIC", VILLAGE)
    centre = facility(session, "A-CENTRE", TOWN, FacilityType.township_centre)
    service.report_capacity(
        session=session,
        actor=SYSTEM,
        facility_id=centre.id,
        data=CapacityCreate(beds_total=20),
        reported_at=timeutil.now() - timedelta(hours=30),
    )
    session.flush()
    town = bearer(client, Role.town_operator)
    answer = client.get(
        "/api/resources/facilities", params={"area": TOWN, "q": "测试A-"}, headers=town
    )
    assert answer.status_code == 200, answer.text
    by_code = {f["code"]: f for f in answer.json()["items"]}
    assert set(by_code) == {"A-CLINIC", "A-CENTRE"}
    assert by_code["A-CENTRE"]["capacity"]["beds_total"] == 20
    assert by_code["A-CENTRE"]["capacity_stale"] is True
    assert by_code["A-CENTRE"]["capacity"]["stale"] is True
    assert by_code["A-CLINIC"]["capacity_stale"] is None  # a clinic reports no beds
    only = client.get(
        "/api/resources/facilities",
        params={"area": TOWN, "q": "测试A-", "type": "village_clinic"},
        headers=town,
    ).json()
    assert [f["id"] for f in only["items"]] == [clinic.id]
    # a fresh report takes the centre off the stale list
    stale = {"area": TOWN, "q": "测试A-", "stale": "true"}
    listed = client.get("/api/resources/facilities", params=stale, headers=town).json()
    assert [f["id"] for f in listed["items"]] == [centre.id]
    fresh = client.post(
        f"/api/resources/facilities/{centre.id}/capacity",
        json={"beds_total": 20, "beds_occupied": 18},
        headers=town,
    )
    assert fresh.status_code == 201, fresh.text
    assert fresh.json()["stale"] is False
    listed = client.get("/api/resources/facilities", params=stale, headers=town).json()
    assert listed["items"] == []
    closed = client.get(
        "/api/resources/facilities",
        params={"area": TOWN, "status": "closed", "q": "测试A-"},
        headers=town,
    ).json()
    assert closed["total"] == 0


def test_a_town_operator_cannot_list_or_read_another_county(
    client: TestClient, session: Session
) -> None:
    far = facility(session, "A-FAR", OTHER_COUNTY_TOWN[:9] + "001")
    town = bearer(client, Role.town_operator)
    listed = client.get(
        "/api/resources/facilities", params={"area": OTHER_COUNTY_TOWN}, headers=town
    )
    assert listed.status_code == 403
    assert client.get(f"/api/resources/facilities/{far.id}", headers=town).status_code == 404


def test_create_and_update_a_facility(client: TestClient, session: Session) -> None:
    district = bearer(client, Role.district_operator)
    body = {
        "code": "API-PH-1",
        "name": "掘港大药房",
        "type": "pharmacy",
        "area_code": VILLAGE,
        "hours": "08:00-20:00",
        "capabilities": [],
    }
    made = client.post("/api/resources/facilities", json=body, headers=district)
    assert made.status_code == 201, made.text
    place = made.json()
    assert place["lon"] is not None
    assert place["status"] == "open"
    again = client.post("/api/resources/facilities", json=body, headers=district)
    assert again.status_code == 409
    changed = client.patch(
        f"/api/resources/facilities/{place['id']}",
        json={"status": "closed", "phone": "0513"},
        headers=district,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["status"] == "closed"
    town = bearer(client, Role.town_operator)  # reports, does not manage
    refused = client.patch(
        f"/api/resources/facilities/{place['id']}", json={"name": "改名"}, headers=town
    )
    assert refused.status_code == 403
    status_only = client.patch(
        f"/api/resources/facilities/{place['id']}", json={"status": "open"}, headers=town
    )
    assert status_only.status_code == 200, status_only.text
    empty = client.patch(f"/api/resources/facilities/{place['id']}", json={}, headers=district)
    assert empty.status_code == 400
    assert audits(session, "facility") >= 3


def test_ledger_through_the_api(client: TestClient, session: Session) -> None:
    clinic = facility(session, "A-L-CLINIC", VILLAGE)
    centre = facility(session, "A-L-CENTRE", TOWN, FacilityType.township_centre)
    ibu = item(session, "ibuprofen")
    worker = bearer(client, Role.village_worker)
    url = f"/api/resources/facilities/{clinic.id}/movements"

    def move(body: dict[str, Any], headers: dict[str, str] = worker) -> Any:
        return client.post(url, json={"item_id": ibu.id, **body}, headers=headers)

    got = move({"kind": "receipt", "quantity": 10})
    assert got.status_code == 201, got.text
    assert got.json()[0]["balance_after"] == 10
    too_many = move({"kind": "issue", "quantity": 11, "ward": "门诊"})
    assert too_many.status_code == 409
    assert "10" in too_many.json()["message"]
    nowhere = move({"kind": "issue", "quantity": 1})
    assert nowhere.status_code == 400  # names neither a person nor a ward
    issued = move({"kind": "issue", "quantity": 3, "ward": "门诊"})
    assert issued.json()[0]["quantity"] == -3
    town = bearer(client, Role.town_operator)
    sent = move({"kind": "transfer", "quantity": 2, "to_facility_id": centre.id}, town)
    assert sent.status_code == 201, sent.text
    assert [m["kind"] for m in sent.json()] == ["transfer_out", "transfer_in"]
    no_target = move({"kind": "transfer", "quantity": 2})
    assert no_target.status_code == 400
    agreed = move({"kind": "count", "quantity": 5})
    assert agreed.status_code == 201
    assert agreed.json() == []
    counted = move({"kind": "count", "quantity": 4, "note": "盘点"})
    assert counted.json()[0]["kind"] == "adjustment"
    assert counted.json()[0]["quantity"] == -1
    fixed = client.post(
        f"/api/resources/movements/{sent.json()[0]['id']}/correction",
        json={"note": "调错了机构"},
        headers=town,
    )
    assert fixed.status_code == 201, fixed.text
    assert sorted(m["quantity"] for m in fixed.json()) == [-2, 2]
    twice = client.post(
        f"/api/resources/movements/{sent.json()[0]['id']}/correction",
        json={"note": "再改一次"},
        headers=town,
    )
    assert twice.status_code == 409
    lines = client.get(url, headers=worker).json()
    corrected = {m["id"] for m in lines if m["corrected"]}
    assert sent.json()[0]["id"] in corrected
    stock = client.get(f"/api/resources/facilities/{clinic.id}/stock", headers=worker).json()
    row = next(r for r in stock if r["item"] == "ibuprofen")
    assert (
        row["balance"]
        == 6
        == session.scalar(
            select(StockBalance.balance).where(
                StockBalance.facility_id == clinic.id, StockBalance.item_id == ibu.id
            )
        )
    )
    assert row["stale"] is False
    viewer = bearer(client, Role.viewer)
    assert move({"kind": "receipt", "quantity": 1}, viewer).status_code == 403
    assert chain.verify(session).broken is None


def test_a_hospital_operator_reports_only_for_their_own_facility(
    client: TestClient, session: Session
) -> None:
    own = facility(session, "A-H-OWN", TOWN, FacilityType.secondary_hospital)
    other = facility(session, "A-H-OTHER", TOWN, FacilityType.secondary_hospital)
    user = auth.get_user(session=session, username=role_username(Role.hospital_operator))
    assert user is not None
    admin = bearer(client, Role.admin)
    named = client.post(
        f"/api/resources/facilities/{own.id}/operators", json={"user_id": user.id}, headers=admin
    )
    assert named.status_code == 201, named.text
    listed = client.get(f"/api/resources/facilities/{own.id}/operators", headers=admin).json()
    assert [o["username"] for o in listed] == [user.username]
    hospital = bearer(client, Role.hospital_operator)
    body = {"beds_total": 300, "beds_occupied": 250, "icu_total": 20, "icu_occupied": 19}
    mine = client.post(f"/api/resources/facilities/{own.id}/capacity", json=body, headers=hospital)
    assert mine.status_code == 201, mine.text
    theirs = client.post(
        f"/api/resources/facilities/{other.id}/capacity", json=body, headers=hospital
    )
    assert theirs.status_code == 403
    bad = client.post(
        f"/api/resources/facilities/{own.id}/capacity",
        json={"beds_total": 10, "beds_occupied": 11},
        headers=hospital,
    )
    assert bad.status_code == 422
    history = client.get(f"/api/resources/facilities/{own.id}/capacity", headers=hospital).json()
    assert [r["beds_occupied"] for r in history] == [250]
    assert (
        session.scalar(
            select(func.count())
            .select_from(CapacityReport)
            .where(CapacityReport.facility_id == other.id)
        )
        == 0
    )
    not_hospital_op = auth.get_user(session=session, username=role_username(Role.viewer))
    assert not_hospital_op is not None
    wrong = client.post(
        f"/api/resources/facilities/{own.id}/operators",
        json={"user_id": not_hospital_op.id},
        headers=admin,
    )
    assert wrong.status_code == 400


def test_staff_moves_institutions_pairings_and_targets(
    client: TestClient, session: Session
) -> None:
    urban = facility(session, "A-URBAN", TOWN, FacilityType.secondary_hospital)
    centre = facility(session, "A-P-CENTRE", TOWN, FacilityType.township_centre)
    clinic = facility(session, "A-P-CLINIC", VILLAGE)
    home = facility(session, "A-HOME", VILLAGE, FacilityType.nursing_home)
    town = bearer(client, Role.town_operator)
    staff = client.put(
        f"/api/resources/facilities/{centre.id}/staff",
        json={
            "role": "doctor",
            "total": 12,
            "on_duty": 9,
            "off_sick": 2,
            "over_14_days": 3,
            "longest_streak_days": 19,
        },
        headers=town,
    )
    assert staff.status_code == 200, staff.text
    again = client.put(
        f"/api/resources/facilities/{centre.id}/staff",
        json={"role": "doctor", "total": 12, "on_duty": 11},
        headers=town,
    )
    assert again.json()["id"] == staff.json()["id"]
    rows = client.get(f"/api/resources/facilities/{centre.id}/staff", headers=town).json()
    assert [(r["role"], r["on_duty"]) for r in rows] == [("doctor", 11)]
    too_many = client.put(
        f"/api/resources/facilities/{centre.id}/staff",
        json={"role": "nurse", "total": 2, "on_duty": 3},
        headers=town,
    )
    assert too_many.status_code == 422
    today = timeutil.today().isoformat()
    move = client.post(
        f"/api/resources/facilities/{centre.id}/staff-moves",
        json={
            "kind": "sent_down",
            "name": "李医生",
            "role": "doctor",
            "to_facility_id": clinic.id,
            "start_on": today,
        },
        headers=town,
    )
    assert move.status_code == 201, move.text
    assert move.json()["to_name"] == clinic.name
    moves = client.get(
        "/api/resources/staff-moves", params={"area": TOWN, "current": "true"}, headers=town
    ).json()
    assert move.json()["id"] in [m["id"] for m in moves]
    home_state = client.put(
        f"/api/resources/facilities/{home.id}/institution",
        json={"beds": 280, "residents": 183, "residents_ill": 4},
        headers=town,
    )
    assert home_state.status_code == 200, home_state.text
    not_home = client.put(
        f"/api/resources/facilities/{clinic.id}/institution",
        json={"beds": 1, "residents": 1},
        headers=town,
    )
    assert not_home.status_code == 400
    homes = client.get("/api/resources/institutions", params={"area": TOWN}, headers=town).json()
    assert {"facility_id": home.id, "residents": 183}.items() <= next(
        h for h in homes if h["facility_id"] == home.id
    ).items()
    district = bearer(client, Role.district_operator)
    paired = client.post(
        f"/api/resources/facilities/{urban.id}/pairings",
        json={"partner_id": centre.id, "since": today},
        headers=district,
    )
    assert paired.status_code == 201, paired.text
    assert (
        client.post(
            f"/api/resources/facilities/{urban.id}/pairings",
            json={"partner_id": centre.id, "since": today},
            headers=district,
        ).status_code
        == 409
    )
    assert (
        client.post(
            f"/api/resources/facilities/{urban.id}/pairings",
            json={"partner_id": centre.id, "since": today},
            headers=town,
        ).status_code
        == 403
    )
    pairs = client.get("/api/resources/pairings", params={"area": TOWN}, headers=town).json()
    assert paired.json()["id"] in [p["id"] for p in pairs]
    oxi = item(session, "oximeter")
    target = {
        "area_code": TOWN,
        "item_id": oxi.id,
        "facility_type": "village_clinic",
        "per_facility": 3,
    }
    set_ = client.put("/api/resources/targets", json=target, headers=district)
    assert set_.status_code == 200, set_.text
    assert client.put("/api/resources/targets", json=target, headers=town).status_code == 403
    both = client.put(
        "/api/resources/targets", json=target | {"population_share": 0.1}, headers=district
    )
    assert both.status_code == 422
    listed = client.get("/api/resources/targets", params={"area": TOWN}, headers=town).json()
    assert [(t["item"], t["per_facility"]) for t in listed] == [("oximeter", 3)]
    stock = client.get(f"/api/resources/facilities/{clinic.id}/stock", headers=town).json()
    assert next(r for r in stock if r["item"] == "oximeter")["target"] == 3
    assert audit.Entry  # the rows above were audited through the service
    assert chain.verify(session).broken is None


def test_the_export_api_answers_the_import_sheet_audited_and_in_scope(
    client: TestClient, session: Session
) -> None:
    risky = facility(session, "X-RISKY", VILLAGE, FacilityType.pharmacy, name="=HYPERLINK(1)")
    ledger_receive(session, risky.id)
    headers = bearer(client, Role.town_operator)
    before = session.scalar(select(func.max(AuditEvent.id))) or 0
    answer = client.get(
        "/api/resources/export",
        params={"kind": "facilities", "area": TOWN, "format": "csv"},
        headers=headers,
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    assert "facilities-320623001.csv" in answer.headers["content-disposition"]
    text = answer.content.decode("utf-8-sig")
    assert text.startswith("机构编码,")
    assert "'=HYPERLINK(1)" in text  # a spreadsheet shows it as text; the import undoes it
    assert "\n=HYPERLINK" not in text
    assert ",=HYPERLINK" not in text
    event = session.scalar(select(AuditEvent).where(AuditEvent.id > before))
    assert event is not None
    assert (event.action, event.entity_type) == ("export", "facility")
    assert event.username == role_username(Role.town_operator)
    assert event.detail is not None
    assert json.loads(event.detail)["rows"] == text.count("\n") - 1
    stock = client.get(
        "/api/resources/export", params={"kind": "stock", "area": VILLAGE}, headers=headers
    )
    assert stock.status_code == 200
    assert stock.content[:2] == b"PK"  # a workbook by default
    far = client.get(
        "/api/resources/export", params={"kind": "capacity", "area": OTHER_COUNTY_TOWN},
        headers=headers,
    )  # fmt: skip
    assert far.status_code == 403
    unknown = client.get(
        "/api/resources/export", params={"kind": "people", "area": TOWN}, headers=headers
    )
    assert unknown.status_code == 422


def ledger_receive(session: Session, facility_id: int) -> None:
    ledger.receive(session=session, actor=SYSTEM, facility_id=facility_id,
                   item_id=item(session, "ibuprofen").id, quantity=5)  # fmt: skip


def test_the_reserve_api_answers_a_page_at_a_time(client: TestClient, session: Session) -> None:
    for n in range(3):
        ledger_receive(session, facility(session, f"A-PAGE-{n}", VILLAGE).id)
    session.commit()
    headers = bearer(client, Role.town_operator)

    def get(**params: Any) -> dict[str, Any]:
        answer = client.get("/api/resources/reserve", params={"area": TOWN, **params},
                            headers=headers)  # fmt: skip
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    whole = get(limit=5000)
    assert whole["total"] == len(whole["rows"]) >= 3 * 10  # every item at every facility
    pages = [get(limit=7, offset=start) for start in range(0, whole["total"], 7)]
    assert all(len(p["rows"]) <= 7 and p["total"] == whole["total"] for p in pages)
    assert [r for p in pages for r in p["rows"]] == whole["rows"]
    short = get(short=True, limit=2)
    assert short["total"] == len(get(short=True, limit=5000)["rows"]) > 2
    assert len(short["rows"]) == 2
    assert get(limit=5, offset=whole["total"])["rows"] == []
    assert client.get("/api/resources/reserve", params={"area": TOWN, "limit": 5001},
                      headers=headers).status_code == 422  # fmt: skip
