"""What the forecast API takes and returns."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, field_validator

from lianfang.forecast.models import ForecastRun, RunKind, RunStatus
from lianfang.forecast.scenario import Scenario


class ForecastCreate(BaseModel):
    """A forecast to compute for an area."""

    area_code: str = Field(description="area code (any form)")
    days: int = Field(120, ge=7, le=365)
    members: int = Field(0, ge=0, le=500, description="stochastic members; 0 = deterministic")
    seed: int = 0
    scenarios: list[dict[str, Any]] | None = Field(
        None, description="scenarios (see GET /api/forecast/presets); default: the presets"
    )
    parameters: dict[str, Any] = Field(
        default_factory=dict, description="changes to the default disease parameters"
    )

    @field_validator("scenarios")
    @classmethod
    def _scenarios_parse(cls, value: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
        for item in value or []:
            Scenario.from_dict(item)  # raises ValueError/TypeError with the reason
        return value


class ForecastRunRead(BaseModel):
    """A stored run; ``result`` only when asked for one run."""

    id: int
    area_code: str
    kind: RunKind
    status: RunStatus
    progress: float
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None
    inputs: dict[str, Any] | None = None
    result: dict[str, Any] | None = None

    @classmethod
    def of(cls, run: ForecastRun, full: bool) -> ForecastRunRead:
        read = cls(
            id=run.id,
            area_code=run.area_code,
            kind=run.kind,
            status=run.status,
            progress=run.progress,
            created_by=run.created_by,
            created_at=run.created_at,
            started_at=run.started_at,
            finished_at=run.finished_at,
            error=run.error,
        )
        if full:
            read.inputs = json.loads(run.inputs)
            read.result = json.loads(run.result) if run.result else None
        return read
