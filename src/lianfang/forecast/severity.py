"""From onset to event: delays, bed census and demand for drugs.

Visits, admissions, ICU admissions and deaths counted at symptom onset are moved to the day they
happen by convolving with a discretised gamma delay (shape 2); bed census is admissions
convolved with the probability of still being in bed k days later (exponential stay)::

    events[t] = Σ_k onset[t − k] · P(delay = k)       census[t] = Σ_k admissions[t − k] · e^(−k/L)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import stats

from lianfang.forecast.engine import Trajectory
from lianfang.forecast.parameters import DiseaseParameters, FloatArray
from lianfang.forecast.population import HIGH_RISK_ELDERLY

MAX_LAG_DAYS = 45
MEASURES = (
    "infections",
    "symptomatic",
    "visits",
    "admissions",
    "icu_admissions",
    "hospital_census",
    "icu_census",
    "deaths",
    "antipyretic_courses",
    "antiviral_courses",
    "oxygen_patients",
    "oxygen_concentrators",
    "oxygen_cylinders",
)
MEDICINE_SEEKING = 0.6
"""Share of symptomatic cases that take an antipyretic course (assumption; Dec 2022 surveys)."""


OXYGEN_WARD_SHARE = 0.676
"""Share of patients in a ward bed (outside the ICU) who need supplemental oxygen. Source: 67.6%
of patients hospitalised with Omicron BA.1 needed supplemental oxygen (Mostafa et al., Johns
Hopkins Hospital system, Baltimore–Washington, Dec 2021–Jan 2022; reported by Xinhua, 28 Apr
2022). Assumption for Nantong: the same share among ward patients (no published share for
mainland China's Dec 2022 wave was found); see docs/forecast.md."""
OXYGEN_WARD_LPM = 10.0
"""Oxygen flow of a severe (ward) patient, litres a minute: WHO's planning average for severe
COVID-19 patients ("Oxygen sources and distribution for COVID-19 treatment centres", interim
guidance, 4 April 2020)."""
OXYGEN_ICU_LPM = 30.0
"""Oxygen flow of a critical (ICU) patient, litres a minute: WHO's planning average for critical
patients (same guidance). Every ICU patient is counted as needing oxygen (assumption)."""
CONCENTRATOR_LPM = 10.0
"""Output of one large oxygen concentrator, litres a minute (5–10 L/min for stationary
concentrators, WHO–UNICEF technical specifications for oxygen therapy devices, 2019): one
serves one ward patient at WHO's 10 L/min; ICU flows need cylinders or piped oxygen."""
CYLINDER_LITRES = 6800.0
"""Gas in one full J-size cylinder, litres (the large cylinder of WHO's oxygen guidance)."""


def delay_pmf(mean_days: float, shape: float = 2.0, max_lag: int = MAX_LAG_DAYS) -> FloatArray:
    """P(delay = k days), k = 0…max_lag, of a gamma delay with the given mean."""
    if mean_days <= 0:
        pmf = np.zeros(max_lag + 1)
        pmf[0] = 1.0
        return pmf
    edges = stats.gamma.cdf(np.arange(max_lag + 2) - 0.5, a=shape, scale=mean_days / shape)
    pmf = np.diff(np.clip(edges, 0.0, 1.0))
    return np.asarray(pmf / pmf.sum(), dtype=np.float64)


def stay_survival(mean_days: float, max_lag: int = MAX_LAG_DAYS) -> FloatArray:
    """P(still in bed k days after admission), exponential stay."""
    return np.asarray(np.exp(-np.arange(max_lag + 1) / mean_days), dtype=np.float64)


def convolve(series: FloatArray, kernel: FloatArray) -> FloatArray:
    """Σ_k series[t − k] · kernel[k] along the day axis, the second to last ((days, units), or
    (members, days, units) for runs side by side), same shape as ``series``."""
    # days first and contiguous: each lag is one contiguous block of rows, nearly twice as fast
    # for a batch of members as slices of the (members, days) layout; the same arithmetic
    by_day = np.ascontiguousarray(np.moveaxis(series, -2, 0))
    out = by_day * kernel[0]
    for lag in range(1, min(len(kernel), len(by_day))):
        out[lag:] += by_day[:-lag] * kernel[lag]
    return np.asarray(np.moveaxis(out, 0, -2), dtype=np.float64)


MINUTES_A_DAY = 24 * 60


def _eligible(run: Trajectory) -> FloatArray:
    """Onsets eligible for an antiviral course, per village: its onsets aged 65+ times its
    eligible share (red-grade people on the registry, else ``HIGH_RISK_ELDERLY``)."""
    share = run.antiviral_share
    if share is None:
        share = np.full(run.elderly_symptomatic.shape[-1], HIGH_RISK_ELDERLY)
    return np.asarray(run.elderly_symptomatic * share, dtype=np.float64)


def _ward_oxygen(get: Callable[[str], FloatArray]) -> FloatArray:
    """Patients on oxygen in ward beds: the share of those in hospital but not in the ICU."""
    ward = np.maximum(get("hospital_census") - get("icu_census"), 0.0)
    return np.asarray(ward * OXYGEN_WARD_SHARE, dtype=np.float64)


@dataclass(frozen=True, eq=False)
class Outcomes:
    """Every measure as (days, units) on the day it happens ((members, days, units) for a
    stacked run)."""

    series: dict[str, FloatArray]

    def __getitem__(self, name: str) -> FloatArray:
        return self.series[name]


def outcomes(
    run: Trajectory,
    params: DiseaseParameters,
    groups: np.ndarray | None = None,
    n_groups: int | None = None,
    measures: tuple[str, ...] = MEASURES,
) -> Outcomes:
    """Event-day series per village, or summed into ``groups`` (one index per village); only
    the ``measures`` asked for are computed.

    A stacked run (``engine.simulate_stacked``) is folded in one go, member by member the same
    arithmetic: each member's figures equal those of ``outcomes(run.member(m), ...)``."""
    onehot = None
    if groups is not None:
        width = n_groups if n_groups is not None else int(groups.max()) + 1
        onehot = np.zeros((len(groups), width))
        onehot[np.arange(len(groups)), groups] = 1.0
    done: dict[str, FloatArray] = {}

    def fold(x: FloatArray) -> FloatArray:
        return x if onehot is None else np.asarray(x @ onehot, dtype=np.float64)

    def get(name: str) -> FloatArray:
        if name not in done:
            done[name] = _build(name, run, params, fold, get)
        return done[name]

    return Outcomes({name: get(name) for name in measures})


def _build(
    name: str,
    run: Trajectory,
    params: DiseaseParameters,
    fold: Callable[[FloatArray], FloatArray],
    get: Callable[[str], FloatArray],
) -> FloatArray:
    """One measure, from the run or from measures already built."""
    p = params
    recipes: dict[str, Callable[[], FloatArray]] = {
        "infections": lambda: fold(run.infections),
        "symptomatic": lambda: fold(run.symptomatic),
        "visits": lambda: convolve(fold(run.visits_at_onset), delay_pmf(p.onset_to_visit_days)),
        "admissions": lambda: convolve(
            fold(run.admissions_at_onset), delay_pmf(p.onset_to_admission_days)
        ),
        "icu_admissions": lambda: convolve(
            fold(run.icu_at_onset), delay_pmf(p.onset_to_admission_days)
        ),
        "hospital_census": lambda: convolve(get("admissions"), stay_survival(p.hospital_stay_days)),
        "icu_census": lambda: convolve(get("icu_admissions"), stay_survival(p.icu_stay_days)),
        "deaths": lambda: convolve(fold(run.deaths_at_onset), delay_pmf(p.onset_to_death_days)),
        "antipyretic_courses": lambda: get("symptomatic") * MEDICINE_SEEKING,
        "antiviral_courses": lambda: fold(_eligible(run)),
        "oxygen_patients": lambda: _ward_oxygen(get) + get("icu_census"),
        "oxygen_concentrators": lambda: _ward_oxygen(get) * OXYGEN_WARD_LPM / CONCENTRATOR_LPM,
        "oxygen_cylinders": lambda: (
            (_ward_oxygen(get) * OXYGEN_WARD_LPM + get("icu_census") * OXYGEN_ICU_LPM)
            * MINUTES_A_DAY
            / CYLINDER_LITRES
        ),
    }
    if name not in recipes:
        raise ValueError(f"unknown measure {name!r}; known: {', '.join(MEASURES)}")
    return recipes[name]()
