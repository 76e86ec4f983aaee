"""Every change to a person, a follow-up or an alert writes one audit row naming the record,
whichever way it came in: API, sheet import, service (CLI), page form (tests/web)."""

from __future__ import annotations

import json
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.auth import chain
from lianfang.auth.choices import AuditAction, Role
from lianfang.auth.models import AuditEvent
from lianfang.auth.scope import SYSTEM
from lianfang.io import sheets
from lianfang.people import service
from lianfang.people.choices import Grade, ResponsibleKind
from lianfang.people.importing import import_table
from lianfang.people.models import Person, Responsible
from lianfang.people.sheet import SPEC
from tests.conftest import bearer
from tests.factories import TOWN, VILLAGE, VILLAGE_2, id_number, role_username


def events_since(session: Session, first: int) -> list[AuditEvent]:
    return list(
        session.scalars(select(AuditEvent).where(AuditEvent.id > first).order_by(AuditEvent.id))
    )


def newest_id(session: Session) -> int:
    return session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) or 0


def named(events: list[AuditEvent]) -> list[tuple[str, str, str | None, str | None]]:
    """Each event as (action, entity type, entity id, area), sign-ins left out."""
    return [
        (e.action.value, e.entity_type, e.entity_id, e.area_code)
        for e in events
        if e.action not in (AuditAction.sign_in, AuditAction.token_issued)
    ]


def test_api_changes_to_people_follow_ups_and_alerts_name_each_record(
    client: TestClient, session: Session
) -> None:
    town = bearer(client, Role.town_operator)
    start = newest_id(session)
    body = {"name": "周玉兰", "id_number": id_number("19410305", 2), "area_code": VILLAGE}
    person = client.post("/api/people", json=body, headers=town).json()
    pid = str(person["id"])
    client.patch(f"/api/people/{pid}", json={"address": "1号"}, headers=town)
    answer = client.post(
        f"/api/people/{pid}/follow-ups", json={"method": "phone", "spo2_pct": 90}, headers=town
    ).json()
    follow_up, alert = str(answer["follow_up"]["id"]), str(answer["alert"]["id"])
    client.post(f"/api/people/alerts/{alert}/close", json={"note": "已转诊县医院"}, headers=town)
    events = events_since(session, start)
    assert named(events) == [
        ("create", "person", pid, VILLAGE),
        ("update", "person", pid, VILLAGE),
        ("create", "follow_up", follow_up, VILLAGE),
        ("create", "task", str(answer["alert"]["task_id"]), VILLAGE),
        ("create", "alert", alert, VILLAGE),
        ("update", "alert", alert, VILLAGE),
    ]
    assert {e.username for e in events} == {role_username(Role.town_operator)}
    assert json.loads(events[-5].detail or "")["fields"] == ["address"]
    assert json.loads(events[-2].detail or "")["reasons"] == ["low_spo2"]
    assert chain.verify(session).broken is None


def test_a_sheet_import_names_every_person_and_keeps_its_summary(session: Session) -> None:
    header = "姓名,身份证号,村(居)代码,疫苗剂次\n"
    first, second = id_number("19400201", 1), id_number("19400202", 3)

    def load(body: str) -> None:
        table = sheets.read((header + body).encode(), "名单.csv", SPEC)
        import_table(session=session, actor=SYSTEM, table=table)

    load(f"甲,{first},{VILLAGE},1\n")
    start = newest_id(session)
    load(f"甲,{first},{VILLAGE},3\n乙,{second},{VILLAGE_2},0\n")
    ids = dict(session.execute(select(Person.id_number, Person.id)).all())
    events = events_since(session, start)
    assert sorted(named(events)) == sorted([
        ("create", "person", str(ids[second]), VILLAGE_2),
        ("update", "person", str(ids[first]), VILLAGE),
        ("load", "person", None, None),
    ])  # fmt: skip
    summary = json.loads(next(e.detail for e in events if e.action is AuditAction.load) or "")
    assert (summary["file"], summary["created"], summary["updated"]) == ("名单.csv", 1, 1)


def test_assignment_and_regrading_name_each_person(session: Session) -> None:
    today = timeutil.today()
    turned = today.replace(year=today.year - 80) - timedelta(days=3)
    aged, other = id_number(turned.strftime("%Y%m%d"), 5), id_number("19500301", 7)
    table = sheets.read(
        f"姓名,身份证号,村(居)代码,疫苗剂次\n老,{aged},{VILLAGE},1\n中,{other},{VILLAGE},1\n"
        .encode(), "t.csv", SPEC,
    )  # fmt: skip
    import_table(session=session, actor=SYSTEM, table=table)
    people = {p.id_number: p for p in session.scalars(select(Person))}
    old, young = people[aged], people[other]
    old.grade = old.rule_grade = Grade.green
    old.graded_on = today - timedelta(days=7)
    session.flush()
    start = newest_id(session)
    assert service.regrade(session=session, actor=SYSTEM, area=TOWN, today=today) == 1
    worker = service.add_responsible(
        session=session, actor=SYSTEM,
        responsible=Responsible(area_code=VILLAGE, name="网格员", kind=ResponsibleKind.grid_worker),
    )  # fmt: skip
    service.assign(
        session=session, actor=SYSTEM, person_ids=[old.id, young.id], responsible_id=worker.id
    )
    events = events_since(session, start)
    assert json.loads(events[-1].detail or "") == {"responsible_id": [None, worker.id]}
    assert named(events) == [
        ("update", "person.grade", str(old.id), VILLAGE),
        ("create", "responsible", str(worker.id), VILLAGE),
        ("update", "person", str(old.id), VILLAGE),
        ("update", "person", str(young.id), VILLAGE),
    ]
    assert chain.verify(session).broken is None
