"""Reserve targets, days of supply, shortfalls with their nearest source, stale flags, the
public lookup — and the demo's story read through them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.auth.choices import Role
from lianfang.auth.scope import SYSTEM
from lianfang.demo import story
from lianfang.resources import ledger, lookup, reserve, service
from lianfang.resources.choices import FacilityStatus, FacilityType
from lianfang.resources.models import CapacityReport, Facility
from lianfang.resources.schemas import CapacityCreate, FacilityUpdate, TargetWrite
from tests.factories import VILLAGE, actor_of
from tests.resources.factories import facility, item

YANGKOU = "320623101"  # 如东县洋口镇, behind in the story


def test_the_behind_towns_centre_is_short_of_antivirals(session: Session) -> None:
    read = reserve.reserve(session=session, actor=SYSTEM, area_code=YANGKOU)
    centre = [r for r in read.rows if r.facility.type is FacilityType.township_centre]
    short = {r.item.code: r for r in centre if r.shortfall > 0}
    assert {"azvudine", "nirmatrelvir"} <= set(short)
    azvudine = short["azvudine"]
    assert azvudine.target == story.ANTIVIRAL_TARGET["azvudine"]
    assert azvudine.target_source == "320600000000"  # the city's own target
    assert azvudine.source is not None
    assert azvudine.source.surplus > 0


def test_some_clinics_lack_oximeters_and_the_behind_town_more_than_the_seat(
    session: Session,
) -> None:
    def lacking(area: str) -> float:
        rows = [
            r for r in reserve.reserve(session=session, actor=SYSTEM, area_code=area).rows
            if r.item.code == "oximeter" and r.facility.type is FacilityType.village_clinic
        ]  # fmt: skip
        return sum(r.balance < 2 for r in rows) / len(rows)

    assert lacking("320623") > 0
    assert lacking(YANGKOU) > lacking("320623001")


def test_a_few_capacity_reports_are_stale_and_a_hospital_is_near_full(session: Session) -> None:
    hospitals = session.scalars(
        select(Facility).where(Facility.type.in_(
            [FacilityType.tertiary_hospital, FacilityType.secondary_hospital,
             FacilityType.township_centre, FacilityType.community_centre]))
    ).all()  # fmt: skip
    latest = service.latest_capacity(session, [h.id for h in hospitals])
    noon = timeutil.start_of(story.TODAY) + timedelta(hours=12)  # the demo's day, whatever clock
    stale = [h for h in hospitals if service.is_stale(latest[h.id].reported_at, noon)]
    assert len(stale) == story.STALE_REPORTS
    full = next(h for h in hospitals if h.name == story.NEAR_FULL)
    report = latest[full.id]
    assert report.beds_occupied is not None
    assert report.beds_total is not None
    assert report.beds_occupied / report.beds_total >= 0.95


def test_an_areas_target_replaces_the_default_below_it(session: Session) -> None:
    clinic = facility(session, "T-CLINIC", VILLAGE)
    ox = item(session, "oximeter")
    before = reserve.stock_rows(
        session=session, actor=SYSTEM, prefix=VILLAGE, items=[ox], facility_ids=[clinic.id]
    )
    assert [r.target for r in before] == [2]  # DESIGN.md: 2 per village clinic
    service.set_target(
        session=session, actor=actor_of(Role.district_operator),
        data=TargetWrite(area_code="320623", item_id=ox.id,
                         facility_type=FacilityType.village_clinic, per_facility=3),
    )  # fmt: skip
    after = reserve.stock_rows(
        session=session, actor=SYSTEM, prefix=VILLAGE, items=[ox], facility_ids=[clinic.id]
    )
    assert [(r.target, r.shortfall, r.target_source) for r in after] == [(3, 3, "320623000000")]


def test_days_of_supply_follow_the_last_two_weeks_of_issues(session: Session) -> None:
    clinic = facility(session, "T-CLINIC", VILLAGE)
    ibu = item(session, "ibuprofen")
    ledger.receive(
        session=session, actor=SYSTEM, facility_id=clinic.id, item_id=ibu.id, quantity=100
    )
    for _ in range(2):
        ledger.issue(
            session=session, actor=SYSTEM, facility_id=clinic.id, item_id=ibu.id, quantity=14,
            ward="门诊",
        )  # fmt: skip
    (row,) = reserve.stock_rows(
        session=session, actor=SYSTEM, prefix=VILLAGE, items=[ibu], facility_ids=[clinic.id]
    )
    assert row.balance == 72
    assert row.per_day == 2.0  # 28 units over 14 days
    assert row.days == 36.0
    assert not row.stale


def test_a_stale_capacity_report_is_flagged(session: Session) -> None:
    centre = facility(session, "T-CENTRE", VILLAGE[:9], FacilityType.township_centre)
    old = timeutil.now() - timedelta(hours=30)
    service.report_capacity(
        session=session, actor=SYSTEM, facility_id=centre.id,
        data=CapacityCreate(beds_total=40, beds_occupied=12), reported_at=old,
    )  # fmt: skip
    latest = service.latest_capacity(session, [centre.id])[centre.id]
    assert service.is_stale(latest.reported_at)
    service.report_capacity(
        session=session, actor=SYSTEM, facility_id=centre.id,
        data=CapacityCreate(beds_total=40, beds_occupied=15),
    )  # fmt: skip
    latest = service.latest_capacity(session, [centre.id])[centre.id]
    assert not service.is_stale(latest.reported_at)
    assert (
        session.scalar(select(CapacityReport.beds_occupied).where(CapacityReport.id == latest.id))
        == 15
    )


def test_the_public_lookup_lists_open_places_with_stock_nearest_first(session: Session) -> None:
    found = lookup.find(session=session, actor=lookup.PUBLIC, item="布洛芬", near=VILLAGE)
    assert found.results
    distances = [f.km for f in found.results]
    assert distances == sorted(distances)
    first = found.results[0]
    service.update_facility(
        session=session, actor=SYSTEM, facility_id=first.facility_id,
        data=FacilityUpdate(status=FacilityStatus.closed),
    )  # fmt: skip
    again = lookup.find(session=session, actor=lookup.PUBLIC, item="ibuprofen", near=VILLAGE)
    assert first.facility_id not in {f.facility_id for f in again.results}
    assert not hasattr(first, "balance")  # a level, never the quantity


def test_forecast_demand_is_shared_among_a_categorys_items(session: Session) -> None:
    from datetime import date

    from lianfang.forecast.adoption import Demand
    from lianfang.resources.models import Item

    items = session.scalars(select(Item).order_by(Item.id)).all()
    series = {
        "antipyretic_courses": Demand("antipyretic_courses", "x", (0, 0), (8.0, 10.0), (0, 0)),
        "antiviral_courses": Demand("antiviral_courses", "x", (0,), (3.0,), (0,)),
    }  # fmt: skip
    start = date(2023, 1, 4)
    by_code = {i.id: i.code for i in items}
    got = {
        by_code[k]: v
        for k, v in reserve.daily_demand(series, start, date(2023, 1, 5), items).items()
    }
    assert got == {"ibuprofen": 5.0, "paracetamol": 5.0}  # day 2: 10 courses; antivirals ended
    first = reserve.daily_demand(series, start, start, items)
    assert {by_code[k]: v for k, v in first.items()}["azvudine"] == 1.5


def test_days_of_supply_take_the_larger_of_use_and_forecast(session: Session) -> None:
    clinic = facility(session, "T-CLINIC", VILLAGE)
    ibu = item(session, "ibuprofen")
    ledger.receive(
        session=session, actor=SYSTEM, facility_id=clinic.id, item_id=ibu.id, quantity=90
    )
    ledger.issue(
        session=session, actor=SYSTEM, facility_id=clinic.id, item_id=ibu.id, quantity=14, ward="x"
    )

    def forecast(_s: Session, places: object, items: object) -> dict[tuple[int, int], float]:
        return {(clinic.id, ibu.id): 4.0}

    (row,) = reserve.stock_rows(
        session=session, actor=SYSTEM, prefix=VILLAGE, items=[ibu], facility_ids=[clinic.id],
        demand=forecast,
    )  # fmt: skip
    assert (row.per_day, row.days) == (4.0, 19.0)  # forecast 4/day beats 1/day used
