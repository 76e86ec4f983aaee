"""The read models of medical resources that the API, the pages and the CLI all show: the
facility list (filters, stale flags, sorting, pages) and the map's points, one facility's page
(capacity history, stock against its targets with days of supply, staff strength, recent ledger
lines), and the area lists (key institutions, pairings, staff moves, reserve targets, operators).
Every read checks the actor's permission and area scope here; stock rows and shortfalls come from
``reserve``, and nothing here sums the ledger. Routes, pages and commands only translate them."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from lianfang import timeutil
from lianfang.areas import codes
from lianfang.areas.models import Area
from lianfang.auth.choices import Permission
from lianfang.auth.models import User
from lianfang.auth.scope import Actor
from lianfang.errors import PermissionDenied
from lianfang.people.models import Person
from lianfang.pii import mask_id
from lianfang.resources import ledger, reserve
from lianfang.resources.choices import HOSPITALS, FacilityType
from lianfang.resources.models import (
    CapacityReport,
    Facility,
    FacilityOperator,
    Institution,
    Item,
    Pairing,
    ReserveTarget,
    StaffMove,
    StaffStrength,
    StockBalance,
    StockMovement,
)
from lianfang.resources.service import (
    FacilityFilter,
    area_in_scope,
    facility_query,
    is_stale,
    latest_capacity,
    stale_after,
)

MAX_LIMIT = 500
HISTORY_DAYS = 30
RECENT_MOVEMENTS = 20
LONG_STREAK_DAYS = 14  # 关心关爱: nobody works this many days on end unnoticed


# ---- the facility list and the map ------------------------------------------------------


class FacilitySort(enum.StrEnum):
    """What the facility list can be ordered by."""

    name = "name"
    type = "type"
    area = "area"
    occupancy = "occupancy"
    capacity_at = "capacity_at"
    stock_at = "stock_at"


DESCENDING_FIRST = frozenset({FacilitySort.occupancy, FacilitySort.capacity_at})
"""Orders whose first click shows the largest first (the fullest, the newest report)."""


@dataclass(frozen=True)
class FacilityRow:
    """One facility as a list shows it: its newest capacity report and when its stock was last
    reported, each flagged when stale (older than ``stale_hours``; a hospital that never
    reported capacity is stale too). ``capacity_stale`` is None for a type that reports no
    capacity and has no report, ``stock_stale`` None for a facility that holds no stock."""

    facility: Facility
    area_name: str
    capacity: CapacityReport | None
    capacity_stale: bool | None
    stock_at: datetime | None
    stock_stale: bool | None

    @property
    def occupancy(self) -> float | None:
        """Share of general beds occupied in the newest report."""
        c = self.capacity
        if c is None or not c.beds_total or c.beds_occupied is None:
            return None
        return c.beds_occupied / c.beds_total


@dataclass(frozen=True)
class FacilityPage:
    """Rows of the facility list from ``offset``, ``size`` at most, of ``total`` matching."""

    items: list[FacilityRow]
    total: int
    offset: int
    size: int

    @property
    def page(self) -> int:
        return self.offset // self.size + 1

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


def _newest_capacity() -> Any:
    return (
        select(CapacityReport.facility_id, func.max(CapacityReport.reported_at).label("at"))
        .group_by(CapacityReport.facility_id)
        .subquery("newest")
    )


def _stock_reported() -> Any:
    return (
        select(StockBalance.facility_id, func.max(StockBalance.moved_at).label("at"))
        .group_by(StockBalance.facility_id)
        .subquery("stocked")
    )


def _stale_conditions(newest: Any, stocked: Any, cutoff: datetime) -> ColumnElement[bool]:
    capacity = or_(newest.c.at < cutoff, and_(newest.c.at.is_(None), Facility.type.in_(HOSPITALS)))
    return or_(capacity, stocked.c.at < cutoff)


def _filtered(actor: Actor, f: FacilityFilter, *columns: Any) -> tuple[Select[Any], Any, Any]:
    newest, stocked = _newest_capacity(), _stock_reported()
    stmt = (
        select(*columns)
        .select_from(Facility)
        .outerjoin(newest, newest.c.facility_id == Facility.id)
        .outerjoin(stocked, stocked.c.facility_id == Facility.id)
        .where(*facility_query(actor, f))  # type: ignore[arg-type]
    )
    if f.stale_only:
        stmt = stmt.where(_stale_conditions(newest, stocked, timeutil.now() - stale_after()))
    return stmt, newest, stocked


def facilities(
    *, session: Session, actor: Actor, f: FacilityFilter, sort: FacilitySort = FacilitySort.name,
    descending: bool = False, offset: int = 0, limit: int = 100,
) -> FacilityPage:  # fmt: skip
    """The facilities matching a filter (type, status, name, only stale ones) in an area of the
    actor's scope, in the order asked (then by name), ``limit`` from ``offset``."""
    f = replace(f, area=area_in_scope(session, actor, f.area).code)
    size = max(1, min(limit, MAX_LIMIT))
    offset = max(0, offset)
    counted, _newest, _stocked = _filtered(actor, f, func.count(Facility.id))
    total = int(session.scalar(counted) or 0)
    stmt, newest, stocked = _filtered(actor, f, Facility.id)
    latest = (
        select(CapacityReport.facility_id, CapacityReport.beds_occupied, CapacityReport.beds_total)
        .join(
            newest,
            (CapacityReport.facility_id == newest.c.facility_id)
            & (CapacityReport.reported_at == newest.c.at),
        )
        .subquery("latest")
    )
    share = case(
        (latest.c.beds_total > 0, latest.c.beds_occupied * 1.0 / latest.c.beds_total),
        else_=None,
    )
    keys: dict[FacilitySort, Any] = {
        FacilitySort.name: Facility.name,
        FacilitySort.type: case(
            *[(Facility.type == t, i) for i, t in enumerate(FacilityType)], else_=len(FacilityType)
        ),
        FacilitySort.area: Facility.area_code,
        FacilitySort.occupancy: share,
        FacilitySort.capacity_at: newest.c.at,
        FacilitySort.stock_at: stocked.c.at,
    }
    key = keys[sort]
    ordered = key.desc().nulls_last() if descending else key.asc().nulls_last()
    if sort is FacilitySort.occupancy:
        stmt = stmt.outerjoin(latest, latest.c.facility_id == Facility.id)
    ids = list(
        session.scalars(
            stmt.order_by(ordered, Facility.name, Facility.id).limit(size).offset(offset)
        )
    )
    places = {p.id: p for p in session.scalars(select(Facility).where(Facility.id.in_(ids)))}
    return FacilityPage(rows_of(session, [places[i] for i in ids]), total, offset, size)


