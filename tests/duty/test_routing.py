"""Alert routing uses the roster: a new alert and an escalated task are told, in the
application, to whoever is on duty at that moment for the area (else the nearest area above
with someone on duty) — and not to those on duty elsewhere."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import time, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from lianfang import jobs, timeutil
from lianfang.auth.choices import Role
from lianfang.auth.scope import SYSTEM
from lianfang.duty import service as duty
from lianfang.duty.choices import DutyRole, Shift
from lianfang.notify.models import Notification
from lianfang.people import flows, followups
from lianfang.people import service as people
from lianfang.people.choices import ChangeSource, ContactMethod
from tests.dispatch.helpers import three_villages
from tests.factories import COUNTY, OTHER_COUNTY_TOWN, TOWN, VILLAGE, id_number, make_user


def on_duty_all_day(session: Session, username: str, area: str, role: Role) -> int:
    """A new user on duty for the area the whole of today (00:00 to 00:00)."""
    user = make_user(session, username=username, role=role, area_code=area)
    duty.create(session=session, actor=SYSTEM, data=duty.ShiftIn(
        area_code=area, on_date=timeutil.today(), shift=Shift.full, role=DutyRole.leader,
        user_id=user.id, start=time(0), end=time(0),
    ))  # fmt: skip
    return user.id


def told(session: Session, user_id: int, topic: str) -> list[str]:
    return list(
        session.scalars(
            select(Notification.title).where(
                Notification.user_id == user_id, Notification.topic == topic
            )
        )
    )


def test_a_referral_alert_reaches_whoever_is_on_duty_above_the_village(session: Session) -> None:
    town_duty = on_duty_all_day(session, "duty_town", TOWN, Role.town_operator)
    elsewhere = on_duty_all_day(session, "duty_far", OTHER_COUNTY_TOWN, Role.town_operator)
    person, _ = people.save_cells(
        session=session, actor=SYSTEM, source=ChangeSource.api,
        cells={"name": "周玉兰", "id_number": id_number("19410305", 2), "area_code": VILLAGE},
    )  # fmt: skip
    _, alert = flows.record_follow_up(
        session=session, actor=SYSTEM, person_id=person.id,
        contact=followups.Contact(method=ContactMethod.phone, spo2_pct=90),
    )  # fmt: skip
    assert alert is not None
    assert len(told(session, town_duty, "alert.referral")) == 1
    assert told(session, elsewhere, "alert.referral") == []


def test_the_village_s_own_duty_comes_before_the_town_s(session: Session) -> None:
    village_duty = on_duty_all_day(session, "duty_village", VILLAGE, Role.village_worker)
    county_duty = on_duty_all_day(session, "duty_county", COUNTY, Role.district_operator)
    assert duty.user_ids_on_duty(session, VILLAGE) == [village_duty]
    assert duty.duty_map(session).user_ids(TOWN) == [county_duty]  # the town has nobody


@pytest.fixture
def factory(session: Session) -> sessionmaker[Session]:
    connection = session.connection()
    return sessionmaker(bind=connection, join_transaction_mode="create_savepoint",
                        expire_on_commit=False)  # fmt: skip


@pytest.fixture
def later() -> Iterator[None]:
    """The world five days on: a three-day directive is overdue."""
    before = timeutil.use(timeutil.Clock(timeutil.today() + timedelta(days=5), "test"))
    yield
    timeutil.use(before)


def test_an_escalated_task_reaches_whoever_is_on_duty_at_the_level_above(
    session: Session, factory: sessionmaker[Session], later: None
) -> None:
    del later
    before = timeutil.use(timeutil.Clock(timeutil.today() - timedelta(days=5), "test"))
    three_villages(session, days=3)
    timeutil.use(before)
    town_duty = on_duty_all_day(session, "duty_town2", TOWN, Role.town_operator)
    elsewhere = on_duty_all_day(session, "duty_far2", OTHER_COUNTY_TOWN, Role.town_operator)
    session.commit()
    outcome = jobs.run_due(factory, names=["dispatch.escalate"], force=True)
    assert outcome.failed == {}
    titles = told(session, town_duty, "task.escalated")
    assert len(titles) == 2  # the two villages of the town (the third is in another town)
    assert told(session, elsewhere, "task.escalated") == []
