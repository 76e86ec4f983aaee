"""The commander's situation overview (the home page of commanders and operators) and the
daily briefing page; both show ``lianfang.briefing.read``, the page only lays it out."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from lianfang.api.deps import Route, SessionDep
from lianfang.areas import codes
from lianfang.areas import service as areas
from lianfang.areas.choices import AreaLevel
from lianfang.auth.choices import Role
from lianfang.briefing import read, render
from lianfang.briefing.choices import Layer
from lianfang.briefing.read import Briefing, Row
from lianfang.db.engine import release
from lianfang.web.language import request_language
from lianfang.web.pages import SignedIn, SignedInDep, templates
from lianfang.web.pages import render as render_page

router = APIRouter(include_in_schema=False, route_class=Route)

OVERVIEW_ROLES = frozenset(
    {Role.admin, Role.city_commander, Role.district_operator, Role.town_operator}
)
"""Whose home page is the situation overview (others keep the plain home page)."""

templates.env.filters["delta"] = render.delta  # a change since yesterday: +3, −2, ±0


def drill(row: Row) -> str:
    """Where a child area's name leads: its own overview, down to a village's."""
    return f"/overview/{codes.short(row.code)}"


def people_link(code: str, **filters: str) -> str:
    """The list of the people behind a number (overdue, alerts) under an area."""
    query = "&".join(f"{k}={v}" for k, v in {"area": codes.short(code), **filters}.items())
    return f"/people?{query}"


def _briefing(session: Session, me: SignedIn, code: str, day: date | None = None) -> Briefing:
    found = read.briefing(session=session, actor=me.actor, code=code, day=day)
    session.commit()  # the day's first reading stored its figures
    return found


def map_data(found: Briefing) -> dict[str, Any]:
    """What the overview's map draws: each child area's point and its figure per layer."""
    day = found.day

    def values(r: Row) -> dict[str, float | None]:
        return {
            Layer.coverage.value: None if r.coverage is None else round(1 - r.coverage, 4),
            Layer.alerts.value: r.alerts,
            Layer.peak.value: r.peak_days(day),
            Layer.stock.value: r.stock_short,
            Layer.beds.value: None if r.beds_share is None else round(r.beds_share, 4),
            Layer.tasks.value: r.tasks_late,
        }

    rows = found.rows or [found.area]
    return {
        "area": found.area.code,
        "layers": [
            {
                "key": layer.value,
                "label": layer.label(),
                "colour": layer.colour,
                "share": layer in (Layer.coverage, Layer.beds),
                "any": any(values(r)[layer.value] is not None for r in rows),
            }
            for layer in found.layers
        ],
        "points": [
            {
                "code": r.code,
                "name": r.name,
                "lon": r.lon,
                "lat": r.lat,
                "href": drill(r),
                "values": values(r),
            }
            for r in rows
            if r.lon is not None and r.lat is not None
        ],
    }


def _crumbs(session: Session, me: SignedIn, code: str) -> list[tuple[str, str, bool]]:
    info = areas.detail(session=session, actor=me.actor, code=code)
    return [(a.code, a.name, me.actor.reaches(a.code)) for a in info.ancestors]


def overview_page(request: Request, session: Session, me: SignedIn, code: str) -> HTMLResponse:
    found = _briefing(session, me, code)
    crumbs = _crumbs(session, me, found.area.code)
    release(session)
    return render_page(
        request,
        "briefing/overview.html",
        {
            "me": me, "b": found, "crumbs": crumbs, "map": json.dumps(map_data(found),
                                                                      ensure_ascii=False),
            "Layer": Layer, "short": codes.short, "people_link": people_link, "drill": drill,
            "share_change": render.share_change, "village": found.area.level is AreaLevel.village,
        },
    )  # fmt: skip


@router.get("/overview/{code}", response_class=HTMLResponse)
def overview(code: str, request: Request, session: SessionDep, me: SignedInDep) -> HTMLResponse:
    return overview_page(request, session, me, code)


@router.get("/briefing/{code}", response_class=HTMLResponse)
def briefing_page(
    code: str, request: Request, session: SessionDep, me: SignedInDep, date: date | None = None
) -> HTMLResponse:
    found = _briefing(session, me, code, date)
    crumbs = _crumbs(session, me, found.area.code)
    release(session)
    lang = request_language(request)
    body = render.body(found, lang, link=lambda r: f"/briefing/{codes.short(r.code)}")
    return render_page(
        request,
        "briefing/briefing.html",
        {"me": me, "b": found, "body": body, "crumbs": crumbs, "short": codes.short},
    )
