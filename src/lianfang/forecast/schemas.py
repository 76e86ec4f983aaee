"""What the forecast API takes and returns."""

from __future__ import annotations

import dataclasses
import json
import typing
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import UploadFile
from pydantic import BaseModel, Field, field_validator

from lianfang.forecast.models import ForecastAdoption, ForecastRun, RunKind, RunStatus
from lianfang.forecast.parameters import N_AGES, DiseaseParameters
from lianfang.forecast.scenario import FestivalReturn, Measure, Scenario
from lianfang.forecast.service import error_message, progress_text
from lianfang.ids import RecordId
from lianfang.schemas import WriteSchema, mirror

# Strict mirrors of the pure core's dataclasses (typed Any for mypy: they are made at run time).
MeasureIn: Any = mirror(Measure, "MeasureIn")
FestivalIn: Any = mirror(FestivalReturn, "FestivalIn")
ScenarioIn: Any = mirror(
    Scenario, "ScenarioIn", measures=(list[MeasureIn], []), festival=(FestivalIn | None, None)
)
PARAMETER_RANGES: dict[str, tuple[float, float]] = {
    "probability": (0, 1),
    "share": (0, 1),
    "relative reduction": (0, 1),
    "ratio": (0, 10),
    "days": (0, 90),
    "secondary infections": (0, 30),
}
"""The values a disease parameter may take, by its unit; the core checks the rest (positive
periods, shares that add up to at most 1) and a validator asks it on the way in."""
OTHER_RANGE = (0.0, 1000.0)
"""For a parameter whose unit is not listed above: finite, non-negative and bounded."""


def _parameter_field(item: dataclasses.Field[Any], hint: Any) -> tuple[Any, Any]:
    """A disease parameter as a schema field: its type, its range (by unit) and, for one value
    per age band, exactly that many values; its default as documentation."""
    low, high = PARAMETER_RANGES.get(item.metadata.get("unit", ""), OTHER_RANGE)
    number: Any = Annotated[
        int if hint is int else float, Field(ge=low, le=high, allow_inf_nan=False)
    ]
    meaning = f"{item.metadata.get('meaning', '')} ({item.metadata.get('unit', '')})"
    default: Any = item.default
    if typing.get_origin(hint) is tuple:
        ages = Annotated[list[number], Field(min_length=N_AGES, max_length=N_AGES)]
        return ages, Field(list(default), description=f"{meaning}, one per age band")
    if hint in (int, float):
        return number, Field(default, description=meaning)
    return Any, Field(None, description=meaning)  # a kind of value the core alone checks


_hints = typing.get_type_hints(DiseaseParameters)
ParametersIn: Any = mirror(
    DiseaseParameters,
    "ParametersIn",
    **{f.name: _parameter_field(f, _hints[f.name]) for f in dataclasses.fields(DiseaseParameters)},
)


class ForecastCreate(WriteSchema):
    """A forecast to compute for an area."""

    area_code: str = Field(description="area code (any form)")
    days: int = Field(120, ge=7, le=365)
    members: int = Field(0, ge=0, le=500, description="stochastic members; 0 = deterministic")
    seed: int = 0
    scenarios: list[ScenarioIn] | None = Field(
        None, description="scenarios (see GET /api/forecast/presets); default: the presets"
    )
    parameters: ParametersIn = Field(
        default_factory=ParametersIn, description="changes to the default disease parameters"
    )

    @field_validator("scenarios")
    @classmethod
    def _scenarios_parse(cls, value: list[WriteSchema] | None) -> list[WriteSchema] | None:
        for item in value or []:
            try:
                Scenario.from_dict(item.model_dump(mode="json"))
            except (TypeError, ValueError) as exc:
                raise ValueError(str(exc)) from exc
        return value

    @field_validator("parameters")
    @classmethod
    def _parameters_apply(cls, value: WriteSchema) -> WriteSchema:
        try:
            DiseaseParameters().with_values(**value.model_dump(exclude_unset=True))
        except (TypeError, ValueError) as exc:
            raise ValueError(str(exc)) from exc
        return value

    def scenario_dicts(self) -> list[dict[str, Any]] | None:
        """The scenarios as the worker reads them."""
        return [s.model_dump(mode="json") for s in self.scenarios or []] or None

    def parameter_changes(self) -> dict[str, Any]:
        """The parameters the caller changed."""
        changes: dict[str, Any] = self.parameters.model_dump(exclude_unset=True)
        return changes


