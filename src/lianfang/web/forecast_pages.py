"""Forecast pages: start a forecast for an area, watch its progress, read its results."""

from __future__ import annotations

import json
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.api.deps import PathId, Route, SessionDep, check_csrf
from lianfang.areas import service as areas
from lianfang.auth.choices import Permission
from lianfang.auth.scope import Actor
from lianfang.errors import NotFoundError
from lianfang.forecast import adoption, routes, service
from lianfang.forecast.adoption import AdoptedForecast
from lianfang.forecast.inputs import fit_inputs, series_from_bytes
from lianfang.forecast.models import RunKind, RunStatus
from lianfang.forecast.schemas import FitCreate, ForecastCreate
from lianfang.web.pages import SignedInDep, render

router = APIRouter(include_in_schema=False, route_class=Route)


@router.get("/forecast", response_class=HTMLResponse)
def forecast_home(
    request: Request, session: SessionDep, me: SignedInDep, area: str | None = None
) -> HTMLResponse:
    code = area or me.user.area_code or "32"
    info = areas.detail(session=session, actor=me.actor, code=code)
    runs = service.list_runs(session=session, actor=me.actor, code=info.area.code, limit=10)
    ahead = service.queue_positions(session=session)
    return render(
        request,
        "forecast/home.html",
        {
            "me": me,
            "info": info,
            "above": [a for a in info.ancestors if me.actor.reaches(a.code)],
            "below": areas.children(session=session, actor=me.actor, code=info.area.code),
            "runs": runs,
            "status": {r.id: service.progress_text(r, ahead.get(r.id)) for r in runs},
            "presets": service.presets(),
            "plan": planning(session, me.actor, info.area.code),
            "can_run": me.actor.can(Permission.forecast_run),
        },
    )


Schema = TypeVar("Schema", bound=BaseModel)


def _valid(schema: type[Schema], **values: Any) -> Schema:
    """A page form's values through the API's strict schema: a bad one is the same 422,
    naming the field, as in the API (an error page here)."""
    try:
        return schema(**values)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from exc


@router.post("/forecast")
def forecast_start(
    request: Request,
    session: SessionDep,
    me: SignedInDep,
    csrf_token: Annotated[str, Form()],
    area_code: Annotated[str, Form()],
    days: Annotated[str, Form()] = "120",
    members: Annotated[str, Form()] = "0",
    seed: Annotated[str, Form()] = "0",
    preset: Annotated[list[str] | None, Form()] = None,
) -> Response:
    check_csrf(me.web, csrf_token)
    chosen = [
        p
        for p in service.presets()
        if not preset or any(p["name"].startswith(name) for name in preset)
    ]
    body = _valid(
        ForecastCreate,
        area_code=area_code,
        days=days,
        members=members,
        seed=seed,
        scenarios=chosen,
    )
    inputs = service.forecast_inputs(
        days=body.days, members=body.members, seed=body.seed, scenarios=body.scenario_dicts()
    )
    run = service.queue(
        session=session, actor=me.actor, code=body.area_code, kind=RunKind.forecast, inputs=inputs
    )
    routes.launch(request, session, run)
    return RedirectResponse(f"/forecast/runs/{run.id}", status_code=303)


@router.post("/forecast/fit")
def fit_start(
    request: Request,
    session: SessionDep,
    me: SignedInDep,
    csrf_token: Annotated[str, Form()],
    area_code: Annotated[str, Form()],
    series: Annotated[UploadFile, File()],
    until: Annotated[str, Form()] = "",
    days: Annotated[str, Form()] = "30",
) -> Response:
    check_csrf(me.web, csrf_token)
    body = _valid(
        FitCreate, area_code=area_code, series=series, until=until.strip() or None, days=days
    )
    observed = series_from_bytes(body.series.file.read(), body.series.filename or "series.csv")
    inputs = fit_inputs(observed, body.until, body.days)
    run = service.queue(
        session=session, actor=me.actor, code=body.area_code, kind=RunKind.fit, inputs=inputs
    )
    routes.launch(request, session, run)
    return RedirectResponse(f"/forecast/runs/{run.id}", status_code=303)


def planning(session: Session, actor: Actor, code: str) -> AdoptedForecast | None:
    """The planning forecast that covers an area, if one is adopted (shown with its stale flag
    on the forecast pages)."""
    try:
        return adoption.adopted_forecast(session=session, actor=actor, area=code)
    except NotFoundError:
        return None


@router.post("/forecast/runs/{run_id}/adopt")
def forecast_adopt(
    run_id: PathId,
    session: SessionDep,
    me: SignedInDep,
    csrf_token: Annotated[str, Form()],
    scenario: Annotated[int, Form(ge=0, le=100)] = 0,
) -> Response:
    check_csrf(me.web, csrf_token)
    adoption.adopt(session=session, actor=me.actor, run_id=run_id, scenario=scenario)
    session.commit()
    return RedirectResponse(f"/forecast/runs/{run_id}", status_code=303)


@router.get("/forecast/runs/{run_id}", response_class=HTMLResponse)
def forecast_run(
    run_id: PathId, request: Request, session: SessionDep, me: SignedInDep
) -> HTMLResponse:
    run = service.get_run(session=session, actor=me.actor, run_id=run_id)
    info = areas.detail(session=session, actor=me.actor, code=run.area_code)
    result = service.result_of(run)
    data = None
    if result is not None:
        data = {
            "kind": run.kind.value,
            "result": result,
            "villages": json.loads(run.inputs).get("codes", []),
            "area": run.area_code,
            "today": timeutil.today().isoformat(),  # the line drawn on the charts
        }
    return render(
        request,
        "forecast/run.html",
        {
            "me": me,
            "run": run,
            "info": info,
            "data": data,
            "error": service.error_message(run),
            "progress": service.progress_text(run, service.queued_ahead(session=session, run=run)),
            "plan": planning(session, me.actor, run.area_code),
            "can_adopt": me.actor.can(Permission.forecast_adopt) and data is not None,
            "RunStatus": RunStatus,
            "RunKind": RunKind,
        },
    )


@router.get("/forecast/runs/{run_id}/progress", response_class=HTMLResponse)
def forecast_progress(
    run_id: PathId, request: Request, session: SessionDep, me: SignedInDep
) -> Response:
    run = service.get_run(session=session, actor=me.actor, run_id=run_id)
    if run.status in (RunStatus.done, RunStatus.failed):
        return Response(status_code=204, headers={"HX-Refresh": "true"})
    progress = service.progress_text(run, service.queued_ahead(session=session, run=run))
    return render(request, "forecast/_progress.html", {"me": me, "run": run, "progress": progress})
