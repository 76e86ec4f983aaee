"""The forecast service's shared pieces: inputs, queueing with the population, results."""

from __future__ import annotations

import json

from sqlalchemy.orm import Session

from lianfang.auth.scope import SYSTEM
from lianfang.forecast import service
from lianfang.forecast.models import RunKind, RunStatus
from lianfang.forecast.presets import PRESETS
from tests.factories import TOWN


def test_inputs_default_to_the_presets() -> None:
    inputs = service.forecast_inputs(days=30, members=4, seed=1)
    assert [s["name"] for s in inputs["scenarios"]] == [make().name for make in PRESETS.values()]
    assert inputs["parameters"] == {}
    chosen = service.forecast_inputs(days=30, members=0, seed=0, scenarios=[{"name": "x"}])
    assert chosen["scenarios"] == [{"name": "x"}]


def test_queue_stores_the_area_population_and_result_waits_for_done(session: Session) -> None:
    inputs = service.forecast_inputs(days=30, members=0, seed=0)
    run = service.queue(
        session=session, actor=SYSTEM, code=TOWN, kind=RunKind.forecast, inputs=inputs
    )
    stored = service.get_run(session=session, actor=SYSTEM, run_id=run.id)
    assert stored.status is RunStatus.queued
    assert service.result_of(stored) is None
    model = service.population_for(session=session, actor=SYSTEM, code=TOWN)
    assert json.loads(stored.inputs)["codes"] == list(model.population.codes)
    service.mark(session=session, run=stored, status=RunStatus.done, result={"peak": float("nan")})
    assert service.result_of(stored) == {"peak": None}