def rows_of(
    session: Session, places: Sequence[Facility], now: datetime | None = None
) -> list[FacilityRow]:
    """List rows of the given facilities, in the order given (their newest capacity report and
    when their stock was last reported)."""
    if not places:
        return []
    now = now or timeutil.now()
    ids = [p.id for p in places]
    newest = latest_capacity(session, ids)
    stock = dict(
        session.execute(
            select(StockBalance.facility_id, func.max(StockBalance.moved_at))
            .where(StockBalance.facility_id.in_(ids))
            .group_by(StockBalance.facility_id)
        ).all()
    )
    names = area_names(session, [p.area_code for p in places])
    out = []
    for place in places:
        report = newest.get(place.id)
        stock_at = stock.get(place.id)
        out.append(
            FacilityRow(
                facility=place,
                area_name=names.get(place.area_code, place.area_code),
                capacity=report,
                capacity_stale=is_stale(report.reported_at if report else None, now)
                if report is not None or place.type in HOSPITALS
                else None,
                stock_at=stock_at,
                stock_stale=is_stale(stock_at, now) if stock_at is not None else None,
            )
        )
    return out


def facility_row(*, session: Session, actor: Actor, facility_id: int) -> FacilityRow:
    """One facility the actor can see, as a list shows it."""
    return rows_of(session, [ledger.facility(session, actor, facility_id)])[0]


def area_names(session: Session, area_codes: Sequence[str]) -> dict[str, str]:
    wanted = sorted(set(area_codes))
    if not wanted:
        return {}
    return dict(session.execute(select(Area.code, Area.name).where(Area.code.in_(wanted))).all())


def operated(*, session: Session, actor: Actor) -> list[Facility]:
    """The facilities the actor is named operator of (a hospital operator's own)."""
    if actor.user_id is None or not actor.can(Permission.resources_report_own):
        return []
    return list(
        session.scalars(
            select(Facility)
            .join(FacilityOperator, FacilityOperator.facility_id == Facility.id)
            .where(FacilityOperator.user_id == actor.user_id)
            .order_by(Facility.name)
        )
    )


