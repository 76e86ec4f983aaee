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

import functools
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import chain
from operator import itemgetter
from typing import Any

import numpy as np
from scipy.spatial import cKDTree
from sqlalchemy import ColumnElement, Executable, and_, case, func, select
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
    [Session, Sequence["Place"], Sequence[Item]], Mapping[tuple[int, int], float]
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
        session: Session, places: Sequence[Place], items: Sequence[Item]
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


@dataclass(frozen=True, slots=True)
class Place:
    """The columns of a facility the reserve reads (no ORM object per facility)."""

    id: int
    name: str
    type: FacilityType
    area_code: str
    status: FacilityStatus
    lon: float | None
    lat: float | None


@dataclass(slots=True)
class StockRow:
    """One facility's stock of one item, read against its reserve target."""

    facility: Place
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
class ChildSummary:
    """One child area of the dashboard: facilities, how many are short, units short by item."""

    code: str
    name: str
    facilities: int = 0
    short_facilities: int = 0
    short_units: dict[str, int] = field(default_factory=dict)  # item code -> units


def served_population(session: Session, places: Iterable[Place | Facility]) -> dict[int, int]:
    """The population each primary facility serves: its area's residents (the village of a
    clinic, the town or street of a health centre). One range read of the villages below the
    towns' common prefix, whatever the number of towns."""
    primary = [p for p in places if p.type.primary]
    short_of = {code: codes.short(code) for code in {p.area_code for p in primary}}
    prefixes = set(short_of.values())
    if not prefixes:
        return {}
    towns = {p[:9] for p in prefixes}
    common = _common_prefix(sorted(towns))
    total = (
        AreaPopulation.age_0_14 + AreaPopulation.age_15_59 + AreaPopulation.age_60_64
        + AreaPopulation.age_65_79 + AreaPopulation.age_80_plus
    )  # fmt: skip
    by_prefix: dict[str, int] = defaultdict(int)
    for code, n in plain_rows(
        session,
        select(AreaPopulation.area_code, total).where(
            AreaPopulation.area_code.between(common.ljust(12, "0"), common.ljust(12, "9"))
        ),
    ):
        if code[:9] not in towns:
            continue
        by_prefix[code[:9]] += int(n)
        by_prefix[code] += int(n)
    return {p.id: by_prefix.get(short_of[p.area_code], 0) for p in primary}


def plain_rows(session: Session, statement: Executable) -> Sequence[Any]:
    """The rows of a select of columns as the driver gives them: its own tuples, with no row
    object or type conversion of SQLAlchemy's per row (pending changes are written first, as
    the session's own execute would). For numbers and text, and values converted by hand
    (``_moments``): a province's reserve reads 270,000 balances."""
    session.flush()
    result = session.connection().execute(statement)
    try:
        rows: Sequence[Any] = result.cursor.fetchall()
        return rows
    finally:
        result.close()


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
    issued = plain_rows(
        session,
        select(StockMovement.facility_id, StockMovement.item_id, -func.sum(StockMovement.quantity))
        .where(where, StockMovement.moved_at >= since, StockMovement.kind == MovementKind.issue)
        .group_by(StockMovement.facility_id, StockMovement.item_id),
    )
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


def places_of(session: Session, where: Sequence[ColumnElement[bool]]) -> list[Place]:
    """Facilities as plain columns, in id order."""
    session.flush()
    return [
        Place(*row)
        for row in session.connection().execute(  # typed columns (enums): rows, not the ORM
            select(Facility.id, Facility.name, Facility.type, Facility.area_code,
                   Facility.status, Facility.lon, Facility.lat)
            .where(*where)
            .order_by(Facility.id),
        )
    ]  # fmt: skip


