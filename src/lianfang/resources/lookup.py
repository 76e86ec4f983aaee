"""The public lookup (畅通购药渠道): where a resident can get an item near a village —
pharmacies and clinics that report it in stock, nearest first, with distance and when stock was
last reported. Answers only facts about facilities: no person, no quantity beyond a rough level.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.areas import codes
from lianfang.areas.models import Area
from lianfang.auth.choices import Role
from lianfang.auth.scope import Actor
from lianfang.errors import InvalidInputError, NotFoundError
from lianfang.i18n import Text, _
from lianfang.resources.choices import PUBLIC_SOURCES, FacilityStatus, FacilityType
from lianfang.resources.ledger import item_by_code
from lianfang.resources.models import Facility, Item, StockBalance
from lianfang.resources.service import is_stale

PUBLIC = Actor(user_id=None, username="public", role=Role.viewer, area_code=None)
"""The actor of the public lookup page: reads facilities only, through ``find``."""
MAX_RESULTS = 50
PLENTY = 50  # units: at or above, "plenty"; below, "a few"


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
    level: Text  # plenty / a few
    reported_at: datetime
    stale: bool


@dataclass(frozen=True)
class Lookup:
    item: Item
    near: Area
    results: list[Found]


def find(*, session: Session, actor: Actor, item: str, near: str, limit: int = 10) -> Lookup:
    """Open pharmacies and clinics of the city around ``near`` that report ``item`` in stock,
    nearest first."""
    thing = item_by_code(session, item)
    code = codes.normalise(near)
    area = session.get(Area, code)
    if area is None:
        raise NotFoundError(_("no area with code %(code)s", code=codes.short(code)))
    actor.require_area(code, area.name)
    if area.lon is None or area.lat is None:
        raise InvalidInputError(_("%(name)s has no coordinates to measure from", name=area.name))
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
        return Lookup(thing, area, [])
    lon = np.array([f.lon for f, _b, _m in rows], dtype=float)
    lat = np.array([f.lat for f, _b, _m in rows], dtype=float)
    scale = np.cos(np.radians((lat + area.lat) / 2))
    dist = 111.2 * np.hypot((lon - area.lon) * scale, lat - area.lat)
    now = timeutil.now()
    order = np.argsort(dist, kind="stable")[: max(1, min(limit, MAX_RESULTS))]
    results = []
    for i in order:
        place, balance, moved_at = rows[int(i)]
        results.append(Found(
            place.id, place.name, place.type, place.address, place.hours, place.phone,
            round(float(dist[i]), 1), _("plenty") if balance >= PLENTY else _("a few"),
            moved_at, is_stale(moved_at, now),
        ))  # fmt: skip
    return Lookup(thing, area, results)
