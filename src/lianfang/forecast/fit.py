"""Fitting the model to what is observed, by maximum likelihood.

Free parameters θ: log R0; the epidemic's offset t0 in days (the whole run is shifted, by linear
interpolation, so the objective stays smooth); for each observed series a log scale factor on
the modelled series (reporting of positives against symptomatic onsets, fever-clinic attendance,
admission share); and the log dispersion k of a negative-binomial observation model::

    y_s,t ~ NegBin(mean = ρ_s · m_s(t − t0; R0), dispersion k)
    log ρ_s ~ Normal(log ρ̄_s, σ_s²)     (weak priors: early growth alone cannot tell a larger,
                                          later epidemic seen less from a smaller, earlier one)

The posterior mode is found by Nelder–Mead from the best point of a coarse grid over R0 and t0;
95% intervals come from the inverse Hessian (Laplace); forecast bands from parameter draws plus
negative-binomial noise. Missing days are NaN.

>>> import numpy as np
>>> from datetime import date
>>> from lianfang.forecast import DiseaseParameters, Metapopulation, Scenario
>>> pop = Metapopulation.single([15_000, 60_000, 8_000, 14_000, 3_000])
>>> truth = simulate_series(pop, DiseaseParameters(r0=2.5), Scenario(), 90)
>>> seen = Observed(date(2022, 12, 1), {"visits": np.round(truth["visits"])})
>>> result = fit(pop, DiseaseParameters(), Scenario(), seen)
>>> bool(abs(result.estimates["r0"][0] - 2.5) < 0.3)
True
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import numpy as np
from scipy import optimize, stats

from lianfang.forecast.engine import simulate, simulate_stacked
from lianfang.forecast.ensemble import Folded, Forecast, Progress, fold, summarise
from lianfang.forecast.parameters import DiseaseParameters, FloatArray
from lianfang.forecast.population import Metapopulation
from lianfang.forecast.scenario import Scenario
from lianfang.forecast.severity import outcomes

SERIES = {  # observed name → modelled measure it is proportional to
    "positives": "symptomatic",
    "visits": "visits",
    "admissions": "admissions",
    "hospital_census": "hospital_census",
}
OUTCOME_DRAWS = 40
"""Parameter draws (one deterministic run each) behind the 5–95% bands of a fit's outcomes."""
LEAD_DAYS = 40  # the model starts this long before the first observation, so t0 can go either way
PRIORS = {  # observed series → (mean, sd) of log ρ: what share of the modelled series is seen
    "positives": (float(np.log(0.3)), 1.0),
    "visits": (0.0, 0.5),
    "admissions": (0.0, 0.5),
    "hospital_census": (0.0, 0.5),
}


@dataclass(frozen=True, eq=False)
class Observed:
    """Daily counts for the whole fitted area from ``start``; NaN where nothing was reported."""

    start: date
    series: dict[str, FloatArray]

    def __post_init__(self) -> None:
        unknown = set(self.series) - set(SERIES)
        if unknown:
            raise ValueError(f"unknown series {sorted(unknown)}; use {sorted(SERIES)}")
        if not self.series:
            raise ValueError("give at least one observed series")
        lengths = {len(v) for v in self.series.values()}
        if len(lengths) != 1:
            raise ValueError("every series must cover the same days")
        for name, values in self.series.items():
            finite = values[np.isfinite(values)]
            if (finite < 0).any():
                raise ValueError(f"{name}: counts must be non-negative")
            if finite.size == 0:
                raise ValueError(f"{name}: no observed day")

    @property
    def days(self) -> int:
        return len(next(iter(self.series.values())))

    def until(self, last: date | None) -> Observed:
        """The observations up to and including ``last`` (the rest become NaN)."""
        if last is None:
            return self
        keep = (last - self.start).days + 1
        cut = {k: np.where(np.arange(len(v)) < keep, v, np.nan) for k, v in self.series.items()}
        return Observed(self.start, cut)


MAX_DISPERSION = 1e4
"""Beyond this the negative binomial is Poisson for all practical purposes; capping it keeps an
unidentifiable dispersion (Poisson-like data) from producing absurd draws."""


def _dispersion(log_k: float) -> float:
    return float(np.clip(np.exp(log_k), 0.5, MAX_DISPERSION))


def simulate_series(
    pop: Metapopulation,
    params: DiseaseParameters,
    scenario: Scenario,
    days: int,
    steps_per_day: int | None = None,
) -> dict[str, FloatArray]:
    """The observable series of a deterministic run, summed over the population."""
    run = simulate(pop, params, scenario, days, steps_per_day=steps_per_day)
    folded = outcomes(
        run, params, np.zeros(pop.villages, dtype=np.int64), 1, tuple(SERIES.values())
    ).series
    return {name: folded[measure][:, 0] for name, measure in SERIES.items()}