@dataclass(frozen=True)
class FacilityPoint:
    """A facility on the map."""

    id: int
    name: str
    type: FacilityType
    lon: float
    lat: float
    stale: bool


MAX_POINTS = 5000


def facility_points(*, session: Session, actor: Actor, f: FacilityFilter) -> list[FacilityPoint]:
    """Where the facilities matching a filter are (those with coordinates), each flagged when
    its capacity or stock figure is stale."""
    newest, stocked = _newest_capacity(), _stock_reported()
    cutoff = timeutil.now() - stale_after()
    stmt = (
        select(
            Facility.id,
            Facility.name,
            Facility.type,
            Facility.lon,
            Facility.lat,
            _stale_conditions(newest, stocked, cutoff),
        )
        .outerjoin(newest, newest.c.facility_id == Facility.id)
        .outerjoin(stocked, stocked.c.facility_id == Facility.id)
        .where(*facility_query(actor, f), Facility.lon.is_not(None), Facility.lat.is_not(None))  # type: ignore[arg-type]
        .order_by(Facility.id)
        .limit(MAX_POINTS)
    )
    return [
        FacilityPoint(fid, name, kind, float(lon or 0), float(lat or 0), bool(stale))
        for fid, name, kind, lon, lat, stale in session.execute(stmt)
    ]


# ---- one facility ----------------------------------------------------------------------


@dataclass(frozen=True)
class MovementRow:
    """One ledger line: what, how many, to or from whom, and whether a correction reversed it."""

    movement: StockMovement
    item: Item
    counterpart: str  # the other facility of a transfer, or ""
    person: str  # the person's name and masked ID number, or ""
    corrected: bool


@dataclass(frozen=True)
class StaffRow:
    """One role's staff strength; ``tired`` when anyone has worked 14 days or more on end."""

    strength: StaffStrength
    stale: bool

    @property
    def tired(self) -> bool:
        s = self.strength
        return s.over_14_days > 0 or s.longest_streak_days >= LONG_STREAK_DAYS


@dataclass
class FacilityDetail:
    """Everything one facility's page shows."""

    facility: Facility
    area: Area
    ancestors: list[Area]
    history: list[CapacityReport]
    latest: CapacityReport | None
    capacity_stale: bool
    stock: list[reserve.StockRow]
    staff: list[StaffRow]
    movements: list[MovementRow]
    institution: Institution | None
    pairings: list[tuple[Pairing, Facility]]
    moves: list[tuple[StaffMove, str, str]]
    can_report: bool
    history_days: int = HISTORY_DAYS
    stale_hours: float = field(default_factory=lambda: stale_after().total_seconds() / 3600)


def can_report(session: Session, actor: Actor, place: Facility) -> bool:
    """Whether the actor may report capacity and move stock at this facility."""
    try:
        ledger.require_report(session, actor, place)
    except PermissionDenied:
        return False
    return True


def facility_stock(
    *, session: Session, actor: Actor, facility_id: int,
    demand: reserve.DemandSource | None = None,
) -> list[reserve.StockRow]:  # fmt: skip
    """A facility's stock of every item against its targets — balance, days of supply, target,
    shortfall — each short one with the nearest facility of its county (as far as the actor
    sees) that could transfer, as the area reserve names it."""
    place = ledger.facility(session, actor, facility_id)
    prefix = codes.short(place.area_code)
    county = prefix[:6]
    region = county if actor.reaches(county.ljust(12, "0")) else prefix
    demand = demand if demand is not None else reserve.adopted_demand(actor)
    own = reserve.stock_rows(
        session=session, actor=actor, prefix=prefix, facility_ids=[place.id], demand=demand
    )
    if any(r.shortfall > 0 for r in own):
        short_items = [r.item for r in own if r.shortfall > 0]
        pool = reserve.stock_rows(
            session=session, actor=actor, prefix=region, items=short_items, demand=demand
        )
        reserve.attach_sources(own, pool)
    return own


