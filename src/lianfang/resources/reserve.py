"""Stock as a commander reads it: per facility and item the balance, days of supply, the
reserve target, the shortfall and the nearest facility that could transfer.

Nothing here sums the ledger: balances are the running ``stock_balance`` rows; recent use sums
only the last ``WINDOW_DAYS`` of issue lines (from the (facility, item, time) index).

Forecast demand: days of supply divide by the larger of recent use and a demand source
(``DemandSource``). ``adopted_demand`` is the one the reserve uses: the planning forecast
adopted for a primary facility's served area (``lianfang.forecast.adoption.adopted_forecast``),
its median courses for today split evenly over the items of the category (antipyretic courses
over the antipyretics, antiviral courses over the antivirals). Where no forecast is adopted,
recent use alone counts.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
from scipy.spatial import cKDTree
from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session, aliased, load_only

from lianfang import timeutil
from lianfang.areas import codes
from lianfang.areas.models import Area, AreaPopulation
from lianfang.auth.choices import Permission
from lianfang.auth.scope import Actor
from lianfang.demo.story import km
from lianfang.errors import NotFoundError
from lianfang.forecast.adoption import Demand, adopted_medians
from lianfang.i18n import _
from lianfang.resources import policy
from lianfang.resources.choices import FacilityStatus, FacilityType, ItemCategory, MovementKind
from lianfang.resources.models import Facility, Item, ReserveTarget, StockBalance, StockMovement
from lianfang.resources.service import stale_after

WINDOW_DAYS = 14
KM_PER_DEGREE = 111.2
DemandSource = Callable[
    [Session, Sequence[Facility], Sequence[Item]], Mapping[tuple[int, int], float]
]
"""Forecast demand in units a day per (facility id, item id) for the facilities' served areas."""


COURSES = {
    ItemCategory.antipyretic: "antipyretic_courses",
    ItemCategory.antiviral: "antiviral_courses",
}
"""Which forecast demand series stands for the daily use of which category of item."""


def daily_demand(
    demand: Mapping[str, Demand], start: date, day: date, items: Sequence[Item]
) -> dict[int, float]:
    """Units a day per item from a forecast's demand on ``day``: a category's median courses
    shared evenly among the catalogue's items of that category (one course, one unit)."""
    by_category: dict[ItemCategory, list[Item]] = defaultdict(list)
    for thing in items:
        by_category[thing.category].append(thing)
    out: dict[int, float] = {}
    for category, series in COURSES.items():
        found = demand.get(series)
        on = found.on(day, start) if found is not None else None
        if on is None or not by_category[category]:
            continue
        for thing in by_category[category]:
            out[thing.id] = on[1] / len(by_category[category])
    return out


def adopted_demand(actor: Actor) -> DemandSource:
    """Forecast demand of each primary facility's served area from the adopted planning forecast
    (none where no forecast covers the area). Every adopted run is read once for all the areas
    it covers (``adopted_medians``), not once per area."""

    def source(
        session: Session, places: Sequence[Facility], items: Sequence[Item]
    ) -> dict[tuple[int, int], float]:
        areas = sorted({p.area_code for p in places if p.type.primary})
        if not areas:
            return {}
        medians = adopted_medians(
            session=session, actor=actor, area_codes=areas, day=timeutil.today(),
            series=list(COURSES.values()),
        )  # fmt: skip
        if not medians:
            return {}
        per_area = {area: shares(found, items) for area, found in medians.items()}
        out: dict[tuple[int, int], float] = {}
        for place in places:
            if not place.type.primary:
                continue
            for item_id, units in per_area.get(place.area_code, {}).items():
                out[(place.id, item_id)] = units
        return out

    return source


def shares(medians: Mapping[str, float], items: Sequence[Item]) -> dict[int, float]:
    """Units a day per item from a day's median courses per series (``daily_demand`` for one
    day already read)."""
    by_category: dict[ItemCategory, list[Item]] = defaultdict(list)
    for thing in items:
        by_category[thing.category].append(thing)
    out: dict[int, float] = {}
    for category, series in COURSES.items():
        on = medians.get(series)
        if on is None or not by_category[category]:
            continue
        for thing in by_category[category]:
            out[thing.id] = on / len(by_category[category])
    return out


@dataclass(frozen=True)
class Source:
    """A facility that could transfer: its surplus over its own target, and how far it is."""

    facility_id: int
    name: str
    surplus: int
    km: float