@dataclass(frozen=True)
class FitResult:
    """Estimates with 95% intervals, fit quality, and what the optimiser did."""

    estimates: dict[str, tuple[float, float, float]]  # name → (value, low, high)
    start: date  # the fitted epidemic start (seeding day)
    log_likelihood: float
    observations: int
    quality: dict[str, dict[str, float]]
    evaluations: int
    seconds: float
    converged: bool
    message: str
    theta: tuple[float, ...]
    covariance: tuple[tuple[float, ...], ...] | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "estimates": {k: list(v) for k, v in self.estimates.items()},
            "start": self.start.isoformat(),
            "log_likelihood": self.log_likelihood,
            "observations": self.observations,
            "quality": self.quality,
            "evaluations": self.evaluations,
            "seconds": self.seconds,
            "converged": self.converged,
            "message": self.message,
        }


class _Problem:
    """−log L(θ) for one population, scenario and set of observations."""

    def __init__(
        self,
        pop: Metapopulation,
        params: DiseaseParameters,
        scenario: Scenario,
        observed: Observed,
        horizon: int,
    ) -> None:
        self.pop, self.params, self.observed = pop, params, observed
        self.names = sorted(observed.series)
        self.scenario = replace(scenario, start=observed.start - timedelta(days=LEAD_DAYS))
        self.horizon = horizon
        self.evaluations = 0

    def unpack(self, theta: FloatArray) -> tuple[float, float, dict[str, float], float]:
        scales = {n: float(np.exp(theta[2 + i])) for i, n in enumerate(self.names)}
        return float(np.exp(theta[0])), float(theta[1]), scales, float(np.exp(theta[-1]))

    def expected(self, theta: FloatArray, days: int) -> dict[str, FloatArray]:
        """Modelled means per observed series on the observation days 0…days−1."""
        r0, shift, scales, _k = self.unpack(theta)
        model = simulate_series(
            self.pop, self.params.with_values(r0=r0), self.scenario, LEAD_DAYS + days + 5
        )
        grid = np.arange(days) + LEAD_DAYS - shift
        axis = np.arange(len(model["visits"]))
        return {
            n: np.maximum(np.interp(grid, axis, model[n], left=0.0) * scales[n], 1e-9)
            for n in self.names
        }

    def __call__(self, theta: FloatArray) -> float:
        self.evaluations += 1
        if not -LEAD_DAYS + 1 <= theta[1] <= 60 or not np.log(0.3) <= theta[0] <= np.log(20):
            return 1e12
        k = _dispersion(theta[-1])
        means = self.expected(theta, self.observed.days)
        total = 0.0
        for name in self.names:
            y = self.observed.series[name]
            seen = np.isfinite(y)
            mu = means[name][seen]
            total += float(stats.nbinom.logpmf(np.round(y[seen]), k, k / (k + mu)).sum())
            mean, sd = PRIORS[name]
            total -= 0.5 * ((theta[2 + self.names.index(name)] - mean) / sd) ** 2
        return -total if np.isfinite(total) else 1e12


def fit(
    pop: Metapopulation,
    params: DiseaseParameters,
    scenario: Scenario,
    observed: Observed,
    until: date | None = None,
    max_evaluations: int = 1500,
) -> FitResult:
    """Fit R0, start and reporting to the observations (those up to ``until`` only)."""
    began = time.perf_counter()
    used = observed.until(until)
    problem = _Problem(pop, params, scenario, used, used.days)
    best = None
    for start in _starting_points(problem, keep=1):
        found = optimize.minimize(
            problem,
            start,
            method="Nelder-Mead",
            options={
                "maxfev": max_evaluations,
                "xatol": 1e-3,
                "fatol": 1e-2,
                "initial_simplex": _simplex(start),
            },
        )
        if best is None or found.fun < best.fun:
            best = found
    assert best is not None
    covariance = _covariance(problem, best.x)
    return _result(problem, best, covariance, observed, until, time.perf_counter() - began)


def _simplex(start: FloatArray) -> FloatArray:
    """A first simplex sized to each parameter: ±0.1 on log R0, 3 days, 0.3 on log scales."""
    steps = np.full(len(start), 0.3)
    steps[0], steps[1], steps[-1] = 0.1, 3.0, 0.5
    return np.vstack([start, start + np.diag(steps)])


def _starting_points(problem: _Problem, keep: int) -> list[FloatArray]:
    """The best few points of a coarse grid over R0 and the offset, scales at their priors."""
    scales = [PRIORS[n][0] for n in problem.names]
    grid = [
        np.array([np.log(r0), shift, *scales, np.log(10.0)])
        for r0 in (1.5, 2.2, 3.2, 4.5)
        for shift in range(-30, 61, 10)
    ]
    return sorted(grid, key=problem)[:keep]


