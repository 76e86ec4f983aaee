"""Running a stored forecast or fit: reads its inputs, computes, writes progress and results.

Called in-process by the CLI and in a separate process (``flows.start``) by the web, so that a
long ensemble never blocks a page."""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any

import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from lianfang.db.engine import transaction
from lianfang.errors import ConflictError, LianfangError
from lianfang.forecast.ensemble import Forecast, forecast
from lianfang.forecast.fit import Observed, fit, forecast_after_fit, outcomes_after_fit
from lianfang.forecast.models import ForecastRun, RunKind, RunStatus
from lianfang.forecast.parameters import DiseaseParameters
from lianfang.forecast.population import Metapopulation
from lianfang.forecast.scenario import Scenario
from lianfang.forecast.service import check_reproducible, claim, fail, mark, this_process
from lianfang.forecast.severity import MEASURES
from lianfang.i18n import Text, _
from lianfang.pii import scrub

Tick = Callable[[float], None]
Report = Callable[[float, dict[str, Any] | None], None]
PROGRESS_EVERY_S = 0.5
"""The most often a run's progress is written (each write is a short transaction)."""
log = logging.getLogger("lianfang.forecast")


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


class Interrupted(Exception):
    """The run was failed by someone else meanwhile (its server stopped or restarted): stop."""


class Reporter:
    """Writes a run's progress as the worker goes: a short transaction at most every
    ``PROGRESS_EVERY_S`` (and for the last step), each checking the run is still this worker's
    to compute."""

    def __init__(self, factory: sessionmaker[Session], run_id: int, tick: Tick | None) -> None:
        self.factory, self.run_id, self.tick = factory, run_id, tick
        self.written = 0.0

    def __call__(self, share: float, detail: dict[str, Any] | None = None) -> None:
        if self.tick is not None:
            self.tick(share)
        now = time.monotonic()
        if now - self.written < PROGRESS_EVERY_S and share < 1.0:
            return
        self.written = now
        with transaction(self.factory) as session:
            current = session.get(ForecastRun, self.run_id)
            if current is None or current.status is not RunStatus.running:
                raise Interrupted
            mark(
                session=session,
                run=current,
                status=RunStatus.running,
                progress=share,
                detail=detail,
            )


def execute(
    factory: sessionmaker[Session],
    run_id: int,
    workers: int = 1,
    tick: Tick | None = None,
    scheduler: str | None = None,
) -> None:
    """Compute a run and store its result, or the reason it failed.

    A queued run is claimed first; a run already claimed (by the job queue or the CLI) is
    computed as this process's. Nothing is held open while computing: each progress mark is a
    short writing transaction of its own (on SQLite it takes the write lock at its start, waits
    its turn, and lets go at once), so a city ensemble running for minutes blocks no other
    writer. A failure is logged with its traceback (through the PII filter) and stored as a
    message people can read (``failure``), then raised as a ``LianfangError`` with it. A run
    failed meanwhile by someone else (its server restarted) stops without a word."""
    begun = _begin(factory, run_id)
    if begun is None:
        return
    inputs, kind = begun
    report = Reporter(factory, run_id, tick)
    try:
        result = (
            _forecast(inputs, workers, report, scheduler)
            if kind is RunKind.forecast
            else _fit(inputs, report)
        )
        with transaction(factory) as session:
            finished = session.get(ForecastRun, run_id)
            if finished is None or finished.status is not RunStatus.running:
                raise Interrupted
            mark(session=session, run=finished, status=RunStatus.done, progress=1.0, result=result)
    except Interrupted:
        log.warning("forecast run %s was stopped: it was failed meanwhile", run_id)
    except Exception as exc:
        log.exception("forecast run %s failed", run_id)
        reason = failure(exc, run_id)
        with transaction(factory) as session:
            failed = session.get(ForecastRun, run_id)
            if failed is not None and failed.status is RunStatus.running:
                fail(session=session, run=failed, reason=reason)
        raise LianfangError(reason) from exc
    if tick is not None:
        tick(1.0)


def _begin(factory: sessionmaker[Session], run_id: int) -> tuple[dict[str, Any], RunKind] | None:
    """Claim a run for this process and read its inputs (None: no such run, or it already
    ended). A run queued by another run format (an upgrade while it waited) is marked failed
    saying so, and nothing computed."""
    refused: ConflictError | None = None
    with transaction(factory) as session:
        run = session.get(ForecastRun, run_id)
        if run is None or run.status in (RunStatus.done, RunStatus.failed):
            return None
        inputs, kind = json.loads(run.inputs), run.kind
        try:
            check_reproducible(run)
        except ConflictError as exc:
            fail(session=session, run=run, reason=exc.text)
            refused = exc
        else:
            claim(run=run, worker=this_process())
            mark(session=session, run=run, status=RunStatus.running, progress=0.0)
    if refused is not None:
        raise refused
    return inputs, kind


def failure(exc: BaseException, run_id: int) -> Text:
    """What people are told when a run fails: what happened and what to do, never a
    traceback (that is in the log)."""
    if isinstance(exc, LianfangError):
        return exc.text
    if isinstance(exc, MemoryError):
        return _("the computation ran out of memory; try fewer members or days, or a smaller area")
    if isinstance(exc, ValueError | TypeError | KeyError):
        return _(
            "the stored inputs of this run cannot be computed (%(reason)s); start a new run",
            reason=scrub(str(exc))[:300],
        )
    return _(
        "the computation failed unexpectedly; the server's log has the details (run %(run)s)",
        run=run_id,
    )


def _forecast(
    inputs: dict[str, Any], workers: int, progress: Report, scheduler: str | None = None
) -> dict[str, Any]:
    pop = population_from(inputs)
    params = DiseaseParameters().with_values(**inputs.get("parameters", {}))
    scenarios = [Scenario.from_dict(s) for s in inputs["scenarios"]]
    out = []
    for index, scenario in enumerate(scenarios):

        def step(
            done: int, total: int, unit: str, index: int = index, name: str = scenario.name
        ) -> None:
            detail = {
                "scenario": index + 1,
                "scenarios": len(scenarios),
                "name": name,
                "done": done,
                "total": total,
                "unit": unit,
            }
            progress((index + done / total) / len(scenarios), detail)

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
            scheduler=scheduler,
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


def _fit(inputs: dict[str, Any], progress: Report) -> dict[str, Any]:
    pop = population_from(inputs)
    params = DiseaseParameters().with_values(**inputs.get("parameters", {}))
    scenario = Scenario.from_dict(inputs["scenarios"][0])
    series = {
        k: np.array([np.nan if v is None else v for v in values], dtype=np.float64)
        for k, values in inputs["observed"].items()
    }
    observed = Observed(date.fromisoformat(inputs["observed_start"]), series)
    until = date.fromisoformat(inputs["until"]) if inputs.get("until") else None
    progress(0.05, {"stage": "fit"})
    result = fit(pop, params, scenario, observed, until=until)
    progress(0.7, {"stage": "fit_forecast"})
    horizon = observed.days + int(inputs.get("days", 30))
    rng = np.random.default_rng(int(inputs.get("seed", 0)))
    bands = forecast_after_fit(pop, params, scenario, observed, result, horizon, until, rng)
    progress(0.75, {"stage": "fit_forecast"})
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
        progress=lambda done, total, _unit: progress(
            0.75 + 0.25 * done / total, {"stage": "fit_outcomes", "done": done, "total": total}
        ),
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