@dataclass(slots=True)
class StockRow:
    """One facility's stock of one item, read against its reserve target."""

    facility: Facility
    item: Item
    balance: int
    moved_at: datetime | None
    per_day: float | None
    days: float | None
    target: int | None
    target_source: str  # "" default, else the area code that set it
    served: int
    stale: bool
    source: Source | None = None

    @property
    def shortfall(self) -> int:
        return policy.shortfall(self.balance, self.target or 0)

    @property
    def surplus(self) -> int:
        return max(0, self.balance - (self.target or 0))


@dataclass
class Reserve:
    """The stock rows of an area (and the facilities around it that could transfer)."""

    area: Area
    rows: list[StockRow]
    items: list[Item]
    children: list[ChildSummary] = field(default_factory=list)

    @property
    def short(self) -> list[StockRow]:
        return sorted(
            (r for r in self.rows if r.shortfall > 0),
            key=lambda r: (-r.shortfall / max(r.target or 1, 1), r.facility.id, r.item.id),
        )


@dataclass
class ChildSummary:
    """One child area of the dashboard: facilities, how many are short, units short by item."""

    code: str
    name: str
    facilities: int = 0
    short_facilities: int = 0
    short_units: dict[str, int] = field(default_factory=dict)  # item code -> units


def served_population(session: Session, places: Iterable[Facility]) -> dict[int, int]:
    """The population each primary facility serves: its area's residents (the village of a
    clinic, the town or street of a health centre). One range read of the villages below the
    towns' common prefix, whatever the number of towns."""
    primary = [p for p in places if p.type.primary]
    prefixes = {codes.short(p.area_code) for p in primary}
    if not prefixes:
        return {}
    towns = {p[:9] for p in prefixes}
    common = _common_prefix(sorted(towns))
    total = (
        AreaPopulation.age_0_14 + AreaPopulation.age_15_59 + AreaPopulation.age_60_64
        + AreaPopulation.age_65_79 + AreaPopulation.age_80_plus
    )  # fmt: skip
    by_prefix: dict[str, int] = defaultdict(int)
    for code, n in session.execute(
        select(AreaPopulation.area_code, total).where(
            AreaPopulation.area_code.between(common.ljust(12, "0"), common.ljust(12, "9"))
        )
    ):
        if code[:9] not in towns:
            continue
        by_prefix[code[:9]] += int(n)
        by_prefix[code] += int(n)
    return {p.id: by_prefix.get(codes.short(p.area_code), 0) for p in primary}


def _common_prefix(words: Sequence[str]) -> str:
    """The longest prefix the (sorted) words share."""
    first, last = words[0], words[-1]
    n = 0
    while n < min(len(first), len(last)) and first[n] == last[n]:
        n += 1
    return first[:n]


def recent_use(
    session: Session, where: ColumnElement[bool], since: datetime
) -> dict[tuple[int, int], int]:
    """Units issued per (facility, item) since a moment, net of corrections of those issues.

    Reads only the lines since that moment, from the (moved_at, area_code, ...) index: the
    cost follows the window, not the length of the ledger."""
    issued = session.execute(
        select(StockMovement.facility_id, StockMovement.item_id, -func.sum(StockMovement.quantity))
        .where(where, StockMovement.moved_at >= since, StockMovement.kind == MovementKind.issue)
        .group_by(StockMovement.facility_id, StockMovement.item_id)
    ).all()
    # corrections are few: joined to the lines they reverse on their own, so that no plan
    # hashes the whole ledger to find the originals of the window's issues
    original = aliased(StockMovement)
    corrected = session.execute(
        select(StockMovement.facility_id, StockMovement.item_id, -func.sum(StockMovement.quantity))
        .join(original, StockMovement.reverses_id == original.id)
        .where(where, StockMovement.moved_at >= since,
               StockMovement.kind == MovementKind.correction, original.kind == MovementKind.issue)
        .group_by(StockMovement.facility_id, StockMovement.item_id)
    ).all()  # fmt: skip
    out: dict[tuple[int, int], int] = {}
    for f, i, n in (*issued, *corrected):
        out[(f, i)] = out.get((f, i), 0) + int(n)
    return out


def _rules(
    session: Session, items: Sequence[Item]
) -> dict[tuple[int, FacilityType], dict[str, policy.Rule]]:
    """Every area's own targets: (item, facility type) -> area code -> rule."""
    out: dict[tuple[int, FacilityType], dict[str, policy.Rule]] = defaultdict(dict)
    for t in session.scalars(
        select(ReserveTarget).where(ReserveTarget.item_id.in_([i.id for i in items]))
    ):
        out[(t.item_id, t.facility_type)][t.area_code] = policy.Rule(
            t.per_facility, t.population_share, t.area_code
        )
    return out