def movements(
    *, session: Session, actor: Actor, facility_id: int, limit: int = 50,
    item_id: int | None = None,
) -> list[MovementRow]:  # fmt: skip
    """A facility's newest ledger lines (newest first; of one item if asked), people shown by
    name and masked ID number."""
    place = ledger.facility(session, actor, facility_id)
    query = select(StockMovement).where(StockMovement.facility_id == place.id)
    if item_id is not None:
        query = query.where(StockMovement.item_id == item_id)
    lines = session.scalars(
        query.order_by(StockMovement.moved_at.desc(), StockMovement.id.desc()).limit(
            max(1, min(limit, MAX_LIMIT))
        )
    ).all()
    items = {i.id: i for i in session.scalars(select(Item))}
    others = {m.counterpart_id for m in lines if m.counterpart_id}
    names = (
        dict(
            session.execute(select(Facility.id, Facility.name).where(Facility.id.in_(others))).all()
        )
        if others
        else {}
    )
    person_ids = {m.person_id for m in lines if m.person_id}
    people = (
        {
            pid: f"{name} {mask_id(number)}"
            for pid, name, number in session.execute(
                select(Person.id, Person.name, Person.id_number).where(Person.id.in_(person_ids))
            )
        }
        if person_ids
        else {}
    )
    done = corrected(session, [m.id for m in lines])
    return [
        MovementRow(
            m, items[m.item_id], names.get(m.counterpart_id or 0, ""),
            people.get(m.person_id or 0, ""), m.id in done,
        )
        for m in lines
    ]  # fmt: skip


def corrected(session: Session, movement_ids: Sequence[int]) -> set[int]:
    """Which of these lines a correction has reversed."""
    if not movement_ids:
        return set()
    return set(
        session.scalars(
            select(StockMovement.reverses_id).where(StockMovement.reverses_id.in_(movement_ids))
        )
    )


def staff(*, session: Session, actor: Actor, facility_id: int) -> list[StaffRow]:
    """A facility's staff strength, one row per role, each flagged when stale."""
    place = ledger.facility(session, actor, facility_id)
    now = timeutil.now()
    return [
        StaffRow(s, is_stale(s.reported_at, now))
        for s in session.scalars(
            select(StaffStrength)
            .where(StaffStrength.facility_id == place.id)
            .order_by(StaffStrength.role)
        )
    ]


def facility_detail(
    *, session: Session, actor: Actor, facility_id: int, days: int = HISTORY_DAYS,
    demand: reserve.DemandSource | None = None,
) -> FacilityDetail:  # fmt: skip
    """One facility's page: where it is, its capacity history of the last ``days`` days, its
    stock against its targets, staff strength, key-institution state, pairing, staff sent down
    or reassigned, and its newest movements."""
    place = ledger.facility(session, actor, facility_id)
    area = session.get(Area, place.area_code)
    assert area is not None  # a foreign key
    chain = []
    parent = codes.parent_of(area.code)
    while parent is not None:
        chain.append(parent)
        parent = codes.parent_of(parent)
    ancestors = sorted(
        session.scalars(select(Area).where(Area.code.in_(chain))).all(), key=lambda a: a.level.depth
    )
    since = timeutil.now() - timedelta(days=days)
    history = list(
        session.scalars(
            select(CapacityReport)
            .where(CapacityReport.facility_id == place.id, CapacityReport.reported_at >= since)
            .order_by(CapacityReport.reported_at)
        )
    )
    latest = latest_capacity(session, [place.id]).get(place.id)
    now = timeutil.now()
    pairings = [
        (p, other)
        for p, other in session.execute(
            select(Pairing, Facility)
            .join(
                Facility,
                Facility.id
                == case((Pairing.urban_id == place.id, Pairing.partner_id), else_=Pairing.urban_id),
            )
            .where((Pairing.urban_id == place.id) | (Pairing.partner_id == place.id))
            .order_by(Pairing.since)
        ).all()
    ]
    move_rows = session.scalars(
        select(StaffMove)
        .where((StaffMove.from_id == place.id) | (StaffMove.to_id == place.id))
        .order_by(StaffMove.start_on.desc())
        .limit(20)
    ).all()
    ends = {m.from_id for m in move_rows} | {m.to_id for m in move_rows}
    end_names = (
        dict(session.execute(select(Facility.id, Facility.name).where(Facility.id.in_(ends))).all())
        if ends
        else {}
    )
    return FacilityDetail(
        facility=place,
        area=area,
        ancestors=list(ancestors),
        history=history,
        latest=latest,
        capacity_stale=is_stale(latest.reported_at, now) if latest else place.type.hospital,
        stock=facility_stock(session=session, actor=actor, facility_id=place.id, demand=demand),
        staff=staff(session=session, actor=actor, facility_id=place.id),
        movements=movements(
            session=session, actor=actor, facility_id=place.id, limit=RECENT_MOVEMENTS
        ),
        institution=session.get(Institution, place.id),
        pairings=pairings,
        moves=[(m, end_names.get(m.from_id, ""), end_names.get(m.to_id, "")) for m in move_rows],
        can_report=can_report(session, actor, place),
        history_days=days,
    )


