"""API for forecasts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Query, Request
from sqlalchemy.orm import Session

from lianfang.api.deps import CurrentActor, PathId, Route, SessionDep
from lianfang.forecast import adoption, service
from lianfang.forecast.inputs import fit_inputs, series_from_bytes
from lianfang.forecast.models import ForecastRun, RunKind
from lianfang.forecast.parameters import DiseaseParameters
from lianfang.forecast.schemas import (
    AdoptedForecastRead,
    AdoptionCreate,
    AdoptionRead,
    FitCreate,
    ForecastCreate,
    ForecastRunRead,
    RerunCreate,
)

router = APIRouter(prefix="/forecast", tags=["forecast 疫情预测"], route_class=Route)


@router.get("/parameters", summary="Disease parameters with meaning, unit and source")
def parameters(actor: CurrentActor) -> list[dict[str, Any]]:
    """Every model parameter: default, meaning, unit, source."""
    return DiseaseParameters.describe()


@router.get("/presets", summary="Ready-made scenarios")
def presets(actor: CurrentActor) -> list[dict[str, Any]]:
    """Scenarios for winter 2022–23 that POST /api/forecast/runs uses by default."""
    return service.presets()


@router.post("/runs", response_model=ForecastRunRead, status_code=202, summary="Start a forecast")
def create_run(
    body: ForecastCreate, request: Request, session: SessionDep, actor: CurrentActor
) -> ForecastRunRead:
    """Queue a forecast for an area and start computing it in a worker process; poll
    GET /api/forecast/runs/{id} for progress and results."""
    inputs = service.forecast_inputs(
        days=body.days, members=body.members, seed=body.seed, scenarios=body.scenario_dicts(),
        parameters=body.parameter_changes(),
    )  # fmt: skip
    run = service.queue(
        session=session, actor=actor, code=body.area_code, kind=RunKind.forecast, inputs=inputs
    )
    launch(request, session, run)
    return ForecastRunRead.of(run, full=False, ahead=service.queued_ahead(session=session, run=run))


def launch(request: Request, session: Session, run: ForecastRun) -> None:
    """Commit a queued run and tell the server's job queue, which starts it in a process of
    its own when a slot is free, so that the caller is answered at once (the API's and the
    pages' way to start one)."""
    session.commit()
    request.app.state.start_forecast(run.id)


@router.post(
    "/fits",
    response_model=ForecastRunRead,
    status_code=202,
    summary="Fit the model to observed series",
)
def create_fit(
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    body: Annotated[FitCreate, File()],  # File(): the form carries a file (multipart)
) -> ForecastRunRead:
    """Queue a fit of R0, start and reporting to the uploaded series; poll the run as for
    forecasts (its result holds estimates, intervals, quality and predicted bands)."""
    observed = series_from_bytes(body.series.file.read(), body.series.filename or "series.csv")
    inputs = fit_inputs(observed, body.until, body.days)
    run = service.queue(
        session=session, actor=actor, code=body.area_code, kind=RunKind.fit, inputs=inputs
    )
    launch(request, session, run)
    return ForecastRunRead.of(run, full=False, ahead=service.queued_ahead(session=session, run=run))


@router.post(
    "/reruns",
    response_model=ForecastRunRead,
    status_code=202,
    summary="Re-run a stored run or fit with its stored inputs",
)
def rerun(
    body: RerunCreate, request: Request, session: SessionDep, actor: CurrentActor
) -> ForecastRunRead:
    """Queue a new run with exactly the stored inputs of run ``run_id`` (its population
    included); 409 naming the versions when this lianfang computes another run format than the
    one that made it. Poll the new run; ``lianfang forecast rerun`` also compares the figures."""
    run = service.rerun(session=session, actor=actor, run_id=body.run_id)
    launch(request, session, run)
    return ForecastRunRead.of(run, full=False)


@router.get("/runs", response_model=list[ForecastRunRead], summary="Runs within your scope")
def list_runs(
    session: SessionDep,
    actor: CurrentActor,
    area: Annotated[str | None, Query(description="only runs of this area")] = None,
) -> list[ForecastRunRead]:
    """Newest first, without their results."""
    runs = service.list_runs(session=session, actor=actor, code=area)
    ahead = service.queue_positions(session=session)
    return [ForecastRunRead.of(r, full=False, ahead=ahead.get(r.id)) for r in runs]


@router.get("/runs/{run_id}", response_model=ForecastRunRead, summary="A run with its results")
def get_run(run_id: PathId, session: SessionDep, actor: CurrentActor) -> ForecastRunRead:
    """Status and progress; once done, the stored inputs and results."""
    run = service.get_run(session=session, actor=actor, run_id=run_id)
    return ForecastRunRead.of(run, full=True, ahead=service.queued_ahead(session=session, run=run))


@router.post(
    "/adoptions",
    response_model=AdoptionRead,
    status_code=201,
    summary="Adopt a run or fit as its area's planning forecast",
)
def adopt(body: AdoptionCreate, session: SessionDep, actor: CurrentActor) -> AdoptionRead:
    """Permission ``forecast.adopt``. The finished run (one of its scenarios) becomes the
    planning forecast of its area; the one adopted before is ended and kept as history."""
    made = adoption.adopt(session=session, actor=actor, run_id=body.run_id, scenario=body.scenario)
    session.commit()
    return AdoptionRead.of(made)


@router.get(
    "/adoptions", response_model=list[AdoptionRead], summary="An area's adoptions, with history"
)
def adoptions(
    session: SessionDep,
    actor: CurrentActor,
    area: Annotated[str, Query(description="area code (any form)")],
) -> list[AdoptionRead]:
    """The current adoption first, then the ones it replaced, newest first."""
    return [AdoptionRead.of(a) for a in adoption.history(session=session, actor=actor, code=area)]


@router.get(
    "/adopted",
    response_model=AdoptedForecastRead,
    summary="Demand per item and day from the adopted planning forecast",
)
def adopted(
    session: SessionDep,
    actor: CurrentActor,
    area: Annotated[str, Query(description="any area inside an adopted area (any form)")],
) -> AdoptedForecastRead:
    """For the area or the nearest area above it with an adopted forecast: demand per item
    (drug courses, beds, ICU, oxygen …) and day with 5–95% bands, the peak date, and whether it
    is stale (and why). 404 when no area above has one."""
    found = adoption.adopted_forecast(session=session, actor=actor, area=area)
    return AdoptedForecastRead.model_validate(found.as_dict())