def stock_rows(
    *, session: Session, actor: Actor, prefix: str, items: Sequence[Item] | None = None,
    facility_ids: Sequence[int] | None = None, demand: DemandSource | None = None,
) -> list[StockRow]:  # fmt: skip
    """Every in-scope facility's stock of each item below an area prefix (or of the given
    facilities), with days of supply and its target.

    Balances are read as plain columns of ``stock_balance`` (no ORM objects), recent use from
    the window of the ledger only, and each (item, facility type, area) rule is chosen once."""
    actor.require(Permission.resources_read)
    items = (
        list(items) if items is not None else list(session.scalars(select(Item).order_by(Item.id)))
    )
    where = [actor.area_filter(Facility.area_code), codes.in_subtree(Facility.area_code, prefix)]
    if facility_ids is not None:
        where.append(Facility.id.in_(facility_ids))
    places = list(session.scalars(select(Facility).where(*where).order_by(Facility.id)))
    if not places or not items:
        return []
    ids = [p.id for p in places]
    item_ids = [i.id for i in items]
    scope = and_(
        codes.in_subtree(StockBalance.area_code, prefix), StockBalance.item_id.in_(item_ids)
    )
    if facility_ids is not None:
        scope = and_(scope, StockBalance.facility_id.in_(ids))
    held: dict[tuple[int, int], tuple[int, datetime]] = {
        (f, i): (n, at)
        for f, i, n, at in session.execute(
            select(
                StockBalance.facility_id, StockBalance.item_id, StockBalance.balance,
                StockBalance.moved_at,
            ).where(scope)
        )
    }  # fmt: skip
    now = timeutil.now()
    use_scope = and_(
        codes.in_subtree(StockMovement.area_code, prefix), StockMovement.item_id.in_(item_ids)
    )
    if facility_ids is not None:
        use_scope = and_(use_scope, StockMovement.facility_id.in_(ids))
    used = recent_use(session, use_scope, now - timedelta(days=WINDOW_DAYS))
    forecast = demand(session, places, items) if demand is not None else {}
    served = served_population(session, places)
    rules = _rules(session, items)
    stale_before = now - stale_after()
    chosen: dict[tuple[int, FacilityType, str], policy.Rule | None] = {}
    defaults = {
        (thing.id, kind): policy.default(kind, thing.code, thing.category)
        for thing in items
        for kind in {p.type for p in places}
    }
    rows = []
    catalogue = [(thing, thing.id, thing.per_person) for thing in items]
    for place in places:
        place_id, kind, area_code = place.id, place.type, place.area_code
        people = served.get(place_id, 0)
        for thing, item_id, per_person in catalogue:
            key = (place_id, item_id)
            b = held.get(key)
            overrides = rules.get((item_id, kind))
            if overrides:
                pick = (item_id, kind, area_code)
                if pick not in chosen:
                    chosen[pick] = policy.choose(area_code, overrides, defaults[(item_id, kind)])
                rule = chosen[pick]
            else:
                rule = defaults[(item_id, kind)]
            if b is None and rule is None:
                continue  # holds none and needs none
            recent = used.get(key, 0) / WINDOW_DAYS
            per_day = max(recent, forecast.get(key, 0.0)) or None
            balance, moved_at = b if b is not None else (0, None)
            rows.append(StockRow(
                facility=place, item=thing, balance=balance, moved_at=moved_at,
                per_day=per_day, days=policy.days_of_supply(balance, per_day),
                target=rule.units(people, per_person) if rule else None,
                target_source=rule.source if rule else "", served=people,
                stale=moved_at is None or moved_at < stale_before,
            ))  # fmt: skip
    return rows


def attach_sources(rows: list[StockRow], pool: Sequence[StockRow]) -> None:
    """Give each short row the nearest open facility of the pool holding a surplus of the item
    (one that covers the whole shortfall if any lies within twice the distance of the nearest).

    Distances are those of ``nearest_sources``; a k-d tree over the candidates in a plane that
    never overstates a distance (longitude scaled by the smallest cosine of latitude) finds the
    few candidates each row has to measure, instead of measuring every candidate."""
    by_item: dict[int, list[StockRow]] = defaultdict(list)
    for r in pool:
        if (
            r.surplus > 0
            and r.facility.status is FacilityStatus.open
            and r.facility.lon is not None
            and r.facility.lat is not None
        ):
            by_item[r.item.id].append(r)
    wanting: dict[int, list[StockRow]] = defaultdict(list)
    for row in rows:
        if row.shortfall <= 0 or row.facility.lon is None or row.facility.lat is None:
            continue
        if by_item.get(row.item.id):
            wanting[row.item.id].append(row)
    for item_id, short in wanting.items():
        _nearest_sources(short, by_item[item_id])


