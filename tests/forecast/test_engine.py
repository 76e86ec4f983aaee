"""The engine against what must hold: conservation, the final-size equation, no epidemic
without transmission, reproducible seeds, stochastic runs around the deterministic one."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import numpy as np
import pytest
from scipy.optimize import brentq

from lianfang.forecast import (
    DiseaseParameters,
    FestivalReturn,
    Measure,
    Metapopulation,
    Scenario,
    forecast,
    simulate,
)
from lianfang.forecast.engine import well_mixed

NO_IMMUNITY = DiseaseParameters(vaccinated=(0.0,) * 5, prior_immunity=(0.0,) * 5)


def villages(n: int = 40, seed: int = 3) -> Metapopulation:
    rng = np.random.default_rng(seed)
    residents = rng.integers(50, 900, size=(n, 5)).astype(float)
    town = np.arange(n) // 8
    return Metapopulation.from_arrays([f"v{i}" for i in range(n)], residents, town, town // 2)


@pytest.mark.parametrize(
    "rng", [None, np.random.default_rng(5)], ids=["deterministic", "stochastic"]
)
def test_people_are_conserved(rng: np.random.Generator | None) -> None:
    pop = villages()
    festival = FestivalReturn(date(2023, 1, 5), date(2023, 1, 20), 80.0, 0.1)
    run = simulate(pop, DiseaseParameters(), Scenario(festival=festival), days=90, rng=rng)
    returned = run.residents_end.sum() - pop.residents.sum()
    assert returned > 0
    assert np.isclose(run.residents_end.sum(), pop.residents.sum() + returned)
    assert (run.susceptible_end >= -1e-9).all()
    assert run.infections.sum() <= run.residents_end.sum()


@pytest.mark.parametrize("r0", [1.5, 2.0, 3.0])
def test_one_population_one_age_matches_the_final_size_equation(r0: float) -> None:
    pop = Metapopulation.single([0, 100_000, 0, 0, 0])
    params = NO_IMMUNITY.with_values(r0=r0, asymptomatic_fraction=(0.3,) * 5, market_every_days=0)
    run = simulate(pop, params, Scenario(seed_per_100k=10), days=600, steps_per_day=8)
    attack = run.infections.sum() / pop.total
    expected = brentq(lambda z: z - (1 - np.exp(-r0 * z)), 1e-6, 1.0)
    assert attack == pytest.approx(expected, abs=0.01)


@pytest.mark.parametrize(
    "rng", [None, np.random.default_rng(7)], ids=["deterministic", "stochastic"]
)
def test_well_mixed_ages_share_one_attack_rate_given_by_the_final_size_equation(
    rng: np.random.Generator | None,
) -> None:
    pop = Metapopulation.single([15_000, 60_000, 6_000, 14_000, 5_000])
    params = NO_IMMUNITY.with_values(r0=2.5, market_every_days=0)
    contacts = well_mixed(pop.residents.sum(axis=0))
    run = simulate(pop, params, Scenario(seed_per_100k=10), 600, rng=rng, contacts=contacts)
    expected = brentq(lambda z: z - (1 - np.exp(-2.5 * z)), 1e-6, 1.0)
    by_age = run.infections_by_age.sum(axis=0) / pop.residents.sum(axis=0)
    tolerance = 0.01 if rng is None else 0.03  # a chain binomial's final size varies a little
    assert by_age == pytest.approx(np.full(5, expected), abs=tolerance)
    default = simulate(pop, params, Scenario(seed_per_100k=10), 600, rng=None)
    assert default.infections.sum() / pop.total < expected - 0.005  # age structure lowers it


def test_no_transmission_means_no_epidemic() -> None:
    pop = villages()
    for params, scenario in (
        (DiseaseParameters(r0=0.0), Scenario()),
        (
            DiseaseParameters(),
            Scenario(measures=(Measure("lockdown", date(2022, 12, 1), contact_factor=0.0),)),
        ),
    ):
        run = simulate(pop, params, scenario, days=60)
        seeds = scenario.seed_per_100k * pop.total / 1e5
        assert run.infections.sum() == pytest.approx(0.0, abs=1e-9)
        assert run.symptomatic.sum() <= seeds + 1e-9


def test_seeded_runs_repeat_and_differ_between_seeds() -> None:
    pop = villages()
    a = simulate(pop, DiseaseParameters(), Scenario(), 80, rng=np.random.default_rng(11))
    b = simulate(pop, DiseaseParameters(), Scenario(), 80, rng=np.random.default_rng(11))
    c = simulate(pop, DiseaseParameters(), Scenario(), 80, rng=np.random.default_rng(12))
    assert np.array_equal(a.infections, b.infections)
    assert not np.array_equal(a.infections, c.infections)
    assert np.equal(np.mod(a.infections, 1), 0).all()  # whole people


def test_ensemble_brackets_the_deterministic_run() -> None:
    # that the number of workers changes nothing: tests/forecast/test_ensemble.py
    pop = villages(60)
    params = DiseaseParameters()
    start = Scenario(seed_per_100k=200)  # enough seeds that early chance does not dominate
    det = forecast(pop, params, start, 100)
    one = forecast(pop, params, start, 100, members=12, seed=4)
    total_det = det.bands["infections"][1, :, -1].sum()
    low, high = (one.bands["infections"][q, :, -1].sum() for q in (0, 2))
    assert 0.9 * low <= total_det <= 1.1 * high
    assert abs(one.peak_day[1, -1] - det.peak_day[1, -1]) <= 5


def test_measures_flatten_and_delay_the_peak_and_antivirals_cut_deaths() -> None:
    pop = villages(60)
    params = DiseaseParameters()
    base = forecast(pop, params, Scenario(), 150)
    measures = (
        Measure("distancing", date(2022, 12, 1), contact_factor=0.7),
        Measure("antivirals", date(2022, 12, 1), antiviral_coverage=0.8, oximetry_coverage=0.8),
    )
    flat = forecast(pop, params, Scenario(measures=measures), 150)
    assert flat.peak_height[1, -1] < base.peak_height[1, -1]
    assert flat.peak_day[1, -1] > base.peak_day[1, -1]
    ratio_deaths = flat.bands["deaths"][1].sum() / base.bands["deaths"][1].sum()
    ratio_infections = flat.bands["infections"][1].sum() / base.bands["infections"][1].sum()
    assert ratio_deaths < ratio_infections


def test_the_core_loads_no_database_or_web_code() -> None:
    code = (
        "import sys, lianfang.forecast.ensemble, lianfang.forecast.severity;"
        "bad = [m for m in ('sqlalchemy', 'fastapi', 'lianfang.db') if m in sys.modules];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="asymptomatic_fraction"):
        DiseaseParameters(asymptomatic_fraction=(0.2, 0.2))
    with pytest.raises(ValueError, match="vaccinated"):
        DiseaseParameters(vaccinated=(1.2, 0, 0, 0, 0))
    with pytest.raises(ValueError, match="residents"):
        Metapopulation.from_arrays(["a"], [[1, 2, 3]])


def test_village_peak_quantiles_match_numpy_ignoring_members_without_a_peak() -> None:
    from lianfang.forecast.ensemble import QUANTILES, _nanquantile

    rng = np.random.default_rng(8)
    days = rng.integers(0, 120, (50, 400)).astype(float)
    days[rng.random(days.shape) < 0.3] = np.nan
    days[:, :3] = np.nan  # no member has a peak there
    days[1:, 3], days[0, 3] = np.nan, 42.0  # one member has
    got = _nanquantile(days)
    assert np.isnan(got[:, :3]).all()
    assert (got[:, 3] == 42.0).all()
    assert np.array_equal(got[:, 3:], np.nanquantile(days[:, 3:], QUANTILES, axis=0))
