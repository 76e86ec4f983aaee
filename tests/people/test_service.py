"""Coverage, follow-ups, alerts, overrides, reveal and assignment against a real database."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.alerts import service as alert_service
from lianfang.auth.choices import AuditAction, Role
from lianfang.auth.models import AuditEvent
from lianfang.auth.scope import SYSTEM, Actor
from lianfang.errors import InvalidInputError, NotFoundError, PermissionDenied
from lianfang.io import sheets
from lianfang.people import coverage, flows, followups, service
from lianfang.people.choices import (
    AlertReason,
    AlertStatus,
    ContactMethod,
    Grade,
    Guarantee,
    ResponsibleKind,
    Symptom,
)
from lianfang.people.importing import import_table
from lianfang.people.models import Person, Responsible
from lianfang.people.service import PeopleFilter
from lianfang.people.sheet import SPEC
from tests.factories import (
    COUNTY,
    OTHER_TOWN_VILLAGE,
    TOWN,
    VILLAGE,
    VILLAGE_2,
    id_number,
    opening_kit,
)

HEADER = "姓名,身份证号,村(居)代码,冠心病,疫苗剂次,负责人,定点医院\n"
TOWN_ACTOR = Actor(user_id=None, username="town", role=Role.town_operator, area_code=TOWN)
VILLAGE_ACTOR = Actor(user_id=None, username="doc", role=Role.village_worker, area_code=VILLAGE)


def load(session: Session, body: str) -> None:
    table = sheets.read((HEADER + body).encode(), "t.csv", SPEC)
    import_table(session=session, actor=SYSTEM, table=table)


@pytest.fixture
def people(session: Session) -> dict[str, int]:
    kit_day = timeutil.today() - timedelta(days=1)
    load(session, "".join([
        f"红一,{id_number('19400101', 1)},{VILLAGE},不稳定,0,王医生,如东县人民医院\n",
        f"红二,{id_number('19400102', 2)},{VILLAGE},不稳定,0,,\n",
        f"黄一,{id_number('19500101', 3)},{VILLAGE_2},稳定,1,王医生,H2-320623-ZY\n",
        f"绿一,{id_number('19700101', 5)},{VILLAGE},,3,,\n",
        f"外镇,{id_number('19400103', 7)},{OTHER_TOWN_VILLAGE},不稳定,0,,\n",
    ]))  # fmt: skip
    rows = session.execute(select(Person.name, Person.id)).all()
    found = {name: pid for name, pid in rows}
    opening_kit(session, found["红一"], "red", kit_day)
    opening_kit(session, found["黄一"], "yellow", kit_day)
    return found


def direct(session: Session, *where: object) -> int:
    return session.scalar(select(func.count()).select_from(Person).where(*where)) or 0  # type: ignore[arg-type]


def test_coverage_matches_a_direct_count(session: Session, people: dict[str, int]) -> None:
    total, children = coverage.summary(
        session=session, actor=SYSTEM, code=TOWN, today=timeutil.today()
    )
    in_town = Person.area_code.startswith(TOWN[:9])
    assert total.red == direct(session, in_town, Person.grade == Grade.red) >= 2
    assert total.yellow == direct(session, in_town, Person.grade == Grade.yellow) >= 1
    followed = and_(in_town, Person.grade.in_([Grade.red, Grade.yellow]))
    assert total.covered[Guarantee.in_charge] == direct(
        session, followed, Person.responsible_id.is_not(None)
    )
    assert total.covered[Guarantee.medicine] == direct(
        session, followed, Person.medicine_ok.is_(True)
    )
    assert total.covered[Guarantee.treatment] == direct(
        session, followed, Person.treatment_ok.is_(True)
    )
    assert total.covered[Guarantee.checked_on] == 0  # nobody contacted yet
    assert {c.code for c in children} >= {VILLAGE, VILLAGE_2}
    assert sum(c.red for c in children) == total.red


def test_follow_up_with_low_spo2_raises_alert_and_checks_on(
    session: Session, people: dict[str, int]
) -> None:
    pid = people["红一"]
    follow_up, alert = flows.record_follow_up(
        session=session, actor=VILLAGE_ACTOR, person_id=pid,
        contact=followups.Contact(ContactMethod.phone, temperature_c=38.6, spo2_pct=91,
                                  symptoms=frozenset({Symptom.breathless}), client_token="t-1"),
    )  # fmt: skip
    assert alert is not None
    assert alert.reasons == {AlertReason.low_spo2, AlertReason.breathless}
    again, same = flows.record_follow_up(
        session=session, actor=VILLAGE_ACTOR, person_id=pid,
        contact=followups.Contact(ContactMethod.phone, spo2_pct=91, client_token="t-1"),
    )  # fmt: skip
    assert (again.id, same.id if same else None) == (follow_up.id, alert.id)
    total, _ = coverage.summary(session=session, actor=SYSTEM, code=VILLAGE, today=timeutil.today())
    assert total.covered[Guarantee.checked_on] == 1
    assert total.alerts_open == 1
    listed = service.list_people(
        session=session, actor=SYSTEM, f=PeopleFilter(area=VILLAGE, alert_open=True)
    )
    assert [p.id for p in listed.items] == [pid]
    alert_service.close(session=session, actor=VILLAGE_ACTOR, alert_id=alert.id, note="已转县医院")
    assert alert.status is AlertStatus.closed


def test_persistent_fever_needs_days_or_an_earlier_high_reading(
    session: Session, people: dict[str, int]
) -> None:
    pid = people["黄一"]
    yesterday = timeutil.now() - timedelta(days=1)
    first = followups.Contact(ContactMethod.visit, contacted_at=yesterday, temperature_c=39.0)
    record = flows.record_follow_up
    assert record(session=session, actor=SYSTEM, person_id=pid, contact=first)[1] is None
    second = followups.Contact(ContactMethod.visit, temperature_c=39.2)
    alert = record(session=session, actor=SYSTEM, person_id=pid, contact=second)[1]
    assert alert is not None
    assert alert.reasons == {AlertReason.persistent_fever}


def test_implausible_readings_are_refused(session: Session, people: dict[str, int]) -> None:
    with pytest.raises(InvalidInputError, match="SpO2"):
        followups.record(session=session, actor=SYSTEM, person_id=people["红一"],
                         contact=followups.Contact(ContactMethod.phone, spo2_pct=120))  # fmt: skip


def test_override_needs_reason_is_audited_and_kept_in_history(
    session: Session, people: dict[str, int]
) -> None:
    pid = people["绿一"]
    with pytest.raises(InvalidInputError):
        service.override_grade(
            session=session, actor=TOWN_ACTOR, person_id=pid, grade=Grade.yellow, reason=""
        )
    person = service.override_grade(
        session=session,
        actor=TOWN_ACTOR,
        person_id=pid,
        grade=Grade.yellow,
        reason="独居且行动不便",
    )
    assert person.grade is Grade.yellow
    assert person.rule_grade is Grade.green
    history = service.history(session=session, actor=TOWN_ACTOR, person_id=pid)
    assert history.grades[0].reason == "独居且行动不便"
    audited = session.scalar(select(AuditEvent).where(AuditEvent.entity_type == "person.grade"))
    assert audited is not None
    assert audited.action is AuditAction.update
    back = service.override_grade(
        session=session, actor=TOWN_ACTOR, person_id=pid, grade=None, reason="已核实情况"
    )
    assert back.grade is Grade.green


def test_village_worker_may_not_override_or_see_other_towns(
    session: Session, people: dict[str, int]
) -> None:
    with pytest.raises(PermissionDenied):
        service.override_grade(session=session, actor=VILLAGE_ACTOR, person_id=people["红一"],
                               grade=Grade.green, reason="理由充分")  # fmt: skip
    outsider = people["外镇"]
    with pytest.raises(NotFoundError):
        service.get(session=session, actor=TOWN_ACTOR, person_id=outsider)
    # The same question with a filter that lets the other town through: only scope keeps it out.
    county = PeopleFilter(area=COUNTY, q="外镇")
    assert [p.id for p in service.list_people(session=session, actor=SYSTEM, f=county).items] == [
        outsider
    ]
    with pytest.raises(PermissionDenied):
        service.list_people(session=session, actor=TOWN_ACTOR, f=county)
    with pytest.raises(PermissionDenied):
        alert_service.list_alerts(
            session=session, actor=TOWN_ACTOR, f=alert_service.AlertFilter(area=COUNTY)
        )
    made = Responsible(area_code=VILLAGE, name="网格员李", kind=ResponsibleKind.grid_worker)
    worker = service.add_responsible(session=session, actor=TOWN_ACTOR, responsible=made)
    with pytest.raises(NotFoundError):  # people picked by id, no area named at all
        service.assign(
            session=session, actor=TOWN_ACTOR, person_ids=[outsider], responsible_id=worker.id
        )
    with pytest.raises(NotFoundError):
        followups.record(session=session, actor=TOWN_ACTOR, person_id=outsider,
                         contact=followups.Contact(ContactMethod.phone))  # fmt: skip


def test_reveal_needs_reason_and_is_audited(session: Session, people: dict[str, int]) -> None:
    with pytest.raises(InvalidInputError):
        service.reveal(session=session, actor=TOWN_ACTOR, person_id=people["红一"], reason=" ")
    shown = service.reveal(
        session=session, actor=TOWN_ACTOR, person_id=people["红一"], reason="转诊需核对身份"
    )
    assert shown.id_number == id_number("19400101", 1)
    assert shown.birth_date == date(1940, 1, 1)
    assert session.scalar(select(func.count()).where(AuditEvent.action == AuditAction.reveal)) == 1


def test_bulk_assignment_covers_in_charge(session: Session, people: dict[str, int]) -> None:
    worker = service.add_responsible(
        session=session, actor=TOWN_ACTOR,
        responsible=Responsible(
            area_code=VILLAGE,
            name="网格员张",
            kind=ResponsibleKind.grid_worker,
            phone="13900001111",
        ),
    )  # fmt: skip
    changed = service.assign(
        session=session, actor=TOWN_ACTOR, person_ids=[people["红二"]], responsible_id=worker.id
    )
    assert changed == 1
    missing = service.list_people(
        session=session, actor=TOWN_ACTOR, f=PeopleFilter(area=VILLAGE, missing=Guarantee.in_charge)
    )
    assert people["红二"] not in {p.id for p in missing.items}


def test_regrade_moves_people_who_turned_80_and_keeps_manual_grades(session: Session) -> None:
    today = timeutil.today()
    born = today.replace(year=today.year - 80) - timedelta(days=3)  # turned 80 three days ago
    number = id_number(born.strftime("%Y%m%d"), 3)
    load(session, f"八十,{number},{VILLAGE},,1,,\n")  # no disease, 1 dose
    person = session.scalar(select(Person).where(Person.id_number == number))
    assert person is not None
    assert person.grade is Grade.red  # graded today: ≥ 80, not fully vaccinated
    # As if graded a week ago, at 79: no disease -> green.
    person.grade = person.rule_grade = Grade.green
    person.graded_on = today - timedelta(days=7)
    session.flush()
    assert service.regrade(session=session, actor=TOWN_ACTOR, area=TOWN, today=today) == 1
    assert person.grade is Grade.red
    history = service.history(session=session, actor=TOWN_ACTOR, person_id=person.id)
    assert (history.grades[0].from_grade, history.grades[0].to_grade) == (Grade.green, Grade.red)
    assert service.regrade(session=session, actor=TOWN_ACTOR, area=TOWN, today=today) == 0
