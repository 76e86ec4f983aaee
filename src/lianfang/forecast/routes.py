"""API for forecasts."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from lianfang.api.deps import CurrentActor, SessionDep
from lianfang.forecast import service
from lianfang.forecast.models import RunKind
from lianfang.forecast.parameters import DiseaseParameters
from lianfang.forecast.presets import PRESETS
from lianfang.forecast.schemas import ForecastCreate, ForecastRunRead

router = APIRouter(prefix="/forecast", tags=["forecast 疫情预测"])


def preset_dicts() -> list[dict[str, Any]]:
    """The ready-made scenarios as JSON-ready dicts."""
    return [_jsonable(asdict(make())) for make in PRESETS.values()]


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value.isoformat() if hasattr(value, "isoformat") else value


@router.get("/parameters", summary="Disease parameters with meaning, unit and source")
def parameters(actor: CurrentActor) -> list[dict[str, Any]]:
    """Every model parameter: default, meaning, unit, source."""
    return DiseaseParameters.describe()


@router.get("/presets", summary="Ready-made scenarios")
def presets(actor: CurrentActor) -> list[dict[str, Any]]:
    """Scenarios for winter 2022–23 that POST /api/forecast/runs uses by default."""
    return preset_dicts()


@router.post("/runs", response_model=ForecastRunRead, status_code=202, summary="Start a forecast")
def create_run(
    body: ForecastCreate, request: Request, session: SessionDep, actor: CurrentActor
) -> ForecastRunRead:
    """Queue a forecast for an area and start computing it in a worker process; poll
    GET /api/forecast/runs/{id} for progress and results."""
    run = start(request, session, actor, body)
    return ForecastRunRead.of(run, full=False)


def start(request: Request, session: SessionDep, actor: CurrentActor, body: ForecastCreate) -> Any:
    """Create the run, commit, and hand it to the configured starter (a worker process)."""
    model = service.population_for(session=session, actor=actor, code=body.area_code)
    inputs = {
        "days": body.days,
        "members": body.members,
        "seed": body.seed,
        "scenarios": body.scenarios or preset_dicts(),
        "parameters": body.parameters,
        **model.as_inputs(),
    }
    run = service.create_run(
        session=session, actor=actor, code=body.area_code, kind=RunKind.forecast, inputs=inputs
    )
    session.commit()
    request.app.state.start_forecast(request.app.state.settings.database_url, run.id)
    return run


@router.get("/runs", response_model=list[ForecastRunRead], summary="Runs within your scope")
def list_runs(
    session: SessionDep,
    actor: CurrentActor,
    area: Annotated[str | None, Query(description="only runs of this area")] = None,
) -> list[ForecastRunRead]:
    """Newest first, without their results."""
    runs = service.list_runs(session=session, actor=actor, code=area)
    return [ForecastRunRead.of(r, full=False) for r in runs]


@router.get("/runs/{run_id}", response_model=ForecastRunRead, summary="A run with its results")
def get_run(run_id: int, session: SessionDep, actor: CurrentActor) -> ForecastRunRead:
    """Status and progress; once done, the stored inputs and results."""
    return ForecastRunRead.of(
        service.get_run(session=session, actor=actor, run_id=run_id), full=True
    )