def _covariance(problem: _Problem, theta: FloatArray) -> FloatArray | None:
    """Inverse of the finite-difference Hessian of −log L at the optimum.

    When the dispersion is not identified (Poisson-like data: the likelihood is flat in k), it
    is held at its estimate and the other parameters keep their uncertainty."""
    hessian = _hessian(problem, theta)
    for keep in (len(theta), len(theta) - 1):
        block = hessian[:keep, :keep]
        try:
            inverse = np.linalg.inv(block)
        except np.linalg.LinAlgError:
            continue
        if np.all(np.linalg.eigvalsh((inverse + inverse.T) / 2) > 0):
            covariance = np.zeros_like(hessian)
            covariance[:keep, :keep] = inverse
            return covariance
    return None


def _hessian(problem: _Problem, theta: FloatArray) -> FloatArray:
    """Central finite differences of −log L."""
    n = len(theta)
    step = np.full(n, 1e-3)
    step[1] = 1.0  # days: the run is interpolated between days, so smaller steps see its kinks
    hessian = np.zeros((n, n))
    for i in range(n):
        for j in range(i, n):
            ei, ej = np.eye(n)[i] * step[i], np.eye(n)[j] * step[j]
            value = (
                problem(theta + ei + ej)
                - problem(theta + ei - ej)
                - problem(theta - ei + ej)
                + problem(theta - ei - ej)
            ) / (4 * step[i] * step[j])
            hessian[i, j] = hessian[j, i] = value
    return hessian


def _interval(value: float, sd: float, log: bool) -> tuple[float, float, float]:
    if not np.isfinite(sd):
        return (float(np.exp(value)) if log else value, float("nan"), float("nan"))
    low, high = value - 1.96 * sd, value + 1.96 * sd
    if log:
        return float(np.exp(value)), float(np.exp(low)), float(np.exp(high))
    return value, low, high


def _result(
    problem: _Problem,
    best: Any,
    covariance: FloatArray | None,
    observed: Observed,
    until: date | None,
    seconds: float,
) -> FitResult:
    theta = np.asarray(best.x, dtype=np.float64)
    sd = np.sqrt(np.diag(covariance)) if covariance is not None else np.full(len(theta), np.nan)
    estimates = {
        "r0": _interval(theta[0], sd[0], log=True),
        "shift_days": _interval(theta[1], sd[1], log=False),
    }
    for i, name in enumerate(problem.names):
        estimates[f"scale_{name}"] = _interval(theta[2 + i], sd[2 + i], log=True)
    estimates["dispersion"] = _interval(
        float(np.log(_dispersion(theta[-1]))), sd[-1] if sd[-1] > 0 else float("nan"), log=True
    )
    start = problem.scenario.start + timedelta(days=round(float(theta[1])))
    bands = predictive(
        problem, theta, covariance, observed.days, draws=40, rng=np.random.default_rng(0)
    )
    cut = observed.days if until is None else (until - observed.start).days + 1
    quality = {name: _quality(observed.series[name], bands[name], cut) for name in problem.names}
    seen = sum(int(np.isfinite(problem.observed.series[n]).sum()) for n in problem.names)
    return FitResult(
        estimates=estimates,
        start=start,
        log_likelihood=-float(best.fun),
        observations=seen,
        quality=quality,
        evaluations=problem.evaluations,
        seconds=seconds,
        converged=bool(best.success),
        message=str(best.message),
        theta=tuple(map(float, theta)),
        covariance=None if covariance is None else tuple(tuple(map(float, r)) for r in covariance),
    )


def predictive(
    problem: _Problem,
    theta: FloatArray,
    covariance: FloatArray | None,
    days: int,
    draws: int,
    rng: np.random.Generator,
) -> dict[str, FloatArray]:
    """5%, 50% and 95% of the observations to expect, per series and day: parameter draws from
    the Laplace approximation, then negative-binomial noise."""
    thetas = (
        [theta]
        if covariance is None
        else list(rng.multivariate_normal(theta, covariance, size=draws))
    )
    samples: dict[str, list[FloatArray]] = {n: [] for n in problem.names}
    for t in thetas:
        k = _dispersion(t[-1])
        for name, mu in problem.expected(np.asarray(t), days).items():
            draw = rng.negative_binomial(k, k / (k + mu), size=(5, days))
            samples[name].append(draw.astype(np.float64))
    return {
        n: np.quantile(np.concatenate(s), (0.05, 0.5, 0.95), axis=0) for n, s in samples.items()
    }


