"""Read models of medical resources that the API, pages and CLI share: a page of facilities with
their newest capacity report and when stock was last reported (stale ones flagged), a facility's
recent ledger lines, its staff, and the area lists (institutions, pairings, staff moves, reserve
targets, operators). Every read checks the actor's permission and area scope here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import cast

from sqlalchemy import ColumnElement, and_, exists, func, not_, or_, select
from sqlalchemy.orm import Session, aliased

from lianfang import timeutil
from lianfang.areas import codes
from lianfang.areas.models import Area
from lianfang.auth.choices import Permission
from lianfang.auth.models import User
from lianfang.auth.scope import Actor
from lianfang.errors import NotFoundError
from lianfang.i18n import _
from lianfang.resources import reserve
from lianfang.resources.choices import HOSPITALS, FacilityStatus
from lianfang.resources.ledger import facility as get_facility
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
from lianfang.resources.reserve import StockRow
from lianfang.resources.service import FacilityFilter, facility_query, is_stale, latest_capacity
from lianfang.resources.service import stale_after as stale_age

MAX_LIMIT = 500


@dataclass(frozen=True)
class FacilityRow:
    """A facility as a list shows it: its newest capacity report (hospitals report beds) and
    when its stock was last reported, each flagged stale when older than ``stale_hours``."""

    facility: Facility
    capacity: CapacityReport | None
    capacity_stale: bool | None  # None: a type that reports no capacity and has no report
    stock_reported_at: datetime | None
    stock_stale: bool | None  # None: holds no stock rows


@dataclass(frozen=True)
class FacilityList:
    rows: list[FacilityRow]
    total: int


def area(session: Session, actor: Actor, raw: str) -> Area:
    """An area of the actor's scope, by a code in any form."""
    code = codes.normalise(raw)
    found = session.get(Area, code)
    if found is None:
        raise NotFoundError(_("no area with code %(code)s", code=codes.short(code)))
    actor.require_area(code, found.name)
    return found


def _stale_clause(cutoff: datetime) -> ColumnElement[bool]:
    """SQL: a hospital without a capacity report since ``cutoff``, or a facility that holds
    stock and has reported none of it since then."""
    fresh_capacity = exists().where(
        CapacityReport.facility_id == Facility.id, CapacityReport.reported_at >= cutoff
    )
    holds = exists().where(StockBalance.facility_id == Facility.id)
    fresh_stock = exists().where(
        StockBalance.facility_id == Facility.id, StockBalance.moved_at >= cutoff
    )
    return or_(
        and_(Facility.type.in_(HOSPITALS), not_(fresh_capacity)),
        and_(holds, not_(fresh_stock)),
    )


def facilities(
    *, session: Session, actor: Actor, where: FacilityFilter,
    statuses: frozenset[FacilityStatus] = frozenset(), offset: int = 0, limit: int = 100,
) -> FacilityList:  # fmt: skip
    """A page of the facilities of an area (by type, status, name; only stale ones if asked),
    ordered by area and name."""
    where = replace(where, area=area(session, actor, where.area).code)
    clauses = cast(list[ColumnElement[bool]], facility_query(actor, where))
    if statuses:
        clauses.append(Facility.status.in_(statuses))
    now = timeutil.now()
    if where.stale_only:
        clauses.append(_stale_clause(now - stale_age()))
    total = session.scalar(select(func.count()).select_from(Facility).where(*clauses)) or 0
    places = list(
        session.scalars(
            select(Facility)
            .where(*clauses)
            .order_by(Facility.area_code, Facility.name, Facility.id)
            .offset(offset)
            .limit(max(1, min(limit, MAX_LIMIT)))
        )
    )
    return FacilityList(rows=rows_of(session, places, now), total=total)


def rows_of(
    session: Session, places: Sequence[Facility], now: datetime | None = None
) -> list[FacilityRow]:
    """List rows of the given facilities (their newest capacity and stock report)."""
    now = now or timeutil.now()
    ids = [p.id for p in places]
    newest = latest_capacity(session, ids)
    stock: dict[int, datetime] = {}
    if ids:
        stock = {
            fid: at
            for fid, at in session.execute(
                select(StockBalance.facility_id, func.max(StockBalance.moved_at))
                .where(StockBalance.facility_id.in_(ids))
                .group_by(StockBalance.facility_id)
            )
        }
    out = []
    for place in places:
        report = newest.get(place.id)
        reports = report is not None or place.type in HOSPITALS
        stock_at = stock.get(place.id)
        out.append(
            FacilityRow(
                facility=place,
                capacity=report,
                capacity_stale=is_stale(report.reported_at if report else None, now)
                if reports
                else None,
                stock_reported_at=stock_at,
                stock_stale=is_stale(stock_at, now) if stock_at is not None else None,
            )
        )
    return out


def facility_row(*, session: Session, actor: Actor, facility_id: int) -> FacilityRow:
    """One facility the actor can see, as a list shows it."""
    return rows_of(session, [get_facility(session, actor, facility_id)])[0]


def movements(
    *, session: Session, actor: Actor, facility_id: int, limit: int = 50,
    item_id: int | None = None,
) -> list[tuple[StockMovement, Item]]:  # fmt: skip
    """A facility's newest ledger lines (newest first), with their items."""
    place = get_facility(session, actor, facility_id)
    query = (
        select(StockMovement, Item)
        .join(Item, Item.id == StockMovement.item_id)
        .where(StockMovement.facility_id == place.id)
    )
    if item_id is not None:
        query = query.where(StockMovement.item_id == item_id)
    rows = session.execute(
        query.order_by(StockMovement.moved_at.desc(), StockMovement.id.desc()).limit(
            max(1, min(limit, MAX_LIMIT))
        )
    ).all()
    return [(m, i) for m, i in rows]


def corrected(session: Session, movement_ids: Sequence[int]) -> set[int]:
    """Which of these lines a correction has reversed."""
    if not movement_ids:
        return set()
    return set(
        session.scalars(
            select(StockMovement.reverses_id).where(StockMovement.reverses_id.in_(movement_ids))
        )
    )


def staff(*, session: Session, actor: Actor, facility_id: int) -> list[StaffStrength]:
    """A facility's staff strength, one row per role."""
    place = get_facility(session, actor, facility_id)
    return list(
        session.scalars(
            select(StaffStrength)
            .where(StaffStrength.facility_id == place.id)
            .order_by(StaffStrength.role)
        )
    )


def operators(*, session: Session, actor: Actor, facility_id: int) -> list[User]:
    """The users named operator of a facility."""
    place = get_facility(session, actor, facility_id)
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
    return codes.short(area(session, actor, raw).code)


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


def facility_stock(*, session: Session, actor: Actor, facility_id: int) -> list[StockRow]:
    """A facility's stock of each item it holds or should hold: balance, days of supply,
    target, shortfall, and for a shortfall the nearest facility of its county that could
    transfer (as the area reserve names it)."""
    place = get_facility(session, actor, facility_id)
    demand = reserve.adopted_demand(actor)
    rows = reserve.stock_rows(
        session=session, actor=actor, prefix=codes.short(place.area_code),
        facility_ids=[place.id], demand=demand,
    )  # fmt: skip
    if any(r.shortfall > 0 for r in rows):
        county = place.area_code[:6]
        region = county if actor.reaches(county.ljust(12, "0")) else codes.short(place.area_code)
        pool = reserve.stock_rows(
            session=session, actor=actor, prefix=region,
            items=[r.item for r in rows if r.shortfall > 0], demand=demand,
        )  # fmt: skip
        reserve.attach_sources(rows, pool)
    return rows