class FitCreate(WriteSchema):
    """Observed series to fit the model to, for an area."""

    area_code: str = Field(description="area code (any form)")
    series: UploadFile = Field(
        description="CSV: date plus any of positives, visits, admissions, hospital_census"
    )
    until: date | None = Field(None, description="fit only up to this day")
    days: int = Field(30, ge=0, le=365, description="days to forecast after the data")


class RerunCreate(WriteSchema):
    """A stored run to compute again from its stored inputs."""

    run_id: RecordId = Field(description="the stored run or fit")


class ForecastRunRead(BaseModel):
    """A stored run; ``result`` only when asked for one run."""

    id: int
    area_code: str
    kind: RunKind
    status: RunStatus
    progress: float
    progress_text: str = Field(
        description="where the run is, in the request's language: its place in the queue "
        "(queued, 3 ahead), or the scenario and the members or days done"
    )
    progress_detail: dict[str, Any] | None = Field(
        None,
        description="what the worker reported: scenario, scenarios, done, total, unit "
        "(members or days), or stage (fit)",
    )
    queued_ahead: int | None = Field(
        None, description="while queued: how many queued runs will start before this one"
    )
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None = Field(
        None, description="why it failed, in the request's language (details are in the log)"
    )
    format_version: int | None = Field(
        None, description="the engine's run format that computed it (null: stored before)"
    )
    package_version: str | None = Field(None, description="the lianfang version that queued it")
    inputs: dict[str, Any] | None = None
    result: dict[str, Any] | None = None

    @classmethod
    def of(cls, run: ForecastRun, full: bool, ahead: int | None = None) -> ForecastRunRead:
        """The run as the API shows it; ``ahead`` its place in the queue while queued."""
        read = cls(
            id=run.id,
            area_code=run.area_code,
            kind=run.kind,
            status=run.status,
            progress=run.progress,
            progress_text=progress_text(run, ahead),
            progress_detail=json.loads(run.progress_detail) if run.progress_detail else None,
            queued_ahead=ahead if run.status is RunStatus.queued else None,
            created_by=run.created_by,
            created_at=run.created_at,
            started_at=run.started_at,
            finished_at=run.finished_at,
            error=error_message(run),
            format_version=run.format_version,
            package_version=run.package_version,
        )
        if full:
            read.inputs = json.loads(run.inputs)
            read.result = json.loads(run.result) if run.result else None
        return read


class AdoptionCreate(WriteSchema):
    """A finished run or fit to make its area's planning forecast."""

    run_id: RecordId = Field(description="the finished run or fit")
    scenario: int = Field(0, ge=0, le=100, description="which of the run's scenarios (index)")


class AdoptionRead(BaseModel):
    """An adoption: who made which run the area's planning forecast, when, and until when."""

    id: int
    area_code: str
    run_id: int
    scenario: int
    adopted_by: str
    adopted_at: datetime
    replaced_at: datetime | None
    replaced_by: str | None
    current: bool

    @classmethod
    def of(cls, adoption: ForecastAdoption) -> AdoptionRead:
        return cls(
            id=adoption.id,
            area_code=adoption.area_code,
            run_id=adoption.run_id,
            scenario=adoption.scenario,
            adopted_by=adoption.adopted_by,
            adopted_at=adoption.adopted_at,
            replaced_at=adoption.replaced_at,
            replaced_by=adoption.replaced_by,
            current=adoption.replaced_at is None,
        )


class DemandRead(BaseModel):
    """One item's daily demand from the forecast's start: median and 5–95%."""

    unit: str
    low: list[float]
    median: list[float]
    high: list[float]


class AdoptedForecastRead(BaseModel):
    """``lianfang.forecast.adoption.AdoptedForecast`` as JSON."""

    area_code: str
    area_name: str
    adopted_area_code: str
    adopted_area_name: str
    run_id: int
    kind: str
    scenario: str
    adopted_by: str
    adopted_at: datetime
    made_at: datetime
    format_version: int | None
    start: date
    days: int
    peak_date: date | None
    peak_date_low: date | None
    peak_date_high: date | None
    scaled: float = Field(description="share of a reported child area's demand (1: its own)")
    stale: bool
    stale_reasons: list[str]
    demand: dict[str, DemandRead]