def _nearest_sources(short: Sequence[StockRow], candidates: Sequence[StockRow]) -> None:
    """Sources for the short rows of one item, all rows at once: two ball queries each (the
    reach of the nearest candidate, then twice that plus 1 km), exact distances for what they
    return, and per row the nearest covering candidate within that, else the nearest."""
    lon = np.array([c.facility.lon for c in candidates], dtype=float)
    lat = np.array([c.facility.lat for c in candidates], dtype=float)
    ids = np.array([c.facility.id for c in candidates], dtype=np.int64)
    surplus = np.array([c.surplus for c in candidates], dtype=np.int64)
    here_lon = np.array([r.facility.lon for r in short], dtype=float)
    here_lat = np.array([r.facility.lat for r in short], dtype=float)
    here_id = np.array([r.facility.id for r in short], dtype=np.int64)
    wanted = np.array([r.shortfall for r in short], dtype=np.int64)
    widest = max(float(np.abs(lat).max()), float(np.abs(here_lat).max()))
    least = math.cos(math.radians(min(widest, 89.0)))  # no pair's cosine is smaller
    tree = cKDTree(np.column_stack((lon * least * KM_PER_DEGREE, lat * KM_PER_DEGREE)))
    points = np.column_stack((here_lon * least * KM_PER_DEGREE, here_lat * KM_PER_DEGREE))

    def measured(row: np.ndarray, at: np.ndarray) -> np.ndarray:
        scale = np.cos(np.radians((lat[at] + here_lat[row]) / 2))
        return np.asarray(
            KM_PER_DEGREE * np.hypot((lon[at] - here_lon[row]) * scale, lat[at] - here_lat[row])
        )

    def within(radius: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(row, candidate, exact distance) of every candidate the plane puts within reach
        (a superset of those truly within it), never the row's own facility."""
        found = tree.query_ball_point(points, r=radius * (1 + 1e-9) + 1e-9)
        sizes = np.fromiter((len(f) for f in found), dtype=np.intp, count=len(found))
        at = (
            np.concatenate([np.asarray(f, dtype=np.intp) for f in found])
            if sizes.sum() else np.zeros(0, dtype=np.intp)
        )  # fmt: skip
        row = np.repeat(np.arange(len(found)), sizes)
        keep = ids[at] != here_id[row]
        row, at = row[keep], at[keep]
        return row, at, measured(row, at)

    def first(row: np.ndarray, at: np.ndarray, dist: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per row that has any: the candidate at the least distance (the lowest index among
        equals), and that distance."""
        order = np.lexsort((at, dist, row))
        rows, starts = np.unique(row[order], return_index=True)
        chosen = np.full(len(short), -1, dtype=np.intp)
        least_km = np.full(len(short), np.inf)
        chosen[rows] = at[order][starts]
        least_km[rows] = dist[order][starts]
        return chosen, least_km

    _, guess = tree.query(points, k=1)
    reach = measured(np.arange(len(short)), np.asarray(guess, dtype=np.intp))
    mine = ids[guess] == here_id  # the plane's nearest is the row itself: look everywhere
    reach[mine] = np.inf
    nearest_at, nearest = first(*within(reach))
    limit = 2 * nearest + 1
    row, at, dist = within(np.where(np.isfinite(limit), limit, 0.0))
    ok = (surplus[at] >= wanted[row]) & (dist <= limit[row])
    covering_at, _ = first(row[ok], at[ok], dist[ok])
    pick = np.where(covering_at >= 0, covering_at, nearest_at)
    for index, row_ in enumerate(short):
        if pick[index] < 0:
            continue
        c = candidates[int(pick[index])]
        here = (row_.facility.lon or 0.0, row_.facility.lat or 0.0)
        row_.source = Source(
            c.facility.id,
            c.facility.name,
            c.surplus,
            round(km(here, (c.facility.lon or 0.0, c.facility.lat or 0.0)), 1),
        )


def reserve(
    *, session: Session, actor: Actor, area_code: str, demand: DemandSource | None = None
) -> Reserve:
    """The reserve of an area: stock rows of its facilities with shortfalls and the nearest
    source within the county around it (or the area itself above county level), and a summary
    per child area for the dashboard. Demand: the adopted forecast unless another is given."""
    actor.require(Permission.resources_read)
    code = codes.normalise(area_code)
    area = session.get(Area, code)
    if area is None:
        raise NotFoundError(_("no area with code %(code)s", code=codes.short(code)))
    actor.require_area(code, area.name)
    prefix = codes.short(code)
    region = prefix[:6] if len(prefix) > 6 else prefix
    if not actor.reaches(region.ljust(12, "0")):
        region = prefix
    items = list(session.scalars(select(Item).order_by(Item.id)))
    demand = demand if demand is not None else adopted_demand(actor)
    pool = stock_rows(session=session, actor=actor, prefix=region, items=items, demand=demand)
    rows = [r for r in pool if r.facility.area_code.startswith(prefix)]
    attach_sources(rows, pool)
    return Reserve(area=area, rows=rows, items=items, children=_children(session, area, rows))


def _children(session: Session, area: Area, rows: Sequence[StockRow]) -> list[ChildSummary]:
    kids = session.scalars(
        select(Area).where(Area.parent_code == area.code).order_by(Area.code)
    ).all()
    out = {k.code: ChildSummary(k.code, k.name) for k in kids}
    lengths = sorted({len(codes.short(k.code)) for k in kids})
    if not lengths:
        return []
    width = lengths[0]
    seen: dict[str, set[int]] = defaultdict(set)
    short: dict[str, set[int]] = defaultdict(set)
    for r in rows:
        key = r.facility.area_code[:width].ljust(12, "0")
        if key not in out:
            continue
        seen[key].add(r.facility.id)
        if r.shortfall > 0:
            short[key].add(r.facility.id)
            units = out[key].short_units
            units[r.item.code] = units.get(r.item.code, 0) + r.shortfall
    for key, summary in out.items():
        summary.facilities = len(seen[key])
        summary.short_facilities = len(short[key])
    return list(out.values())


@dataclass(frozen=True)
class BelowTarget:
    """Stock under an area read only against its targets (for the briefing and the overview):
    the (facility id, facility area code) of each facility × item row below target, how many
    rows were read, how many of them are stale and the newest movement behind them."""

    short: list[tuple[int, str]]
    rows: int
    stale: int
    newest: datetime | None


def below_target(*, session: Session, actor: Actor, prefix: str) -> BelowTarget:
    """Which in-scope stock rows under an area prefix lie below their reserve target: the same
    targets as ``stock_rows`` (an area's own rule, else the default), without the days of
    supply (no recent use, no forecast), balances read as plain columns — fast enough for a
    city's overview."""
    actor.require(Permission.resources_read)
    items = list(session.scalars(select(Item).order_by(Item.id)))
    where = [actor.area_filter(Facility.area_code), codes.in_subtree(Facility.area_code, prefix)]
    columns = load_only(Facility.id, Facility.area_code, Facility.type)  # no timestamps to parse
    places = list(
        session.scalars(select(Facility).options(columns).where(*where).order_by(Facility.id))
    )
    if not places or not items:
        return BelowTarget([], 0, 0, None)
    scope = codes.in_subtree(StockBalance.area_code, prefix)
    cutoff = timeutil.now() - stale_after()
    fresh = and_(StockBalance.moved_at.is_not(None), StockBalance.moved_at >= cutoff)
    held = {
        (f, i): (balance, bool(ok))
        for f, i, balance, ok in session.execute(
            select(StockBalance.facility_id, StockBalance.item_id, StockBalance.balance,
                   case((fresh, 1), else_=0))
            .where(scope)
        )
    }  # fmt: skip
    newest = session.scalar(select(func.max(StockBalance.moved_at)).where(scope))
    served = served_population(session, places)
    rules = _rules(session, items)
    kinds = {p.type for p in places}
    goods = [(t.id, t.per_person) for t in items]
    defaults = {
        (kind, t.id): policy.default(kind, t.code, t.category) for kind in kinds for t in items
    }
    short: list[tuple[int, str]] = []
    rows = stale = 0
    for place_id, area_code, kind in [(p.id, p.area_code, p.type) for p in places]:
        people = served.get(place_id, 0)
        for item_id, per_person in goods:
            found = held.get((place_id, item_id))
            overrides = rules.get((item_id, kind))
            fallback = defaults[(kind, item_id)]
            rule = policy.choose(area_code, overrides, fallback) if overrides else fallback
            if found is None and rule is None:
                continue
            rows += 1
            balance, ok = found if found is not None else (0, False)
            stale += not ok
            target = rule.units(people, per_person) if rule else 0
            if balance < target:
                short.append((place_id, area_code))
    return BelowTarget(short, rows, stale, newest)
