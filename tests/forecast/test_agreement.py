"""The engine agrees with itself: deterministic and stochastic runs, and runs at different steps,
follow the same continuous-time model (issue 13 §6), checked on 如东县 of the demo world."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy.optimize import brentq

from lianfang.areas.choices import AreaLevel
from lianfang.areas.files import JIANGSU, read_divisions
from lianfang.demo.population import city_bands, is_community
from lianfang.demo.world import census_totals
from lianfang.forecast import DiseaseParameters, Metapopulation, Scenario, forecast, simulate
from lianfang.forecast.engine import Stepping, transmission_rate, well_mixed
from lianfang.forecast.ensemble import _peak_days
from lianfang.forecast.presets import PRESETS
from lianfang.forecast.service import RURAL_SEED_WEIGHT

RUDONG = "320623000000"
DAYS = 120
MEMBERS = 40


@pytest.fixture(scope="module")
def rudong() -> Metapopulation:
    """如东县's 261 villages with the residents the demo world gives them (seed 1): every
    Nantong county's census total split by ``city_bands`` as ``demo.world`` does, the first
    infections weighted towards urban communities as ``forecast.service`` does."""
    totals = census_totals()
    by_county: dict[str, list[Any]] = {}
    for v in sorted(read_divisions(JIANGSU, within="3206"), key=lambda r: r.code):
        if v.level is AreaLevel.village:
            by_county.setdefault(v.code[:6].ljust(12, "0"), []).append(v)
    counties = [c for c in sorted(by_county) if c in totals]
    matrices = city_bands(
        [totals[c] for c in counties],
        [[is_community(v.name) for v in by_county[c]] for c in counties],
        np.random.default_rng([1, 2020]),
    )
    villages = by_county[RUDONG]
    towns = sorted({v.code[:9] for v in villages})
    return Metapopulation.from_arrays(
        [v.code for v in villages],
        matrices[counties.index(RUDONG)].astype(float),
        [towns.index(v.code[:9]) for v in villages],
        [0] * len(villages),
        [1.0 if is_community(v.name) else RURAL_SEED_WEIGHT for v in villages],
    )


@pytest.mark.parametrize("preset", ["baseline", "protect"])
def test_the_deterministic_run_and_the_ensemble_agree(rudong: Metapopulation, preset: str) -> None:
    scenario = PRESETS[preset]()
    det = forecast(rudong, DiseaseParameters(), scenario, DAYS)
    ens = forecast(rudong, DiseaseParameters(), scenario, DAYS, members=MEMBERS, seed=1)
    assert abs(det.peak_day[1, -1] - ens.peak_day[1, -1]) <= 1
    curve = det.bands["symptomatic"][1, :, -1]
    low, _, high = ens.bands["symptomatic"][:, :, -1]
    assert np.mean((curve >= low) & (curve <= high)) >= 0.9
    total, median_total = curve.sum(), ens.bands["symptomatic"][1, :, -1].sum()
    assert total == pytest.approx(median_total, rel=0.01)


@pytest.mark.parametrize("preset", ["baseline", "protect"])
@pytest.mark.parametrize("stochastic", [False, True], ids=["deterministic", "stochastic"])
def test_halving_the_step_moves_the_peak_by_a_day_at_most(
    rudong: Metapopulation, preset: str, stochastic: bool
) -> None:
    scenario = PRESETS[preset]()
    peaks = []
    for steps in (1, 2):
        if stochastic:  # the median member's peak
            from lianfang.forecast.engine import simulate_stacked

            runs = simulate_stacked(
                rudong, DiseaseParameters(), scenario, DAYS, np.random.default_rng(3), 20, steps
            )
            peaks.append(float(np.median(_peak_days(runs.symptomatic.sum(axis=2), axis=1))))
        else:
            run = simulate(rudong, DiseaseParameters(), scenario, DAYS, steps_per_day=steps)
            peaks.append(float(_peak_days(run.symptomatic.sum(axis=1)[None], axis=1)[0]))
    assert abs(peaks[0] - peaks[1]) <= 1


@pytest.mark.parametrize("steps", [1, 2, 4])
def test_early_growth_is_the_continuous_seir_s_at_any_step(steps: int) -> None:
    # one well-mixed band, no asymptomatic cases: r solves (1 + r T_E)(1 + r T_I) = R0
    pop = Metapopulation.single([0, 10_000_000, 0, 0, 0])
    params = DiseaseParameters(
        r0=2.5,
        vaccinated=(0.0,) * 5,
        asymptomatic_fraction=(0.0,) * 5,
        market_every_days=0,
    )
    run = simulate(pop, params, Scenario(seed_per_100k=1), 60, steps_per_day=steps)
    new = run.infections.sum(axis=1)
    rate = float(np.polyfit(np.arange(10, 25), np.log(new[10:25]), 1)[0])  # < 0.5% infected
    expected = brentq(lambda r: (1 + 2.0 * r) * (1 + 3.0 * r) - 2.5, 0.0, 5.0)
    assert rate == pytest.approx(expected, rel=0.015)


@pytest.mark.parametrize("dt", [1.0, 0.5, 0.25])
def test_a_step_s_chances_are_the_continuous_chain_s(dt: float) -> None:
    params = DiseaseParameters(latent_days=2.0, infectious_days=3.0)
    step = Stepping.of(params, dt)
    b, c = 0.5, 1 / 3
    # from E: leave, and of those also recover, within dt (integrating the chain numerically)
    t = np.linspace(0.0, dt, 200_001)
    in_i = b / (c - b) * (np.exp(-b * t) - np.exp(-c * t))
    assert step.p_onset == pytest.approx(1 - np.exp(-b * dt))
    assert step.p_onset - step.p_onset_recover == pytest.approx(in_i[-1], rel=1e-9)
    assert step.p_recover == pytest.approx(1 - np.exp(-c * dt))
    # the windows tile time: one infection is counted for T_I in all
    total, e, i = step.fresh_weight, 1.0, 0.0
    for _ in range(int(200 / dt)):
        total += e * step.latent_weight + i * step.infectious_weight
        e, i = e * np.exp(-b * dt), e * (step.p_onset - step.p_onset_recover) + i * np.exp(-c * dt)
    assert total == pytest.approx(3.0, rel=1e-6)


def test_market_days_leave_the_realised_r0_at_the_nominal_one() -> None:
    # final size of one well-mixed population equals the final-size equation's for R0 with
    # market days on: the next-generation matrix includes their mean
    pop = Metapopulation.single([15_000, 60_000, 6_000, 14_000, 5_000])
    params = DiseaseParameters(r0=1.8, vaccinated=(0.0,) * 5, market_every_days=5)
    contacts = well_mixed(pop.residents.sum(axis=0))
    run = simulate(pop, params, Scenario(seed_per_100k=10), 600, contacts=contacts)
    expected = brentq(lambda z: z - (1 - np.exp(-1.8 * z)), 1e-6, 1.0)
    assert run.infections.sum() / pop.total == pytest.approx(expected, abs=0.005)
    off = transmission_rate(params.with_values(market_every_days=0), contacts, pop.residents[0])
    on = transmission_rate(params, contacts, pop.residents[0])
    assert off / on == pytest.approx(1 + 0.22 * 0.5 / 5)


def test_first_infections_are_spread_over_the_age_bands_by_residents() -> None:
    pop = Metapopulation.single([20_000, 60_000, 6_000, 10_000, 4_000])
    params = DiseaseParameters(r0=0.0, vaccinated=(0.0,) * 5)
    run = simulate(pop, params, Scenario(seed_per_100k=1000), 5)
    exposed = pop.residents[0] - run.susceptible_end[0]
    assert exposed == pytest.approx(pop.residents[0] / 100, rel=1e-9)
