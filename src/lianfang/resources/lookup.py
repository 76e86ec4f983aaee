"""The public lookup (畅通购药渠道): where a resident can get an item near a village —
pharmacies and clinics that report it in stock, nearest first, with distance and when stock was
last reported. Answers only facts about facilities: no person, no quantity beyond a rough level.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.areas import codes
from lianfang.areas.choices import AreaLevel
from lianfang.areas.models import Area
from lianfang.auth.choices import Role
from lianfang.auth.scope import Actor
from lianfang.errors import InvalidInputError, NotFoundError
from lianfang.i18n import Text, _
from lianfang.pii import MOBILE_IN_TEXT
from lianfang.resources.choices import PUBLIC_SOURCES, FacilityStatus, FacilityType, ItemCategory
from lianfang.resources.ledger import item_by_code
from lianfang.resources.models import Facility, Item, StockBalance
from lianfang.resources.service import is_stale

PUBLIC = Actor(user_id=None, username="public", role=Role.viewer, area_code=None)
"""The actor of the public lookup page: reads facilities only, through ``find``."""
MAX_RESULTS = 50
PLENTY = 50  # units: at or above, "plenty"; below, "a few"
OFFERED = (ItemCategory.antipyretic, ItemCategory.antiviral, ItemCategory.tcm,
           ItemCategory.antigen, ItemCategory.kit)  # fmt: skip
"""The categories the public page offers: medicines and kits (not equipment)."""
REACH_DEG = (0.05, 0.25, 1.0)
"""How far (degrees) from a position to look for the village it lies in, widening in turn."""


@dataclass(frozen=True)
class Found:
    """A place that has the item."""

    facility_id: int
    name: str
    type: FacilityType
    address: str
    hours: str
    phone: str
    km: float
    plenty: bool  # at least PLENTY units; the public sees only this, never the quantity
    reported_at: datetime
    stale: bool

    @property
    def level(self) -> Text:
        """The rough level the public sees: plenty or a few."""
        return _("plenty") if self.plenty else _("a few")


@dataclass(frozen=True)
class Lookup:
    item: Item
    near: Area  # the area asked for, or the village a position lies in
    results: list[Found]
    at: tuple[float, float] | None = None  # the position (lon, lat) measured from, if given


def offered(session: Session) -> list[Item]:
    """The items the public page offers, in the catalogue's order."""
    return list(session.scalars(select(Item).where(Item.category.in_(OFFERED)).order_by(Item.id)))


@dataclass(frozen=True)
class Place:
    """An area a resident may look up from, with the names above it (如东县 洋口镇 …村): a
    village's name alone repeats across counties."""

    code: str
    name: str
    level: AreaLevel
    within: str  # the county and town it lies in, "" for a county


MAX_PLACES = 12
PLACE_LEVELS = (AreaLevel.county, AreaLevel.town, AreaLevel.village)


def places(*, session: Session, actor: Actor, query: str, limit: int = MAX_PLACES) -> list[Place]:
    """Counties, towns and villages (with coordinates, in scope) whose name contains the text,
    the larger first."""
    text = query.strip()[:40]
    if not text:
        return []
    depth = func.length(func.rtrim(Area.code, "0"))
    found = session.execute(
        select(Area.code, Area.name, Area.level)
        .where(
            Area.name.contains(text, autoescape=True),
            Area.level.in_(PLACE_LEVELS),
            Area.lon.is_not(None),
            actor.area_filter(Area.code),
        )
        .order_by(depth, Area.code)
        .limit(max(1, min(limit, MAX_PLACES)))
    ).all()
    chains = {code: _above(code)[: level.depth - 2] for code, _n, level in found}
    above = {c for chain in chains.values() for c in chain}
    names = dict(session.execute(select(Area.code, Area.name).where(Area.code.in_(above))).all())
    return [
        Place(code, name, level, " ".join(names.get(c, "") for c in chains[code]))
        for code, name, level in found
    ]


