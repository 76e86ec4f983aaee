"""The alert engine: one open alert per subject and kind, updated rather than repeated; each
new alert a task for the responsible person with a deadline by severity; a referral's task
suggests a hospital; the periodic rules are idempotent and follow per-area thresholds."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.alerts import jobs, service, thresholds
from lianfang.alerts.choices import AlertKind, AlertStatus, EventKind, Severity, Subject
from lianfang.alerts.models import Alert, AlertEvent
from lianfang.auth import chain
from lianfang.auth.choices import Role
from lianfang.auth.scope import SYSTEM, Actor
from lianfang.dispatch import service as dispatch
from lianfang.dispatch.models import Task
from lianfang.errors import ConflictError, NotFoundError, PermissionDenied
from lianfang.people import flows, followups
from lianfang.people import service as people
from lianfang.people.choices import ChangeSource, ContactMethod, ResponsibleKind, Symptom
from lianfang.people.models import Person, Responsible
from lianfang.resources.models import Facility
from tests.factories import COUNTY, OTHER_TOWN, TOWN, VILLAGE, actor_of, id_number, make_user

LOW = followups.Contact(method=ContactMethod.visit, spo2_pct=91)


def person_with_doctor(session: Session) -> tuple[Person, Actor]:
    """A person of VILLAGE whose responsible village doctor has a user account."""
    user = make_user(session, username="doc_zhou", role=Role.village_worker, area_code=VILLAGE)
    doctor = Actor(user.id, user.username, Role.village_worker, VILLAGE)
    person, _ = people.save_cells(
        session=session, actor=SYSTEM, source=ChangeSource.api,
        cells={"name": "周玉兰", "id_number": id_number("19410305", 2), "area_code": VILLAGE},
    )  # fmt: skip
    made = Responsible(area_code=VILLAGE, name="周医生", kind=ResponsibleKind.village_doctor)
    responsible = people.add_responsible(session=session, actor=SYSTEM, responsible=made)
    people.link_user(
        session=session, actor=SYSTEM, responsible_id=responsible.id, username="doc_zhou"
    )
    people.assign(
        session=session, actor=SYSTEM, person_ids=[person.id], responsible_id=responsible.id
    )
    return person, doctor


def test_two_low_readings_keep_one_alert_with_one_task_for_the_doctor(session: Session) -> None:
    person, doctor = person_with_doctor(session)
    _, first = flows.record_follow_up(
        session=session, actor=doctor, person_id=person.id, contact=LOW
    )
    assert first is not None
    assert (first.kind, first.severity, first.subject) == (
        AlertKind.referral, Severity.high, Subject.person,
    )  # fmt: skip
    assert first.value == 91
    task = session.get_one(Task, first.task_id)
    assert task.owner_id == doctor.user_id
    assert task.directive_id is None
    assert task.deadline == timeutil.today()  # high: due the same day
    assert task.title is not None
    assert "周玉兰" in task.title
    suggestion = service.describe(session=session, alerts=[first])[0].suggestion
    assert suggestion is not None
    assert suggestion.beds_free > 0
    assert suggestion.name in task.title
    place = session.get_one(Facility, suggestion.facility_id)
    assert "oxygen" in place.capabilities
    assert [t.id for t in dispatch.my_tasks(session=session, actor=doctor)] == [task.id]

    lower = followups.Contact(method=ContactMethod.phone, spo2_pct=88)
    _, second = flows.record_follow_up(
        session=session, actor=doctor, person_id=person.id, contact=lower
    )
    assert second is not None
    assert second.id == first.id
    assert second.value == 88
    opened = select(func.count()).where(
        Alert.person_id == person.id, Alert.status == AlertStatus.open
    )
    assert session.scalar(opened) == 1
    assert session.scalar(select(func.count()).where(Task.owner_id == doctor.user_id)) == 1
    kinds = [e.kind for e in service.history(session=session, actor=doctor, alert_id=first.id)]
    assert kinds == [EventKind.opened, EventKind.task, EventKind.updated]

    service.close(session=session, actor=doctor, alert_id=first.id, note="已转诊县人民医院")
    with pytest.raises(ConflictError):
        service.close(session=session, actor=doctor, alert_id=first.id, note="再次关闭")
    _, third = flows.record_follow_up(
        session=session, actor=doctor, person_id=person.id, contact=LOW
    )
    assert third is not None
    assert third.id != first.id
    assert third.task_id != first.task_id
    assert chain.verify(session).broken is None


def test_a_fever_alone_is_medium_and_its_task_has_two_days(session: Session) -> None:
    person, doctor = person_with_doctor(session)
    fever = followups.Contact(method=ContactMethod.visit, temperature_c=39.1, fever_days=4)
    _, alert = flows.record_follow_up(
        session=session, actor=doctor, person_id=person.id, contact=fever
    )
    assert alert is not None
    assert alert.severity is Severity.medium
    task = session.get_one(Task, alert.task_id)
    assert task.deadline == timeutil.today() + timedelta(days=2)
    # Breathlessness a day later makes it high, and brings the task's deadline forward.
    breathless = followups.Contact(
        method=ContactMethod.phone, symptoms=frozenset({Symptom.breathless})
    )
    _, same = flows.record_follow_up(
        session=session, actor=doctor, person_id=person.id, contact=breathless
    )
    assert same is not None
    assert same.id == alert.id
    assert same.severity is Severity.high
    assert task.deadline == timeutil.today()


def test_the_area_threshold_decides_what_spo2_needs_referral(session: Session) -> None:
    person, doctor = person_with_doctor(session)
    thresholds.set_threshold(
        session=session, actor=SYSTEM, area=COUNTY, kind=AlertKind.referral, value=90
    )
    _, alert = flows.record_follow_up(
        session=session, actor=doctor, person_id=person.id, contact=LOW
    )
    assert alert is None  # 91 is not below the county's 90
    thresholds.set_threshold(
        session=session, actor=SYSTEM, area=TOWN, kind=AlertKind.referral, value=92
    )
    _, alert = flows.record_follow_up(
        session=session, actor=doctor, person_id=person.id, contact=LOW
    )
    assert alert is not None
    assert alert.threshold == 92


def test_the_periodic_rules_are_idempotent_and_clear_what_they_no_longer_find(
    session: Session,
) -> None:
    first = {r.kind: r for r in jobs.run_rules(session=session)}
    assert first[AlertKind.stock_low].opened > 0
    assert sum(r.opened for r in first.values()) == sum(r.tasks for r in first.values())
    tasks = session.scalar(select(func.count()).select_from(Task))
    again = jobs.run_rules(session=session)
    assert all((r.opened, r.updated, r.cleared, r.tasks) == (0, 0, 0, 0) for r in again)
    assert session.scalar(select(func.count()).select_from(Task)) == tasks
    keys = session.execute(
        select(Alert.open_key, func.count()).where(Alert.open_key.is_not(None))
        .group_by(Alert.open_key).having(func.count() > 1)
    ).all()  # fmt: skip
    assert keys == []
    # A lower threshold for the city clears the stock alerts that no longer fall under it,
    # except in the county, which keeps the default (the nearest area above wins).
    city_low = thresholds.Thresholds(session, AlertKind.stock_low)
    assert city_low.at(VILLAGE) == 1.0
    thresholds.set_threshold(
        session=session, actor=SYSTEM, area="3206", kind=AlertKind.stock_low, value=0.1
    )
    thresholds.set_threshold(
        session=session, actor=SYSTEM, area=COUNTY, kind=AlertKind.stock_low, value=1.0
    )
    runs = {r.kind: r for r in jobs.run_rules(session=session, kinds=[AlertKind.stock_low])}
    assert runs[AlertKind.stock_low].cleared > 0
    cleared = session.scalars(
        select(Alert).where(Alert.kind == AlertKind.stock_low, Alert.status == AlertStatus.closed)
    ).all()
    assert cleared
    assert all(not a.area_code.startswith(COUNTY[:6]) for a in cleared)
    event = session.scalar(
        select(AlertEvent)
        .where(AlertEvent.alert_id == cleared[0].id)
        .order_by(AlertEvent.id.desc())
    )
    assert event is not None
    assert event.kind is EventKind.cleared
    assert chain.verify(session).broken is None


def test_scope_and_subjects_decide_who_reads_and_closes(session: Session) -> None:
    person, doctor = person_with_doctor(session)
    _, alert = flows.record_follow_up(
        session=session, actor=doctor, person_id=person.id, contact=LOW
    )
    assert alert is not None
    jobs.run_rules(session=session, kinds=[AlertKind.stock_low])
    other_town = Actor(None, "t2", Role.town_operator, OTHER_TOWN)
    with pytest.raises(NotFoundError):
        service.get(session=session, actor=other_town, alert_id=alert.id)
    with pytest.raises(PermissionDenied):  # a town operator asking for the county
        service.list_alerts(
            session=session, actor=actor_of(Role.town_operator),
            f=service.AlertFilter(area=COUNTY),
        )  # fmt: skip
    hospital = actor_of(Role.hospital_operator)  # reads facilities, not people
    rows, _ = service.list_alerts(
        session=session, actor=hospital, f=service.AlertFilter(area="3206"), limit=500
    )
    assert rows
    assert all(a.subject is Subject.facility for a in rows)
    with pytest.raises(PermissionDenied):  # no reading people: refused, whatever the scope
        service.get(session=session, actor=hospital, alert_id=alert.id)
    with pytest.raises(PermissionDenied):
        service.close(
            session=session, actor=actor_of(Role.viewer), alert_id=alert.id, note="看过了"
        )