# ---- area lists ------------------------------------------------------------------------


def operators(*, session: Session, actor: Actor, facility_id: int) -> list[User]:
    """The users named operator of a facility."""
    place = ledger.facility(session, actor, facility_id)
    return list(
        session.scalars(
            select(User)
            .join(FacilityOperator, FacilityOperator.user_id == User.id)
            .where(FacilityOperator.facility_id == place.id)
            .order_by(User.username)
        )
    )


def _scoped(session: Session, actor: Actor, raw: str) -> str:
    """The short prefix of an area of the actor's scope (checked)."""
    actor.require(Permission.resources_read)
    return codes.short(area_in_scope(session, actor, raw).code)


def institutions(
    *, session: Session, actor: Actor, area_code: str
) -> list[tuple[Institution, Facility]]:
    """The key institutions (nursing homes) of an area, most residents ill first."""
    prefix = _scoped(session, actor, area_code)
    rows = session.execute(
        select(Institution, Facility)
        .join(Facility, Facility.id == Institution.facility_id)
        .where(
            codes.in_subtree(Institution.area_code, prefix),
            actor.area_filter(Institution.area_code),
        )
        .order_by(Institution.residents_ill.desc(), Facility.name)
    ).all()
    return [(i, f) for i, f in rows]


def pairings(
    *, session: Session, actor: Actor, area_code: str
) -> list[tuple[Pairing, Facility, Facility]]:
    """The pairings whose supported partner lies in an area: (pairing, urban, partner)."""
    prefix = _scoped(session, actor, area_code)
    urban, partner = aliased(Facility), aliased(Facility)
    rows = session.execute(
        select(Pairing, urban, partner)
        .join(urban, urban.id == Pairing.urban_id)
        .join(partner, partner.id == Pairing.partner_id)
        .where(codes.in_subtree(Pairing.area_code, prefix), actor.area_filter(Pairing.area_code))
        .order_by(partner.area_code, partner.name)
    ).all()
    return [(p, u, q) for p, u, q in rows]


def staff_moves(
    *, session: Session, actor: Actor, area_code: str, current_only: bool = False
) -> list[tuple[StaffMove, Facility, Facility]]:
    """Staff sent down or reassigned into an area: (move, from, to), newest first."""
    prefix = _scoped(session, actor, area_code)
    origin, target = aliased(Facility), aliased(Facility)
    query = (
        select(StaffMove, origin, target)
        .join(origin, origin.id == StaffMove.from_id)
        .join(target, target.id == StaffMove.to_id)
        .where(
            codes.in_subtree(StaffMove.area_code, prefix), actor.area_filter(StaffMove.area_code)
        )
    )
    if current_only:
        today = timeutil.today()
        query = query.where(
            StaffMove.start_on <= today,
            or_(StaffMove.end_on.is_(None), StaffMove.end_on >= today),
        )
    rows = session.execute(query.order_by(StaffMove.start_on.desc(), StaffMove.id.desc())).all()
    return [(m, f, t) for m, f, t in rows]


def targets(*, session: Session, actor: Actor, area_code: str) -> list[tuple[ReserveTarget, Item]]:
    """The reserve targets set for an area and the areas below it."""
    prefix = _scoped(session, actor, area_code)
    rows = session.execute(
        select(ReserveTarget, Item)
        .join(Item, Item.id == ReserveTarget.item_id)
        .where(
            codes.in_subtree(ReserveTarget.area_code, prefix),
            actor.area_filter(ReserveTarget.area_code),
        )
        .order_by(ReserveTarget.area_code, Item.id, ReserveTarget.facility_type)
    ).all()
    return [(t, i) for t, i in rows]


def items(session: Session) -> list[Item]:
    """The item catalogue."""
    return list(session.scalars(select(Item).order_by(Item.id)))
