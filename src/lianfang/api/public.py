"""What anyone may ask without signing in: where to get medicine near a village (畅通购药渠道).
No personal data, no quantities beyond a rough level; rate-limited per client address
(setting ``public_lookups_per_minute``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from lianfang.api import ratelimit
from lianfang.api.deps import Route, SessionDep
from lianfang.errors import InvalidInputError
from lianfang.i18n import _, current_language
from lianfang.resources import lookup
from lianfang.resources.choices import FacilityType

router = APIRouter(tags=["public 公开查询"], route_class=Route)


class PlaceRead(BaseModel):
    """A place that reports the item in stock."""

    name: str
    type: FacilityType
    type_label: str
    address: str
    hours: str
    phone: str
    km: float
    level: str
    reported_at: datetime
    stale: bool


class MedicineRead(BaseModel):
    """Where to get an item near an area, nearest first."""

    item: str
    item_name: str
    unit: str
    near: str
    near_name: str
    results: list[PlaceRead]


@router.get(
    "/public/medicine", response_model=MedicineRead, summary="Where to get medicine nearby",
    responses={404: {"description": "no such item or area"}},
    dependencies=[Depends(ratelimit.public_lookup)],
)  # fmt: skip
def medicine(
    session: SessionDep,
    item: Annotated[str, Query(min_length=1, max_length=50, description="item code or name")],
    near: Annotated[
        str | None, Query(min_length=2, max_length=12, description="area code (or lon and lat)")
    ] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180, description="longitude (WGS 84)")] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90, description="latitude (WGS 84)")] = None,
    limit_: Annotated[int, Query(alias="limit", ge=1, le=lookup.MAX_RESULTS)] = 10,
) -> MedicineRead:
    """Open pharmacies, village clinics and health centres of the city that report the item in
    stock, nearest first: distance, a rough level (充足 / 少量), when stock was last reported
    (`stale` when older than `stale_hours`). Near an area (`near`), or a position (`lon` and
    `lat`: distances from there, in the city of the nearest village). No sign-in; no personal
    data (a mobile number is not shown as a facility's phone). Each address may ask
    `public_lookups_per_minute` times a minute; beyond, 429 with `Retry-After`."""
    if (lon is None) != (lat is None) or (near is None and lon is None):
        raise InvalidInputError(_("give near (an area code), or both lon and lat"))
    at = (lon, lat) if lon is not None and lat is not None else None
    found = lookup.find(
        session=session, actor=lookup.PUBLIC, item=item, near=near, at=at, limit=limit_
    )
    lang = current_language()
    return MedicineRead(
        item=found.item.code, item_name=found.item.name, unit=found.item.unit,
        near=found.near.code, near_name=found.near.name,
        results=[
            PlaceRead(
                name=f.name, type=f.type, type_label=f.type.label(lang), address=f.address,
                hours=f.hours, phone=f.phone, km=f.km, level=f.level.in_language(lang),
                reported_at=f.reported_at, stale=f.stale,
            )
            for f in found.results
        ],
    )  # fmt: skip