def _above(code: str) -> list[str]:
    """The county and town codes of an area's code."""
    return [code[:6].ljust(12, "0"), code[:9].ljust(12, "0")]


def place_name(session: Session, code: str) -> str | None:
    """The name of an area, None when there is none with that code."""
    return session.scalar(select(Area.name).where(Area.code == codes.normalise(code)))


def public_phone(phone: str) -> str:
    """A facility's phone as the public may see it: a mobile number is taken to be a person's
    (a village doctor's own) and is not shown."""
    return "" if MOBILE_IN_TEXT.search(phone) else phone.strip()


def village_at(session: Session, actor: Actor, lon: float, lat: float) -> Area:
    """The village (with coordinates, in the actor's scope) nearest a position."""
    for reach in REACH_DEG:
        rows = [
            (code, x, y)
            for code, x, y in session.execute(
                select(Area.code, Area.lon, Area.lat).where(
                    Area.level == AreaLevel.village,
                    Area.lon.between(lon - reach, lon + reach),
                    Area.lat.between(lat - reach, lat + reach),
                    actor.area_filter(Area.code),
                )
            )
            if x is not None and y is not None
        ]
        if rows:
            scale = np.cos(np.radians(lat))
            near = min(rows, key=lambda r: ((r[1] - lon) * scale) ** 2 + (r[2] - lat) ** 2)
            found = session.get(Area, near[0])
            assert found is not None
            return found
    raise InvalidInputError(_("no village we know of lies near this position"))


def find(
    *, session: Session, actor: Actor, item: str, near: str | None = None,
    at: tuple[float, float] | None = None, limit: int = 10,
) -> Lookup:  # fmt: skip
    """Open pharmacies and clinics of the city around ``near`` (an area code), or around the
    position ``at`` (lon, lat; measured from there), that report ``item`` in stock, nearest
    first."""
    thing = item_by_code(session, item)
    if at is not None:
        area = village_at(session, actor, *at)
        code = area.code
    elif near is not None:
        code = codes.normalise(near)
        found = session.get(Area, code)
        if found is None:
            raise NotFoundError(_("no area with code %(code)s", code=codes.short(code)))
        area = found
    else:
        raise InvalidInputError(_("say where: an area code, or a position"))
    actor.require_area(code, area.name)
    if area.lon is None or area.lat is None:
        raise InvalidInputError(_("%(name)s has no coordinates to measure from", name=area.name))
    lon0, lat0 = at if at is not None else (area.lon, area.lat)
    rows = session.execute(
        select(Facility, StockBalance.balance, StockBalance.moved_at)
        .join(StockBalance, StockBalance.facility_id == Facility.id)
        .where(
            StockBalance.item_id == thing.id,
            StockBalance.balance > 0,
            codes.in_subtree(StockBalance.area_code, code[:4]),
            actor.area_filter(Facility.area_code),
            Facility.type.in_(PUBLIC_SOURCES),
            Facility.status == FacilityStatus.open,
            Facility.lon.is_not(None),
        )
    ).all()
    if not rows:
        return Lookup(thing, area, [], at)
    lon = np.array([f.lon for f, _b, _m in rows], dtype=float)
    lat = np.array([f.lat for f, _b, _m in rows], dtype=float)
    scale = np.cos(np.radians((lat + lat0) / 2))
    dist = 111.2 * np.hypot((lon - lon0) * scale, lat - lat0)
    now = timeutil.now()
    order = np.argsort(dist, kind="stable")[: max(1, min(limit, MAX_RESULTS))]
    results = []
    for i in order:
        place, balance, moved_at = rows[int(i)]
        results.append(Found(
            place.id, place.name, place.type, place.address, place.hours, public_phone(place.phone),
            round(float(dist[i]), 1), balance >= PLENTY,
            moved_at, is_stale(moved_at, now),
        ))  # fmt: skip
    return Lookup(thing, area, results, at)