def _quality(observed: FloatArray, band: FloatArray, cut: int) -> dict[str, float]:
    """R² on the square-root scale and relative error, in the fitted window and after it, and
    how often the later observations fell inside the 90% band."""
    out: dict[str, float] = {}
    days = np.arange(len(observed))
    for label, window in (("fit", days < cut), ("forecast", days >= cut)):
        seen = window & np.isfinite(observed)
        if seen.sum() < 2:
            continue
        y, m = np.sqrt(observed[seen]), np.sqrt(band[1][seen])
        total = float(((y - y.mean()) ** 2).sum())
        out[f"{label}_r2_sqrt"] = 1.0 - float(((y - m) ** 2).sum()) / total if total else 0.0
        out[f"{label}_relative_error"] = float(
            np.abs(observed[seen] - band[1][seen]).sum() / max(observed[seen].sum(), 1.0)
        )
        inside = (observed[seen] >= band[0][seen]) & (observed[seen] <= band[2][seen])
        out[f"{label}_coverage_90"] = float(inside.mean())
    return out


def forecast_after_fit(
    pop: Metapopulation,
    params: DiseaseParameters,
    scenario: Scenario,
    observed: Observed,
    result: FitResult,
    days: int,
    until: date | None,
    rng: np.random.Generator,
    draws: int = 40,
) -> dict[str, FloatArray]:
    """5/50/95% of each observed series for ``days`` from the first observation, from the
    fitted parameters and their uncertainty."""
    problem = _Problem(pop, params, scenario, observed.until(until), days)
    covariance = None if result.covariance is None else np.asarray(result.covariance)
    return predictive(problem, np.asarray(result.theta), covariance, days, draws, rng)


def outcomes_after_fit(
    pop: Metapopulation,
    params: DiseaseParameters,
    scenario: Scenario,
    observed: Observed,
    result: FitResult,
    days: int,
    rng: np.random.Generator,
    groups: list[int] | None = None,
    group_names: list[str] | None = None,
    draws: int = OUTCOME_DRAWS,
    progress: Progress | None = None,
) -> Forecast:
    """Every outcome of a plain run (infections … deaths, beds, drug courses, per group, each
    village's peak day) for ``days`` from the first observation, with 5–95% bands from the
    fitted parameters' uncertainty.

    R0 and the start are drawn ``draws`` times from the Laplace approximation of their
    posterior (the fit's mode and inverse Hessian, as the observation bands are); each draw is
    one deterministic run, shifted by its start as the fit shifts it, and the bands are the
    draws' 5%, 50% and 95% (no observation noise: these are the model's own figures, not what
    will be reported). Without a covariance (the data did not identify the parameters) the
    bands are the mode's single run. The reporting scales are not applied: they say what share
    of the model's series the observations count."""
    index = np.asarray(pop.county if groups is None else groups, dtype=np.int64)
    n_groups = int(index.max()) + 1 if len(index) else 0
    names = tuple(group_names or [str(g) for g in range(n_groups)])
    theta = np.asarray(result.theta, dtype=np.float64)
    thetas = (
        [theta]
        if result.covariance is None
        else list(rng.multivariate_normal(theta, np.asarray(result.covariance), size=draws))
    )
    model_start = observed.start - timedelta(days=LEAD_DAYS)
    folded: list[Folded] = []
    for done, drawn in enumerate(thetas):
        r0 = float(np.exp(np.clip(drawn[0], np.log(0.3), np.log(20))))
        shift = float(np.clip(drawn[1], -LEAD_DAYS + 1, 60))
        length = LEAD_DAYS + days + int(np.ceil(max(0.0, -shift))) + 2
        run = simulate_stacked(
            pop, params.with_values(r0=r0), replace(scenario, start=model_start), length, None, 1
        )
        series, peaks = fold(run, params, index, n_groups)
        where = np.arange(days, dtype=np.float64) + (LEAD_DAYS - shift)  # model day of each day
        folded.append(({k: _at(v, where) for k, v in series.items()}, peaks - LEAD_DAYS + shift))
        if progress is not None:
            progress(done + 1, len(thetas), "draws")
    beds = replace(scenario, start=observed.start).daily(days).surge_beds
    return summarise(observed.start, names, len(thetas), folded, beds)


def _at(values: FloatArray, where: FloatArray) -> FloatArray:
    """(members, days, groups) values at fractional day indices, linearly interpolated (0
    before the first day), as the fit reads its runs."""
    below = np.floor(where).astype(np.int64)
    weight = (where - below)[None, :, None]
    padded = np.concatenate([np.zeros_like(values[:, :1]), values], axis=1)  # index −1 → 0
    low = padded[:, np.clip(below + 1, 0, padded.shape[1] - 1)]
    high = padded[:, np.clip(below + 2, 0, padded.shape[1] - 1)]
    return np.asarray(low * (1.0 - weight) + high * weight, dtype=np.float64)