def _index(ids: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Each wanted id's position in the sorted ``ids`` (-1 where absent)."""
    if len(ids) == 0:
        return np.full(len(wanted), -1, dtype=np.intp)
    at = np.minimum(np.searchsorted(ids, wanted), len(ids) - 1)
    return np.where(ids[at] == wanted, at, -1).astype(np.intp)


@dataclass(frozen=True)
class Stock:
    """Stock rows as columns: one entry per facility × item that holds stock or has a target,
    in facility id then catalogue order (``row`` makes a ``StockRow`` of one)."""

    places: list[Place]
    items: list[Item]
    place: np.ndarray  # each row's index into places
    item: np.ndarray  # each row's index into items
    balance: np.ndarray
    moved_at: np.ndarray  # datetimes (None: no balance row)
    stale: np.ndarray
    per_day: np.ndarray  # NaN: no use seen, no forecast
    target: np.ndarray  # 0 where there is none
    rule: np.ndarray  # index into rules (-1: no target)
    rules: list[policy.Rule]
    served: np.ndarray  # per place

    @property
    def size(self) -> int:
        return len(self.place)

    @property
    def shortfall(self) -> np.ndarray:
        return np.asarray(np.maximum(0, self.target - self.balance))

    @property
    def surplus(self) -> np.ndarray:
        return np.asarray(np.maximum(0, self.balance - self.target))

    def row(self, k: int, source: Source | None = None) -> StockRow:
        """The row at index k."""
        place, thing = self.places[int(self.place[k])], self.items[int(self.item[k])]
        balance, per_day = int(self.balance[k]), float(self.per_day[k])
        rule = self.rules[self.rule[k]] if self.rule[k] >= 0 else None
        return StockRow(
            facility=place, item=thing, balance=balance, moved_at=self.moved_at[k],
            per_day=None if math.isnan(per_day) else per_day,
            days=None if math.isnan(per_day) else policy.days_of_supply(balance, per_day),
            target=int(self.target[k]) if rule else None,
            target_source=rule.source if rule else "",
            served=int(self.served[self.place[k]]), stale=bool(self.stale[k]), source=source,
        )  # fmt: skip


def stock_columns(
    *, session: Session, actor: Actor, prefix: str, items: Sequence[Item] | None = None,
    facility_ids: Sequence[int] | None = None, demand: DemandSource | None = None,
) -> Stock:  # fmt: skip
    """Every in-scope facility's stock of each item below an area prefix (or of the given
    facilities), with days of supply and its target, as columns.

    Balances are read as plain columns of ``stock_balance``, recent use from the window of the
    ledger only, each (item, facility type, area) rule is chosen once, and targets and days of
    supply are computed column-wise: no Python object per facility × item."""
    actor.require(Permission.resources_read)
    items = (
        list(items) if items is not None else list(session.scalars(select(Item).order_by(Item.id)))
    )
    where = [actor.area_filter(Facility.area_code), codes.in_subtree(Facility.area_code, prefix)]
    if facility_ids is not None:
        where.append(Facility.id.in_(facility_ids))
    places = places_of(session, where)
    n, m = len(places), len(items)
    empty = np.zeros(0, dtype=np.int64)
    if not places or not items:
        return Stock(places, items, empty, empty, empty, np.zeros(0, dtype=object),
                     np.zeros(0, dtype=bool), np.zeros(0), empty, empty, [],
                     empty)  # fmt: skip
    ids = np.array([p.id for p in places], dtype=np.int64)
    item_ids = [i.id for i in items]
    item_order = np.argsort(item_ids)
    sorted_items = np.asarray(item_ids, dtype=np.int64)[item_order]

    def cells(f: Sequence[int] | np.ndarray, i: Sequence[int] | np.ndarray) -> np.ndarray:
        """Grid cells (facility index × m + item index) of (facility id, item id) pairs; -1
        for a pair outside the grid."""
        fi = _index(ids, np.asarray(f, dtype=np.int64))
        at = _index(sorted_items, np.asarray(i, dtype=np.int64))
        ii = np.where(at >= 0, item_order[np.maximum(at, 0)], -1)
        return np.where((fi >= 0) & (ii >= 0), fi * m + ii, -1)

    scope = and_(codes.in_subtree(StockBalance.area_code, prefix),
                 StockBalance.item_id.in_(item_ids))  # fmt: skip
    if facility_ids is not None:
        scope = and_(scope, StockBalance.facility_id.in_(ids.tolist()))
    held = plain_rows(
        session,
        select(StockBalance.facility_id, StockBalance.item_id, StockBalance.balance,
               StockBalance.moved_at).where(scope),
    )  # fmt: skip
    present = np.zeros(n * m, dtype=bool)
    balance = np.zeros(n * m, dtype=np.int64)
    moment = np.zeros(n * m, dtype=np.intp)  # index into moments; 0: no balance row
    moments: list[datetime | None] = [None]
    if held:
        cell = cells(_column(held, 0), _column(held, 1))
        ok = cell >= 0
        present[cell[ok]] = True
        balance[cell[ok]] = _column(held, 2)[ok]
        distinct, which = _moments(session, held, 3)
        moments.extend(distinct)
        moment[cell[ok]] = which[ok] + 1
    now = timeutil.now()
    use_scope = and_(
        codes.in_subtree(StockMovement.area_code, prefix), StockMovement.item_id.in_(item_ids)
    )
    if facility_ids is not None:
        use_scope = and_(use_scope, StockMovement.facility_id.in_(ids.tolist()))
    recent = np.zeros(n * m)
    used = recent_use(session, use_scope, now - timedelta(days=WINDOW_DAYS))
    if used:
        cell = cells([k[0] for k in used], [k[1] for k in used])
        ok = cell >= 0
        recent[cell[ok]] = np.asarray(list(used.values()), dtype=np.int64)[ok] / WINDOW_DAYS
    forecast = np.zeros(n * m)
    wanted = demand(session, places, items) if demand is not None else {}
    if wanted:
        cell = cells([k[0] for k in wanted], [k[1] for k in wanted])
        ok = cell >= 0
        forecast[cell[ok]] = np.asarray(list(wanted.values()), dtype=float)[ok]
    people = served_population(session, places)
    served = np.array([people.get(p.id, 0) for p in places], dtype=np.int64)
    rules, rule = _chosen_rules(session, places, items)
    keep = np.nonzero(present | (rule >= 0))[0]
    per_day = np.maximum(recent[keep], forecast[keep])
    per_day[per_day == 0] = np.nan
    stale_before = now - stale_after()
    moved_at = np.empty(len(moments), dtype=object)
    moved_at[:] = moments
    stale = np.array([t is None or t < stale_before for t in moments], dtype=bool)
    kept = moment[keep]
    stock = Stock(
        places=places, items=items, place=keep // m, item=keep % m, balance=balance[keep],
        moved_at=moved_at[kept], stale=stale[kept], per_day=per_day,
        target=np.zeros(len(keep), dtype=np.int64), rule=rule[keep], rules=rules, served=served,
    )  # fmt: skip
    _set_targets(stock)
    return stock


def _column(rows: Sequence[Any], k: int) -> np.ndarray:
    """The k-th column of the driver's rows, as whole numbers."""
    return np.fromiter(map(itemgetter(k), rows), dtype=np.int64, count=len(rows))


def _moments(
    session: Session, rows: Sequence[Any], k: int
) -> tuple[list[datetime | None], np.ndarray]:
    """The k-th column of the driver's rows, stored times of ``stock_balance.moved_at``: its
    distinct values as the column type reads them (each converted once; a province's 270,000
    balances hold a few dozen), and each row's index among them."""
    column_type = StockBalance.__table__.c.moved_at.type
    dialect = session.get_bind().dialect
    read = column_type.dialect_impl(dialect).result_processor(dialect, None)
    number: dict[Any, int] = {}
    which = np.fromiter(
        (number.setdefault(value, len(number)) for value in map(itemgetter(k), rows)),
        dtype=np.intp, count=len(rows),
    )  # fmt: skip
    values = list(number)
    return ([read(v) for v in values] if read is not None else values), which


def _chosen_rules(
    session: Session, places: Sequence[Place], items: Sequence[Item]
) -> tuple[list[policy.Rule], np.ndarray]:
    """The distinct rules, and for every facility × item cell the index of its rule (an
    area's own, else the default; -1 for none)."""
    overrides = _rules(session, items)
    m = len(items)
    grid = np.full((len(places), m), -1, dtype=np.intp)
    rules: list[policy.Rule] = []
    number: dict[policy.Rule, int] = {}

    def index(rule: policy.Rule | None) -> int:
        if rule is None:
            return -1
        if rule not in number:
            number[rule] = len(rules)
            rules.append(rule)
        return number[rule]

    kinds = np.array([p.type.value for p in places])
    for kind in {p.type for p in places}:
        rows = np.nonzero(kinds == kind.value)[0]
        for j, thing in enumerate(items):
            fallback = policy.default(kind, thing.code, thing.category)
            own = overrides.get((thing.id, kind))
            if not own:
                grid[rows, j] = index(fallback)
                continue
            chosen: dict[str, int] = {}
            for r in rows.tolist():
                area_code = places[r].area_code
                if area_code not in chosen:
                    chosen[area_code] = index(policy.choose(area_code, own, fallback))
                grid[r, j] = chosen[area_code]
    return rules, grid.reshape(-1)


def _set_targets(stock: Stock) -> None:
    """Each row's target in units from its rule (``policy.Rule.units``), per rule and item."""
    if not stock.size:
        return
    m = len(stock.items)
    with_rule = np.nonzero(stock.rule >= 0)[0]
    groups, which = np.unique(stock.rule[with_rule] * m + stock.item[with_rule],
                              return_inverse=True)  # fmt: skip
    order = np.argsort(which, kind="stable")
    bounds = np.searchsorted(which[order], np.arange(len(groups) + 1))
    for g, key in enumerate(groups.tolist()):
        rows = with_rule[order[bounds[g] : bounds[g + 1]]]
        rule, thing = stock.rules[key // m], stock.items[key % m]
        if rule.per_facility is not None:
            stock.target[rows] = rule.per_facility
        elif rule.population_share is not None:
            people = stock.served[stock.place[rows]].astype(float)
            stock.target[rows] = np.ceil(people * rule.population_share * thing.per_person)


def stock_rows(
    *, session: Session, actor: Actor, prefix: str, items: Sequence[Item] | None = None,
    facility_ids: Sequence[int] | None = None, demand: DemandSource | None = None,
) -> list[StockRow]:  # fmt: skip
    """Every in-scope facility's stock of each item below an area prefix (or of the given
    facilities), with days of supply and its target (``stock_columns``, as rows)."""
    stock = stock_columns(
        session=session, actor=actor, prefix=prefix, items=items, facility_ids=facility_ids,
        demand=demand,
    )  # fmt: skip
    return [stock.row(k) for k in range(stock.size)]


def attach_sources(rows: list[StockRow], pool: Sequence[StockRow]) -> None:
    """Give each short row the nearest open facility of the pool holding a surplus of the item
    (one that covers the whole shortfall if any lies within twice the distance of the nearest),
    as ``nearest_sources`` picks it."""
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
        candidates = by_item[item_id]

        def columns(of: Sequence[StockRow]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            return (
                np.array([r.facility.lon for r in of], dtype=float),
                np.array([r.facility.lat for r in of], dtype=float),
                np.array([r.facility.id for r in of], dtype=np.int64),
            )

        picks = nearest_sources(
            *columns(candidates), np.array([c.surplus for c in candidates], dtype=np.int64),
            *columns(short), np.array([r.shortfall for r in short], dtype=np.int64),
        )  # fmt: skip
        for row, pick in zip(short, picks.tolist(), strict=True):
            if pick >= 0:
                c = candidates[pick]
                row.source = _source(row.facility, c.facility, c.surplus)


def _source(here: Place, there: Place, surplus: int) -> Source:
    return Source(
        there.id, there.name, surplus,
        round(km((here.lon or 0.0, here.lat or 0.0), (there.lon or 0.0, there.lat or 0.0)), 1),
    )  # fmt: skip


def nearest_sources(
    lon: np.ndarray, lat: np.ndarray, ids: np.ndarray, surplus: np.ndarray,
    here_lon: np.ndarray, here_lat: np.ndarray, here_id: np.ndarray, wanted: np.ndarray,
) -> np.ndarray:  # fmt: skip
    """For each short row of one item (here_*, wanted units), the index of its source among the
    candidates (-1: none), all rows at once: two ball queries each (the reach of the nearest
    candidate, then twice that plus 1 km), exact distances for what they return, and per row
    the nearest covering candidate within that, else the nearest.

    A k-d tree over the candidates in a plane that never overstates a distance (longitude
    scaled by the smallest cosine of latitude) finds the few candidates each row has to
    measure, instead of measuring every candidate."""
    widest = max(float(np.abs(lat).max()), float(np.abs(here_lat).max()))
    least = math.cos(math.radians(min(widest, 89.0)))  # no pair's cosine is smaller
    tree = cKDTree(np.column_stack((lon * least * KM_PER_DEGREE, lat * KM_PER_DEGREE)))
    points = np.column_stack((here_lon * least * KM_PER_DEGREE, here_lat * KM_PER_DEGREE))
    count = len(here_id)

    def measured(row: np.ndarray, at: np.ndarray) -> np.ndarray:
        scale = np.cos(np.radians((lat[at] + here_lat[row]) / 2))
        return np.asarray(
            KM_PER_DEGREE * np.hypot((lon[at] - here_lon[row]) * scale, lat[at] - here_lat[row])
        )

    def within(radius: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(row, candidate, exact distance) of every candidate the plane puts within reach
        (a superset of those truly within it), never the row's own facility."""
        found = tree.query_ball_point(points, r=radius * (1 + 1e-9) + 1e-9, return_sorted=False)
        sizes = np.fromiter((len(f) for f in found), dtype=np.intp, count=len(found))
        at = np.fromiter(chain.from_iterable(found), dtype=np.intp, count=int(sizes.sum()))
        row = np.repeat(np.arange(len(found)), sizes)
        keep = ids[at] != here_id[row]
        row, at = row[keep], at[keep]
        return row, at, measured(row, at)

    def first(row: np.ndarray, at: np.ndarray, dist: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per row that has any: the candidate at the least distance (the lowest index among
        equals), and that distance."""
        order = np.lexsort((at, dist, row))
        rows, starts = np.unique(row[order], return_index=True)
        chosen = np.full(count, -1, dtype=np.intp)
        least_km = np.full(count, np.inf)
        chosen[rows] = at[order][starts]
        least_km[rows] = dist[order][starts]
        return chosen, least_km

    _, guess = tree.query(points, k=1)
    reach = measured(np.arange(count), np.asarray(guess, dtype=np.intp))
    mine = ids[guess] == here_id  # the plane's nearest is the row itself: look everywhere
    reach[mine] = np.inf
    nearest_at, nearest = first(*within(reach))
    limit = 2 * nearest + 1
    row, at, dist = within(np.where(np.isfinite(limit), limit, 0.0))
    ok = (surplus[at] >= wanted[row]) & (dist <= limit[row])
    covering_at, _ = first(row[ok], at[ok], dist[ok])
    return np.where(covering_at >= 0, covering_at, nearest_at)


def _column_sources(stock: Stock, shown: np.ndarray) -> np.ndarray:
    """For every row of the stock, the row of the stock that is its source (-1: none); only
    the short rows among ``shown`` (a mask) get one."""
    out = np.full(stock.size, -1, dtype=np.intp)
    if not stock.size:
        return out
    lon = np.array([np.nan if p.lon is None else p.lon for p in stock.places], dtype=float)
    lat = np.array([np.nan if p.lat is None else p.lat for p in stock.places], dtype=float)
    ids = np.array([p.id for p in stock.places], dtype=np.int64)
    is_open = np.array([p.status is FacilityStatus.open for p in stock.places], dtype=bool)
    located = ~np.isnan(lon) & ~np.isnan(lat)
    place = stock.place
    surplus, shortfall = stock.surplus, stock.shortfall
    able = (surplus > 0) & is_open[place] & located[place]
    needy = shown & (shortfall > 0) & located[place]
    for j in range(len(stock.items)):
        candidates = np.nonzero(able & (stock.item == j))[0]
        short = np.nonzero(needy & (stock.item == j))[0]
        if not len(candidates) or not len(short):
            continue
        there, here = place[candidates], place[short]
        picks = nearest_sources(
            lon[there], lat[there], ids[there], surplus[candidates],
            lon[here], lat[here], ids[here], shortfall[short],
        )  # fmt: skip
        found = picks >= 0
        out[short[found]] = candidates[picks[found]]
    return out


class Reserve:
    """The stock rows of an area (and the facilities around it that could transfer), kept as
    columns; rows are made for what a caller shows (``rows``, ``short_rows``)."""

    def __init__(self, area: Area, stock: Stock, shown: np.ndarray, sources: np.ndarray,
                 children: list[ChildSummary]) -> None:  # fmt: skip
        self.area = area
        self.stock = stock
        self.items = stock.items
        self.shown = shown  # indices of the area's own rows in the stock, in order
        self.sources = sources
        self.children = children

    def _row(self, k: int) -> StockRow:
        s = self.sources[k]
        stock = self.stock
        source = None
        if s >= 0:
            there = stock.places[int(stock.place[s])]
            source = _source(stock.places[int(stock.place[k])], there, int(stock.surplus[s]))
        return stock.row(k, source)

    @functools.cached_property
    def rows(self) -> list[StockRow]:
        return self.rows_page()

    def rows_page(self, offset: int = 0, limit: int | None = None) -> list[StockRow]:
        """The area's rows from ``offset`` on, at most ``limit`` of them (all without one)."""
        end = None if limit is None else offset + limit
        return [self._row(k) for k in self.shown[offset:end].tolist()]

    @property
    def row_count(self) -> int:
        return len(self.shown)

    @functools.cached_property
    def _short_order(self) -> np.ndarray:
        stock, shown = self.stock, self.shown
        shortfall = stock.shortfall[shown]
        rows = shown[shortfall > 0]
        target = np.maximum(stock.target[rows], 1)  # max(target or 1, 1)
        ratio = -stock.shortfall[rows] / target
        ids = np.array([p.id for p in stock.places], dtype=np.int64)[stock.place[rows]]
        item_ids = np.array([t.id for t in stock.items], dtype=np.int64)[stock.item[rows]]
        return np.asarray(rows[np.lexsort((item_ids, ids, ratio))])

    @property
    def short(self) -> list[StockRow]:
        """The rows below target, the furthest below (by share of the target) first."""
        return self.short_rows()

    def short_rows(self, limit: int | None = None, offset: int = 0) -> list[StockRow]:
        """The rows below target from ``offset`` on, at most ``limit`` of them (all of them
        without a limit)."""
        end = None if limit is None else offset + limit
        return [self._row(k) for k in self._short_order[offset:end].tolist()]

    @property
    def short_count(self) -> int:
        return len(self._short_order)

    @property
    def facility_count(self) -> int:
        return len(np.unique(self.stock.place[self.shown]))

    @property
    def short_facility_count(self) -> int:
        return len(np.unique(self.stock.place[self._short_order]))

    @property
    def stale_count(self) -> int:
        return int(self.stock.stale[self.shown].sum())


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
    stock = stock_columns(session=session, actor=actor, prefix=region, items=items,
                          demand=demand)  # fmt: skip
    inside = np.array([p.area_code.startswith(prefix) for p in stock.places], dtype=bool)
    mask = inside[stock.place] if stock.size else np.zeros(0, dtype=bool)
    sources = _column_sources(stock, mask)
    shown = np.nonzero(mask)[0]
    return Reserve(area, stock, shown, sources, _children(session, area, stock, shown))


def _children(session: Session, area: Area, stock: Stock, shown: np.ndarray) -> list[ChildSummary]:
    kids = session.scalars(
        select(Area).where(Area.parent_code == area.code).order_by(Area.code)
    ).all()
    out = {k.code: ChildSummary(k.code, k.name) for k in kids}
    lengths = sorted({len(codes.short(k.code)) for k in kids})
    if not lengths:
        return []
    width = lengths[0]
    keys = list(out)
    number = {key: n for n, key in enumerate(keys)}
    child = np.array(
        [number.get(p.area_code[:width].ljust(12, "0"), -1) for p in stock.places], dtype=np.intp
    )
    rows = shown[child[stock.place[shown]] >= 0]
    of_row = child[stock.place[rows]]
    m, k = len(stock.items), len(keys)
    shortfall = stock.shortfall[rows]
    seen = np.unique(stock.place[rows])
    short_places = np.unique(stock.place[rows[shortfall > 0]])
    facilities = np.bincount(child[seen], minlength=k)
    short_facilities = np.bincount(child[short_places], minlength=k)
    units = np.bincount(of_row * m + stock.item[rows], weights=shortfall, minlength=k * m)
    units = units.reshape(k, m).astype(np.int64)
    for n, key in enumerate(keys):
        summary = out[key]
        summary.facilities = int(facilities[n])
        summary.short_facilities = int(short_facilities[n])
        summary.short_units = {
            thing.code: int(units[n, j]) for j, thing in enumerate(stock.items) if units[n, j]
        }
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
