"""Running a stored forecast or fit: reads its inputs, computes, writes progress and results.

Called in-process by the CLI and in a separate process (``flows.start``) by the web, so that a
long ensemble never blocks a page."""

from __future__ import annotations

import json
import math
import traceback
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any

import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from lianfang.db.engine import transaction
from lianfang.errors import ConflictError
from lianfang.forecast.ensemble import Forecast, forecast
from lianfang.forecast.fit import Observed, fit, forecast_after_fit, outcomes_after_fit
from lianfang.forecast.models import ForecastRun, RunKind, RunStatus
from lianfang.forecast.parameters import DiseaseParameters
from lianfang.forecast.population import Metapopulation
from lianfang.forecast.scenario import Scenario
from lianfang.forecast.service import check_reproducible, mark
from lianfang.forecast.severity import MEASURES

Tick = Callable[[float], None]


def population_from(inputs: dict[str, Any]) -> Metapopulation:
    """The population exactly as it was when the run was queued."""
    return Metapopulation.from_arrays(
        inputs["codes"],
        inputs["residents"],
        inputs["town"],
        inputs["county"],
        inputs.get("seed_weight"),
        inputs.get("high_risk"),
    )


def execute(
    factory: sessionmaker[Session], run_id: int, workers: int = 1, tick: Tick | None = None
) -> None:
    """Compute a queued run and store its result (or its error).

    Nothing is held open while computing: each progress mark is a short writing transaction of
    its own (on SQLite it takes the write lock at its start, waits its turn, and lets go at
    once), so a city ensemble running for minutes blocks no other writer."""
    begun = _begin(factory, run_id)
    if begun is None:
        return
    inputs, kind = begun

    def progress(share: float) -> None:
        with transaction(factory) as session:
            current = session.get(ForecastRun, run_id)
            if current is not None:
                mark(session=session, run=current, status=RunStatus.running, progress=share)
        if tick is not None:
            tick(share)

    try:
        result = (
            _forecast(inputs, workers, progress)
            if kind is RunKind.forecast
            else _fit(inputs, progress)
        )
    except Exception as exc:
        with transaction(factory) as session:
            failed = session.get(ForecastRun, run_id)
            if failed is not None:
                mark(
                    session=session,
                    run=failed,
                    status=RunStatus.failed,
                    error=f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}",
                )
        raise
    with transaction(factory) as session:
        finished = session.get(ForecastRun, run_id)
        if finished is not None:
            mark(session=session, run=finished, status=RunStatus.done, progress=1.0, result=result)


def _begin(factory: sessionmaker[Session], run_id: int) -> tuple[dict[str, Any], RunKind] | None:
    """Mark a run as running and read its inputs (None: no such run). A run queued by another
    run format (an upgrade while it waited) is marked failed saying so, and nothing computed."""
    refused: ConflictError | None = None
    with transaction(factory) as session:
        run = session.get(ForecastRun, run_id)
        if run is None:
            return None
        inputs, kind = json.loads(run.inputs), run.kind
        try:
            check_reproducible(run)
        except ConflictError as exc:
            mark(session=session, run=run, status=RunStatus.failed, error=str(exc))
            refused = exc
        else:
            mark(session=session, run=run, status=RunStatus.running, progress=0.0)
    if refused is not None:
        raise refused
    return inputs, kind


def _forecast(inputs: dict[str, Any], workers: int, progress: Tick) -> dict[str, Any]:
    pop = population_from(inputs)
    params = DiseaseParameters().with_values(**inputs.get("parameters", {}))
    scenarios = [Scenario.from_dict(s) for s in inputs["scenarios"]]
    out = []
    for index, scenario in enumerate(scenarios):

        def step(done: int, total: int, index: int = index) -> None:
            progress((index + done / total) / len(scenarios))

        result = forecast(
            pop,
            params,
            scenario,
            inputs["days"],
            members=inputs["members"],
            seed=inputs["seed"],
            groups=inputs["groups"],
            group_names=inputs["group_names"],
            workers=workers,
            progress=step,
        )
        out.append(_summary(scenario, result, inputs))
    return {
        "scenarios": out,
        "group_codes": inputs["group_codes"],
        "group_names": inputs["group_names"],
    }


def _round(values: np.ndarray) -> list[Any]:
    rounded: list[Any] = np.round(values, 1).tolist()
    return rounded


def _summary(scenario: Scenario, result: Forecast, inputs: dict[str, Any]) -> dict[str, Any]:
    """What is stored for one scenario: bands per measure and group, peaks, village peak days."""
    return {
        "name": scenario.name,
        "start": scenario.start.isoformat(),
        "days": result.days,
        "members": result.members,
        "peaks": result.peak_table(),
        "bands": {
            m: {
                "low": _round(result.bands[m][0].T),
                "median": _round(result.bands[m][1].T),
                "high": _round(result.bands[m][2].T),
            }
            for m in MEASURES
        },
        "village_peak_day": [
            None if not np.isfinite(d) else round(float(d)) for d in result.village_peak_day
        ],
        "surge_beds": result.surge_beds.tolist(),
    }


def _fit(inputs: dict[str, Any], progress: Tick) -> dict[str, Any]:
    pop = population_from(inputs)
    params = DiseaseParameters().with_values(**inputs.get("parameters", {}))
    scenario = Scenario.from_dict(inputs["scenarios"][0])
    series = {
        k: np.array([np.nan if v is None else v for v in values], dtype=np.float64)
        for k, values in inputs["observed"].items()
    }
    observed = Observed(date.fromisoformat(inputs["observed_start"]), series)
    until = date.fromisoformat(inputs["until"]) if inputs.get("until") else None
    progress(0.05)
    result = fit(pop, params, scenario, observed, until=until)
    progress(0.7)
    horizon = observed.days + int(inputs.get("days", 30))
    rng = np.random.default_rng(int(inputs.get("seed", 0)))
    bands = forecast_after_fit(pop, params, scenario, observed, result, horizon, until, rng)
    progress(0.75)
    outcomes = outcomes_after_fit(
        pop,
        params,
        scenario,
        observed,
        result,
        horizon,
        rng,
        groups=inputs["groups"],
        group_names=inputs["group_names"],
        progress=lambda done, total: progress(0.75 + 0.25 * done / total),
    )
    fitted = replace(scenario, start=observed.start)
    return {
        "scenarios": [_summary(fitted, outcomes, inputs)],
        "group_codes": inputs["group_codes"],
        "group_names": inputs["group_names"],
        **result.as_dict(),
        "observed_start": observed.start.isoformat(),
        "observed": {
            k: [None if math.isnan(x) else x for x in v.tolist()]
            for k, v in observed.series.items()
        },
        "predicted": {
            k: {"low": _round(v[0]), "median": _round(v[1]), "high": _round(v[2])}
            for k, v in bands.items()
        },
    }
