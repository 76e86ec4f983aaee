"""API of the alert engine: the alert centre's list, one alert with its history, closing one
with how it was handled, and the thresholds of an area."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from lianfang.alerts import service, thresholds
from lianfang.alerts.choices import AlertKind, AlertStatus, Severity
from lianfang.alerts.schemas import (
    AlertClose,
    AlertPage,
    AlertRead,
    ThresholdRead,
    ThresholdWrite,
)
from lianfang.api.deps import CurrentActor, Offset, PathId, Route, SessionDep
from lianfang.areas import codes

router = APIRouter(tags=["alerts 预警"], route_class=Route)


@router.get("/alerts", response_model=AlertPage, summary="Alerts under an area")
def list_alerts(
    session: SessionDep,
    actor: CurrentActor,
    area: Annotated[str, Query(description="area code (any form)")],
    status: Annotated[AlertStatus | None, Query(description="default: open")] = AlertStatus.open,
    kind: Annotated[list[AlertKind] | None, Query()] = None,
    severity: Annotated[list[Severity] | None, Query()] = None,
    mine: Annotated[bool, Query(description="only alerts whose task is yours")] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Offset = 0,
) -> AlertPage:
    """Open (or closed, or all with `status=`) alerts of every kind the caller's role may read,
    the most severe first, then the most recently updated."""
    f = service.AlertFilter(
        area=codes.normalise(area), status=status, kinds=frozenset(kind or ()),
        severities=frozenset(severity or ()), mine=mine,
    )  # fmt: skip
    rows, total = service.list_alerts(session=session, actor=actor, f=f, limit=limit, offset=offset)
    views = service.describe(session=session, alerts=rows)
    return AlertPage(items=[AlertRead.of(v) for v in views], total=total)


@router.get("/alerts/thresholds", response_model=list[ThresholdRead], summary="Thresholds")
def list_thresholds(
    session: SessionDep,
    actor: CurrentActor,
    area: Annotated[str, Query(description="area code (any form)")],
) -> list[ThresholdRead]:
    """Each rule's threshold at an area: set there or above it, else the default."""
    found = thresholds.effective(session=session, actor=actor, area=area)
    return [
        ThresholdRead(
            kind=kind, value=value, meaning=str(thresholds.DEFAULTS[kind].meaning), source=source
        )
        for kind, (value, source) in found.items()
    ]


@router.put("/alerts/thresholds", response_model=list[ThresholdRead], summary="Set a threshold")
def set_threshold(
    body: ThresholdWrite, session: SessionDep, actor: CurrentActor
) -> list[ThresholdRead]:
    """Set (or with `value: null` remove) an area's threshold of one rule; the area and
    everything below it follow it unless they set their own."""
    thresholds.set_threshold(
        session=session, actor=actor, area=body.area_code, kind=body.kind, value=body.value
    )
    session.commit()
    return list_thresholds(session, actor, body.area_code)


@router.get("/alerts/{alert_id}", response_model=AlertRead, summary="One alert and its history")
def get_alert(alert_id: PathId, session: SessionDep, actor: CurrentActor) -> AlertRead:
    """The alert, its task and suggested hospital, and every event of its history."""
    alert = service.get(session=session, actor=actor, alert_id=alert_id)
    return AlertRead.of(service.describe(session=session, alerts=[alert], with_events=True)[0])


@router.post("/alerts/{alert_id}/close", response_model=AlertRead, summary="Close an alert")
def close_alert(
    alert_id: PathId, body: AlertClose, session: SessionDep, actor: CurrentActor
) -> AlertRead:
    """Record how the alert was handled (at least 4 characters) and close it."""
    alert = service.close(session=session, actor=actor, alert_id=alert_id, note=body.note)
    session.commit()
    return AlertRead.of(service.describe(session=session, alerts=[alert], with_events=True)[0])
