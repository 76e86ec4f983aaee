"""Fitting: recovers known parameters from noisy, gappy series and forecasts what it did not see."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from lianfang.forecast import DiseaseParameters, Metapopulation, Scenario
from lianfang.forecast.fit import FitResult, Observed, fit, simulate_series

TRUE_R0 = 2.8
TRUE_START = date(2022, 12, 1)  # the observations below start on the day the epidemic is seeded


@pytest.fixture(scope="module")
def county() -> Metapopulation:
    rng = np.random.default_rng(0)
    residents = rng.uniform(100, 1500, (120, 5))
    town = np.sort(rng.integers(0, 12, 120))
    return Metapopulation.from_arrays([f"v{i}" for i in range(120)], residents, town)


@pytest.fixture(scope="module")
def observed(county: Metapopulation) -> Observed:
    rng = np.random.default_rng(1)
    truth = simulate_series(county, DiseaseParameters(r0=TRUE_R0), Scenario(start=TRUE_START), 100)
    series = {
        name: rng.negative_binomial(30, 30 / (30 + truth[name] * share)).astype(float)
        for name, share in (("visits", 1.0), ("admissions", 0.7), ("positives", 0.2))
    }
    series["positives"][::7] = np.nan  # no reports on Sundays
    series["admissions"][40:45] = np.nan  # a gap
    return Observed(TRUE_START, series)


@pytest.fixture(scope="module")
def fitted(county: Metapopulation, observed: Observed) -> FitResult:
    # 42 days of data, the last a few days before the peak (day 47): forecast the rest
    return fit(county, DiseaseParameters(), Scenario(), observed, until=date(2023, 1, 12))


def test_the_fit_recovers_r0_and_reporting(fitted: FitResult) -> None:
    value, low, high = fitted.estimates["r0"]
    assert low <= TRUE_R0 <= high
    assert abs(value - TRUE_R0) < 0.25
    assert 0.2 / 1.5 <= fitted.estimates["scale_positives"][0] <= 0.2 * 1.5
    assert abs((fitted.start - TRUE_START).days) <= 3
    assert fitted.converged


def test_fitting_part_of_the_series_forecasts_the_rest(fitted: FitResult) -> None:
    for name in ("visits", "admissions", "positives"):
        quality = fitted.quality[name]
        assert quality["forecast_coverage_90"] >= 0.6, (name, quality)
        assert quality["forecast_relative_error"] < 0.6, (name, quality)


def test_bad_observations_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown series"):
        Observed(date(2022, 12, 1), {"cases": np.ones(5)})
    with pytest.raises(ValueError, match="same days"):
        Observed(date(2022, 12, 1), {"visits": np.ones(5), "admissions": np.ones(6)})
    with pytest.raises(ValueError, match="non-negative"):
        Observed(date(2022, 12, 1), {"visits": -np.ones(5)})
    with pytest.raises(ValueError, match="no observed day"):
        Observed(date(2022, 12, 1), {"visits": np.full(5, np.nan)})
