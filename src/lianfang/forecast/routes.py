"""API for forecasts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Query, Request
from sqlalchemy.orm import Session

from lianfang.api.deps import CurrentActor, PathId, SessionDep
from lianfang.forecast import service
from lianfang.forecast.inputs import fit_inputs, series_from_bytes
from lianfang.forecast.models import ForecastRun, RunKind
from lianfang.forecast.parameters import DiseaseParameters
from lianfang.forecast.schemas import FitCreate, ForecastCreate, ForecastRunRead

router = APIRouter(prefix="/forecast", tags=["forecast 疫情预测"])


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
