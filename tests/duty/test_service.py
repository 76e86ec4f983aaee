"""Duty rosters: the two rules (nobody twice at once, one leader per area and shift), who is on
duty now and tonight with the fallback to the level above, handover notes, masking."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.auth.choices import Role
from lianfang.auth.models import User
from lianfang.auth.scope import SYSTEM
from lianfang.duty import service
from lianfang.duty.choices import DutyRole, Shift
from lianfang.duty.service import ShiftIn
from lianfang.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDenied
from tests.factories import CITY, COUNTY, OTHER_COUNTY_TOWN, TOWN, VILLAGE, actor_of, role_username

DAY = date(2023, 1, 12)


def put(session: Session, **changes: object) -> object:
    fields: dict[str, object] = dict(
        area_code=TOWN,
        on_date=DAY,
        shift=Shift.night,
        role=DutyRole.staff,
        name="王值班",
        phone="13900000001",
    )
    fields.update(changes)
    return service.create(session=session, actor=SYSTEM, data=ShiftIn(**fields))  # type: ignore[arg-type]


def at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=timeutil.LOCAL_TZ)


def test_a_night_shift_runs_to_the_next_morning_and_own_hours_override() -> None:
    start, end = service.window(DAY, Shift.night)
    assert (timeutil.local(start).hour, timeutil.local(end).date()) == (20, DAY + timedelta(days=1))
    start, end = service.window(DAY, Shift.day, time(9), time(17, 30))
    assert (timeutil.local(start).hour, timeutil.local(end).minute) == (9, 30)


def test_nobody_is_on_duty_twice_at_once(session: Session) -> None:
    put(session)
    with pytest.raises(ConflictError) as refused:
        put(session, area_code=COUNTY, shift=Shift.full)  # 08:00–08:00 overlaps the night
    assert "王值班" in refused.value.zh
    put(session, area_code=COUNTY, shift=Shift.day)  # 08:00–20:00 of the same day: fine
    put(session, on_date=DAY + timedelta(days=1))  # the next night: fine


def test_one_leader_per_area_and_shift(session: Session) -> None:
    put(session, role=DutyRole.leader, name="陈带班", phone="13900000002")
    with pytest.raises(ConflictError) as refused:
        put(session, role=DutyRole.leader, name="李带班", phone="13900000003")
    assert "陈带班" in refused.value.zh
    put(session, role=DutyRole.leader, name="李带班", phone="13900000003", shift=Shift.day)
    second = put(session, role=DutyRole.staff, name="李带班", phone="13900000004")
    with pytest.raises(ConflictError):  # a staff member made leader meets the same rule
        service.update(session=session, actor=SYSTEM, shift_id=second.id,  # type: ignore[attr-defined]
                       data=ShiftIn(role=DutyRole.leader))  # fmt: skip


def test_bad_input_is_refused_with_the_field(session: Session) -> None:
    with pytest.raises(InvalidInputError) as refused:
        put(session, phone="139****0001")
    assert "phone" in refused.value.fields
    with pytest.raises(InvalidInputError):
        put(session, name="  ")
    with pytest.raises(NotFoundError):
        put(session, user_id=999_999)


def test_writing_needs_duty_manage_and_scope(session: Session) -> None:
    data = ShiftIn(area_code=TOWN, on_date=DAY, shift=Shift.day, role=DutyRole.staff, name="甲")
    with pytest.raises(PermissionDenied):
        service.create(session=session, actor=actor_of(Role.village_worker), data=data)
    far = ShiftIn(area_code=OTHER_COUNTY_TOWN, on_date=DAY, shift=Shift.day,
                  role=DutyRole.staff, name="甲")  # fmt: skip
    with pytest.raises(PermissionDenied):
        service.create(session=session, actor=actor_of(Role.town_operator), data=far)
    made = service.create(session=session, actor=actor_of(Role.town_operator), data=data)
    assert made.created_by == role_username(Role.town_operator)


def test_on_duty_now_falls_back_to_the_nearest_level_above(session: Session) -> None:
    user = session.scalar(select(User).where(User.username == role_username(Role.town_operator)))
    assert user is not None
    put(session, area_code=COUNTY, role=DutyRole.leader, name="县带班", phone="13900000010")
    put(session, area_code=TOWN, user_id=user.id, name="", phone="13900000011")
    put(session, area_code=CITY, shift=Shift.full, name="市值班", phone="13900000012")
    night = at(DAY, 23)
    village = service.on_duty(session=session, actor=SYSTEM, area_code=VILLAGE, at=night)
    assert village.fallback
    assert village.source is not None
    assert village.source.code == TOWN
    assert [s.name for s in village.shifts] == [user.display_name]
    assert service.user_ids_on_duty(session, VILLAGE, night) == [user.id]
    county = service.on_duty(session=session, actor=SYSTEM, area_code=COUNTY, at=night)
    assert not county.fallback
    assert [s.name for s in county.shifts] == ["县带班"]
    morning = service.on_duty(session=session, actor=SYSTEM, area_code=VILLAGE, at=at(DAY, 10))
    assert morning.source is not None
    assert morning.source.code == CITY  # only the city's 24 h
    empty = service.on_duty(session=session, actor=SYSTEM, area_code=VILLAGE, at=at(DAY, 5))
    assert empty.shifts == []
    assert empty.source is None
    tonight = service.tonight(session=session, actor=SYSTEM, area_code=COUNTY, day=DAY)
    assert [s.role for s in tonight.shifts] == [DutyRole.leader]


def test_leader_comes_first_and_lists_follow_depth(session: Session) -> None:
    put(session, name="乙", phone="13900000021")
    put(session, role=DutyRole.leader, name="甲", phone="13900000020")
    put(session, area_code=VILLAGE, name="丙", phone="13900000022")
    found = service.on_duty(session=session, actor=SYSTEM, area_code=TOWN, at=at(DAY, 21))
    assert [s.name for s in found.shifts] == ["甲", "乙"]
    listed = service.listed(session=session, actor=SYSTEM, area_code=TOWN, start=DAY, end=DAY,
                            depth=0)  # fmt: skip
    assert {s.name for s in listed} == {"甲", "乙"}
    everything = service.listed(session=session, actor=SYSTEM, area_code=TOWN, start=DAY, end=DAY)
    assert {s.name for s in everything} == {"甲", "乙", "丙"}
    with pytest.raises(InvalidInputError):
        service.listed(session=session, actor=SYSTEM, area_code=TOWN, start=DAY,
                       end=DAY + timedelta(days=200))  # fmt: skip


def test_phones_are_masked_without_pii_reveal() -> None:
    assert service.shown_phone(actor_of(Role.viewer), "13912345678") == "139****5678"
    assert service.shown_phone(actor_of(Role.town_operator), "13912345678") == "13912345678"


def test_handover_is_written_by_the_outgoing_and_read_by_the_incoming(session: Session) -> None:
    put(session, role=DutyRole.leader, name="甲", phone="13900000030")
    note = service.hand_over(
        session=session, actor=actor_of(Role.town_operator), area_code=TOWN, on_date=DAY,
        shift=Shift.day, text="三组周玉兰血氧偏低，夜间再电话随访一次。",
    )  # fmt: skip
    with pytest.raises(InvalidInputError):
        service.hand_over(session=session, actor=SYSTEM, area_code=TOWN, on_date=DAY,
                          shift=Shift.day, text=" ")  # fmt: skip
    found = service.on_duty(session=session, actor=SYSTEM, area_code=TOWN,
                            at=note.created_at + timedelta(minutes=1))  # fmt: skip
    assert found.handover is not None
    assert found.handover.id == note.id
    with pytest.raises(NotFoundError):  # a village's worker does not reach the town's notes
        service.mark_handovers_read(session=session, actor=actor_of(Role.village_worker),
                                    handover_ids=[note.id])  # fmt: skip
    [read] = service.mark_handovers_read(
        session=session, actor=actor_of(Role.district_operator), handover_ids=[note.id]
    )
    assert read.read_by_name == role_username(Role.district_operator)
    with pytest.raises(NotFoundError):
        service.mark_handovers_read(session=session, actor=SYSTEM, handover_ids=[note.id + 1000])
    listed = service.handovers(session=session, actor=SYSTEM, area_code=TOWN, start=DAY, end=DAY)
    assert [h.id for h in listed] == [note.id]
