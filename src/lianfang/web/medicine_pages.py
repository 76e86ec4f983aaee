"""The public medicine page (畅通购药渠道), for anyone, without signing in: choose an item and a
place (a county, town or village by name, or the phone's position), and see the pharmacies and
clinics that report it in stock, nearest first. Made for a phone; no personal data (the read
model is ``resources.lookup``). Every load takes one of the caller's public lookups, as the
API's does (``api.ratelimit.public_lookup``); beyond them a friendly page answers 429."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from lianfang import timeutil
from lianfang.api import ratelimit
from lianfang.api.deps import Route, SessionDep
from lianfang.i18n import Text, _
from lianfang.resources import lookup
from lianfang.resources.ledger import item_by_code
from lianfang.resources.service import stale_after
from lianfang.web.pages import render

router = APIRouter(include_in_schema=False, route_class=Route)
SHOWN = 20
DEFAULT_ITEM = "ibuprofen"


def reported_ago(at: datetime, now: datetime | None = None) -> Text:
    """When stock was last reported, as a resident reads it: minutes, hours or days ago."""
    seconds = max(0.0, ((now or timeutil.now()) - at).total_seconds())
    if seconds < 3600:
        return _("reported %(minutes)s min ago", minutes=max(1, round(seconds / 60)))
    if seconds < 48 * 3600:
        return _("reported %(hours)s h ago", hours=round(seconds / 3600))
    return _("reported %(days)s days ago", days=round(seconds / 86400))


@dataclass(frozen=True)
class Ask:
    """What the page was asked, as its address carries it."""

    item: str
    q: str = ""
    near: str = ""
    lon: float | None = None
    lat: float | None = None

    def url(self, **changes: object) -> str:
        values = {"item": self.item, "q": self.q, "near": self.near,
                  "lon": self.lon, "lat": self.lat} | changes  # fmt: skip
        return "/medicine?" + urlencode({k: v for k, v in values.items() if v not in (None, "")})


@router.get(
    "/medicine", response_class=HTMLResponse, dependencies=[Depends(ratelimit.public_lookup)]
)
def medicine_page(
    request: Request,
    session: SessionDep,
    item: Annotated[str, Query(max_length=50)] = DEFAULT_ITEM,
    q: Annotated[str, Query(max_length=50)] = "",
    near: Annotated[str, Query(max_length=12)] = "",
    lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
) -> Response:
    """Where to get an item near a place, nearest first; a name that fits more than one place
    lists them to choose from."""
    ask = Ask(item.strip() or DEFAULT_ITEM, q.strip(), near.strip(), lon, lat)
    items = lookup.offered(session)
    chosen = item_by_code(session, ask.item)
    at = (lon, lat) if lon is not None and lat is not None and not ask.q else None
    if ask.q and ask.near and lookup.place_name(session, ask.near) != ask.q:
        ask = Ask(ask.item, ask.q)  # the name was changed: search it, not the place before
    choices: list[lookup.Place] = []
    if at is None and ask.q and not ask.near:
        choices = lookup.places(session=session, actor=lookup.PUBLIC, query=ask.q)
        if len(choices) == 1:  # one place fits: show its results at its own address
            return RedirectResponse(ask.url(q="", near=choices[0].code), status_code=303)
    found = None
    if at is not None or ask.near:
        found = lookup.find(
            session=session, actor=lookup.PUBLIC, item=chosen.code,
            near=None if at else ask.near, at=at, limit=SHOWN,
        )  # fmt: skip
    now = timeutil.now()
    return render(
        request,
        "resources/medicine.html",
        {"me": None, "ask": ask, "items": items, "chosen": chosen, "choices": choices,
         "found": found, "ago": {f.facility_id: reported_ago(f.reported_at, now)
                                 for f in (found.results if found else [])},
         "stale_hours": stale_after().total_seconds() / 3600},
    )  # fmt: skip
