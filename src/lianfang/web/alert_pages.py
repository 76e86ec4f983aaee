"""The alert centre: an area's alerts with filters (kind, severity, open or closed, mine),
coloured by severity, each linked to its subject and its task; one alert's page with its
history, task, suggested hospital and the form that closes it. Phone-sized for village workers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from lianfang.alerts import service
from lianfang.alerts.choices import AlertKind, AlertStatus, Severity, Subject
from lianfang.api.deps import Offset, PathId, Route, SessionDep, check_csrf
from lianfang.areas import codes
from lianfang.areas.models import Area
from lianfang.errors import LianfangError
from lianfang.web.pages import SignedIn, SignedInDep, render

router = APIRouter(include_in_schema=False, route_class=Route)
PAGE = 50


def _default_area(session: Session, me: SignedIn) -> str:
    if me.user.area_code:
        return me.user.area_code
    return (
        session.scalar(select(Area.code).where(Area.parent_code.is_(None)).order_by(Area.code))
        or ""
    )


def _choice(kind: type[Any], raw: str) -> Any:
    return kind.of(raw) if raw in kind._value2member_map_ else None


@router.get("/alerts", response_class=HTMLResponse)
def alert_centre(
    request: Request, session: SessionDep, me: SignedInDep,
    area: Annotated[str, Query(max_length=20)] = "",
    status: Annotated[str, Query(max_length=10)] = "open",
    kind: Annotated[str, Query(max_length=20)] = "",
    severity: Annotated[str, Query(max_length=10)] = "",
    mine: Annotated[bool, Query()] = False,
    offset: Offset = 0,
) -> HTMLResponse:  # fmt: skip
    """The alert centre of an area (the user's own by default)."""
    code = codes.normalise(area) if area else _default_area(session, me)
    chosen_kind = _choice(AlertKind, kind)
    chosen_severity = _choice(Severity, severity)
    f = service.AlertFilter(
        area=code, status=_choice(AlertStatus, status),
        kinds=frozenset({chosen_kind}) if chosen_kind else frozenset(),
        severities=frozenset({chosen_severity}) if chosen_severity else frozenset(), mine=mine,
    )  # fmt: skip
    rows, total = service.list_alerts(
        session=session, actor=me.actor, f=f, limit=PAGE, offset=offset
    )
    place = session.get(Area, code)
    return render(request, "alerts/list.html", {
        "me": me, "views": service.describe(session=session, alerts=rows), "total": total,
        "area": place, "code": codes.short(code), "status": status, "kind": kind,
        "severity": severity, "mine": mine, "offset": offset, "page": PAGE,
        "counts": service.counts(session=session, actor=me.actor, area=code),
        "AlertKind": AlertKind, "Severity": Severity, "AlertStatus": AlertStatus,
    })  # fmt: skip


def _detail(
    request: Request, session: Session, me: SignedIn, alert_id: int, status: int = 200,
    **extra: Any,
) -> HTMLResponse:  # fmt: skip
    alert = service.get(session=session, actor=me.actor, alert_id=alert_id)
    view = service.describe(session=session, alerts=[alert], with_events=True)[0]
    can_close = me.actor.can(service.CLOSE[alert.subject]) and alert.status is AlertStatus.open
    return render(request, "alerts/alert.html", {
        "me": me, "v": view, "a": alert, "can_close": can_close, "Subject": Subject, **extra,
    }, status_code=status)  # fmt: skip


@router.get("/alerts/{alert_id:int}", response_class=HTMLResponse)
def alert_page(
    alert_id: PathId, request: Request, session: SessionDep, me: SignedInDep,
    saved: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:  # fmt: skip
    """One alert: why, its task, the suggested hospital, its history and how to close it."""
    return _detail(request, session, me, alert_id, saved=saved)


@router.post("/alerts/{alert_id:int}/close", response_class=HTMLResponse)
def close_alert(
    alert_id: PathId, request: Request, session: SessionDep, me: SignedInDep,
    csrf_token: Annotated[str, Form()], note: Annotated[str, Form()],
) -> Response:  # fmt: skip
    check_csrf(me.web, csrf_token)
    try:
        service.close(session=session, actor=me.actor, alert_id=alert_id, note=note)
    except LianfangError as exc:
        session.rollback()
        return _detail(request, session, me, alert_id, 422, close_error=exc, note=note)
    session.commit()
    return RedirectResponse(f"/alerts/{alert_id}?saved=closed", status_code=303)
