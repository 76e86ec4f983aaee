"""The reserve's fast read (running balances, the ledger's window from an index, every adopted
run read once, rules chosen once, nearest sources through a k-d tree) gives exactly what a plain
recomputation from the ledger gives: every line summed, every area's forecast asked on its own,
every candidate source measured."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.areas import codes
from lianfang.areas.models import Area, AreaPopulation
from lianfang.auth.choices import Role
from lianfang.auth.scope import SYSTEM
from lianfang.demo.story import km
from lianfang.errors import NotFoundError
from lianfang.forecast import adoption
from lianfang.forecast import service as forecasts
from lianfang.forecast.models import RunKind, RunStatus
from lianfang.resources import ledger, policy, reserve, service
from lianfang.resources.choices import FacilityStatus, FacilityType, MovementKind
from lianfang.resources.models import Facility, Item, ReserveTarget, StockBalance, StockMovement
from lianfang.resources.schemas import TargetWrite
from tests.factories import actor_of

COUNTY, TOWN = "320623", "320623101"  # 如东县, 洋口镇 (behind in the story)
SERIES = ("antipyretic_courses", "antiviral_courses")


def _adopt_a_county_forecast(session: Session) -> None:
    """A finished forecast for the county, its towns as groups, adopted: every primary facility
    below it gets forecast demand (a village's scaled by its share of its town)."""
    towns = session.scalars(
        select(Area.code).where(
            Area.parent_code == codes.normalise(COUNTY)
        ).order_by(Area.code)
    ).all()  # fmt: skip
    people = session.execute(
        select(AreaPopulation).where(codes.in_subtree(AreaPopulation.area_code, COUNTY))
        .order_by(AreaPopulation.area_code)
    ).scalars().all()  # fmt: skip
    start = timeutil.today() - timedelta(days=5)
    columns = len(towns) + 1

    def band(scale: float) -> list[list[float | None]]:
        return [[scale * (c + 1) * (d % 7 + 1) for d in range(30)] for c in range(columns)]

    scenario = {
        "name": "test", "start": start.isoformat(), "days": 30,
        "bands": {s: {"low": band(0.5), "median": band(1.0 + n), "high": band(3.0)}
                  for n, s in enumerate(SERIES)},
        "peaks": [{"peak_date": None}] * columns,
    }  # fmt: skip
    run = forecasts.create_run(
        session=session, actor=SYSTEM, code=COUNTY, kind=RunKind.forecast,
        inputs={"codes": [p.area_code for p in people],
                "residents": [[p.age_0_14, p.age_15_59, p.age_60_64, p.age_65_79,
                               p.age_80_plus] for p in people]},
    )  # fmt: skip
    forecasts.mark(session=session, run=run, status=RunStatus.done,
                   result={"scenarios": [scenario], "group_codes": list(towns)})  # fmt: skip
    adoption.adopt(session=session, actor=SYSTEM, run_id=run.id)


def _plain(session: Session, prefix: str) -> dict[tuple[int, int], dict[str, Any]]:
    """Each facility's stock of each item below the prefix, recomputed the plain way."""
    now = timeutil.now()
    since = now - timedelta(days=reserve.WINDOW_DAYS)
    items = session.scalars(select(Item).order_by(Item.id)).all()
    places = session.scalars(
        select(Facility).where(codes.in_subtree(Facility.area_code, prefix))
    ).all()
    lines = session.scalars(
        select(StockMovement).where(codes.in_subtree(StockMovement.area_code, prefix))
    ).all()
    kinds = {m.id: m.kind for m in session.scalars(select(StockMovement))}
    summed: dict[tuple[int, int], int] = defaultdict(int)
    used: dict[tuple[int, int], int] = defaultdict(int)
    for m in lines:
        summed[(m.facility_id, m.item_id)] += m.quantity
        issue = m.kind is MovementKind.issue or (
            m.kind is MovementKind.correction
            and kinds.get(m.reverses_id or 0) is MovementKind.issue
        )
        if issue and m.moved_at >= since:
            used[(m.facility_id, m.item_id)] -= m.quantity
    moved = {(b.facility_id, b.item_id): b.moved_at for b in session.scalars(select(StockBalance))}
    residents = {
        p.area_code: p.age_0_14 + p.age_15_59 + p.age_60_64 + p.age_65_79 + p.age_80_plus
        for p in session.scalars(select(AreaPopulation))
    }
    overrides: dict[tuple[int, FacilityType], dict[str, policy.Rule]] = defaultdict(dict)
    for t in session.scalars(select(ReserveTarget)):
        overrides[(t.item_id, t.facility_type)][t.area_code] = policy.Rule(
            t.per_facility, t.population_share, t.area_code
        )
    out = {}
    for place in places:
        served = 0
        if place.type.primary:
            short = codes.short(place.area_code)
            served = sum(n for code, n in residents.items() if code.startswith(short))
        try:
            read = adoption.adopted_forecast(session=session, actor=SYSTEM, area=place.area_code)
            demand = reserve.daily_demand(read.demand, read.start, timeutil.today(), items)
        except NotFoundError:
            demand = {}
        for thing in items:
            key = (place.id, thing.id)
            rule = policy.choose(
                place.area_code, overrides.get((thing.id, place.type), {}),
                policy.default(place.type, thing.code, thing.category),
            )  # fmt: skip
            if key not in moved and rule is None:
                continue
            forecast = demand.get(thing.id, 0.0) if place.type.primary else 0.0
            per_day = max(used[key] / reserve.WINDOW_DAYS, forecast) or None
            balance = summed[key]
            target = rule.units(served, thing.per_person) if rule else None
            out[key] = {
                "place": place, "balance": balance, "per_day": per_day,
                "recent": used[key] / reserve.WINDOW_DAYS,
                "days": balance / per_day if per_day else None, "target": target,
                "target_source": rule.source if rule else "", "served": served,
                "stale": service.is_stale(moved.get(key), now),
                "shortfall": max(0, (target or 0) - balance),
                "surplus": max(0, balance - (target or 0)),
            }  # fmt: skip
    return out


def _plain_source(row: dict[str, Any], item_id: int, pool: dict[tuple[int, int], dict[str, Any]]
                  ) -> tuple[int, str, int, float] | None:  # fmt: skip
    """The nearest open facility with a surplus, every candidate measured."""
    place = row["place"]
    if row["shortfall"] <= 0 or place.lon is None or place.lat is None:
        return None
    candidates = [
        r for (f, i), r in sorted(pool.items())
        if i == item_id and r["surplus"] > 0 and r["place"].status is FacilityStatus.open
        and r["place"].lon is not None and f != place.id
    ]  # fmt: skip
    if not candidates:
        return None
    here = (place.lon, place.lat)
    dist = np.array([km(here, (c["place"].lon, c["place"].lat)) for c in candidates])
    nearest = float(dist.min())
    order = sorted(range(len(candidates)), key=lambda i: (dist[i], i))
    covering = [i for i in order if candidates[i]["surplus"] >= row["shortfall"]]
    pick = covering[0] if covering and dist[covering[0]] <= 2 * nearest + 1 else order[0]
    c = candidates[pick]
    return (c["place"].id, c["place"].name, c["surplus"],
            round(km(here, (c["place"].lon, c["place"].lat)), 1))  # fmt: skip


def test_the_fast_reserve_equals_a_plain_recomputation(session: Session) -> None:
    _adopt_a_county_forecast(session)
    ox = session.scalar(select(Item).where(Item.code == policy.OXIMETER))
    assert ox is not None
    service.set_target(
        session=session, actor=actor_of(Role.district_operator),
        data=TargetWrite(area_code=TOWN, item_id=ox.id,
                         facility_type=FacilityType.village_clinic, per_facility=3),
    )  # fmt: skip
    issued = session.scalars(
        select(StockMovement)
        .where(codes.in_subtree(StockMovement.area_code, TOWN),
               StockMovement.kind == MovementKind.issue)
        .order_by(StockMovement.moved_at.desc())
        .limit(2)
    ).all()  # fmt: skip
    assert len(issued) == 2
    ledger.reverse(session=session, actor=SYSTEM, movement_id=issued[0].id, note="wrong ward")

    read = reserve.reserve(session=session, actor=SYSTEM, area_code=TOWN)
    pool = _plain(session, COUNTY)
    fast = {
        (r.facility.id, r.item.id): (
            r.balance, r.per_day, r.days, r.target, r.target_source, r.served, r.stale,
            r.shortfall,
            None if r.source is None
            else (r.source.facility_id, r.source.name, r.source.surplus, r.source.km),
        )
        for r in read.rows
    }  # fmt: skip
    plain = {
        key: (
            r["balance"], r["per_day"], r["days"], r["target"], r["target_source"], r["served"],
            r["stale"], r["shortfall"], _plain_source(r, key[1], pool),
        )
        for key, r in pool.items()
        if r["place"].area_code.startswith(TOWN)
    }  # fmt: skip
    assert fast == plain
    # the world exercised every path: forecast demand above recent use, an area's own target,
    # shortfalls with a source
    town = [r for r in pool.values() if r["place"].area_code.startswith(TOWN)]
    assert any(r["per_day"] is not None and r["per_day"] > r["recent"] for r in town)
    assert any(r.target_source == codes.normalise(TOWN) for r in read.rows)
    assert any(r.source is not None for r in read.rows)


def test_the_reserves_counts_and_summaries_equal_its_rows(session: Session) -> None:
    """The dashboard's figures, read from the columns, are those of the rows themselves."""
    read = reserve.reserve(session=session, actor=SYSTEM, area_code=COUNTY)
    rows = read.rows
    short = sorted(
        (r for r in rows if r.shortfall > 0),
        key=lambda r: (-r.shortfall / max(r.target or 1, 1), r.facility.id, r.item.id),
    )
    assert short
    assert len(short) < len(rows)
    assert [(r.facility.id, r.item.id) for r in read.short] == [
        (r.facility.id, r.item.id) for r in short
    ]
    assert [(r.facility.id, r.item.id) for r in read.short_rows(5)] == [
        (r.facility.id, r.item.id) for r in short[:5]
    ]
    assert read.short_count == len(short)
    assert read.facility_count == len({r.facility.id for r in rows})
    assert read.short_facility_count == len({r.facility.id for r in short})
    assert read.stale_count == sum(r.stale for r in rows)
    for child in read.children:
        mine = [r for r in rows if r.facility.area_code.startswith(codes.short(child.code))]
        units: dict[str, int] = defaultdict(int)
        for r in mine:
            if r.shortfall:
                units[r.item.code] += r.shortfall
        assert child.facilities == len({r.facility.id for r in mine})
        assert child.short_facilities == len({r.facility.id for r in mine if r.shortfall})
        assert child.short_units == dict(units)
    assert any(c.short_units for c in read.children)
