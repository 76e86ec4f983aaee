"""Ensembles: how members are batched, that the number of workers changes nothing, and that a
batch folded at once equals its members folded one by one."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from lianfang.forecast import DiseaseParameters, FestivalReturn, Measure, Metapopulation, Scenario
from lianfang.forecast.engine import simulate_stacked
from lianfang.forecast.ensemble import BATCH, QUANTILES, _quantiles, batch_size, forecast
from lianfang.forecast.severity import MEASURES, outcomes


def villages(n: int, seed: int = 3) -> Metapopulation:
    rng = np.random.default_rng(seed)
    residents = rng.integers(50, 900, size=(n, 5)).astype(float)
    town = np.arange(n) // 8
    return Metapopulation.from_arrays([f"v{i}" for i in range(n)], residents, town, town // 2)


def test_large_populations_keep_batches_of_five_and_small_ones_get_large_batches() -> None:
    # 400 villages or more (Nantong's 2,005, Jiangsu's 21,958) keep five members a batch, and
    # so the random streams of their ensembles
    for n in (400, 2_005, 21_958):
        assert batch_size(villages(n), 50, 120) == BATCH == 5
    assert batch_size(villages(2_005), 3, 120) == 3  # never more than the members wanted
    assert batch_size(villages(399), 50, 120) == 6  # ⌈10,000 cells / 1,995⌉
    assert batch_size(villages(60), 500, 120) == 34  # ⌈10,000 / 300⌉
    one = Metapopulation.single([15_000, 60_000, 6_000, 14_000, 5_000])
    assert batch_size(one, 1_000, 120) == 1_000  # one batch: a handful of array calls a step
    assert batch_size(one, 50_000, 120) == 2_000  # 10,000 cells


def test_the_largest_populations_get_smaller_batches_to_fit_a_workers_memory() -> None:
    nation = villages(500_000)
    assert batch_size(nation, 20, 30) == 2  # 150 M values / (2.5 M cells × 30 days)
    assert batch_size(nation, 20, 120) == 1  # never fewer than one member
    # Jiangsu over 120 days stays at five: its random streams do not change
    assert batch_size(villages(21_958), 50, 120) == BATCH


def test_ensemble_results_do_not_depend_on_the_number_of_workers() -> None:
    pop = villages(200)
    scenario = Scenario(seed_per_100k=200)
    members = 30
    assert batch_size(pop, members, 60) == 10  # three batches, spread over the workers
    one = forecast(pop, DiseaseParameters(), scenario, 60, members=members, seed=4, workers=1)
    two = forecast(pop, DiseaseParameters(), scenario, 60, members=members, seed=4, workers=2)
    for measure in MEASURES:
        assert np.array_equal(one.bands[measure], two.bands[measure])
    assert np.array_equal(one.peak_day, two.peak_day, equal_nan=True)
    assert np.array_equal(one.village_peak_day, two.village_peak_day, equal_nan=True)


@pytest.mark.parametrize(
    ("seed", "members"), [(None, 1), (1, 1), (2, 7)], ids=["deterministic", "one", "seven"]
)
def test_a_batch_folds_exactly_as_its_members_one_by_one(seed: int | None, members: int) -> None:
    pop = villages(40)
    params = DiseaseParameters()
    scenario = Scenario(
        festival=FestivalReturn(date(2023, 1, 5), date(2023, 1, 20), 80.0, 0.1),
        measures=(Measure("m", date(2022, 12, 20), contact_factor=0.8, antiviral_coverage=0.5),),
    )
    groups = np.asarray(pop.town, dtype=np.int64)
    rng = None if seed is None else np.random.default_rng(seed)
    runs = simulate_stacked(pop, params, scenario, 90, rng, members)
    together = outcomes(runs, params, groups).series
    for m in range(members):
        alone = outcomes(runs.member(m), params, groups).series
        for measure in MEASURES:
            assert together[measure][m].shape == alone[measure].shape == (90, 5)
            assert np.array_equal(together[measure][m], alone[measure])
    assert together["hospital_census"].sum() > 0  # the convolutions had something to move
    if seed is None:  # the deterministic run's figures are not whole numbers: a real check
        assert not np.array_equal(together["hospital_census"], together["hospital_census"] // 1)


@pytest.mark.parametrize("groups", [1, 2, 3])
def test_bands_are_numpys_quantiles(groups: int) -> None:
    rng = np.random.default_rng(groups)
    values = rng.poisson(30.0, (200, 50, groups)) * 0.37
    if groups != 2:  # a whole-area column; with one group it repeats the group's
        values = np.concatenate([values, values.sum(axis=-1, keepdims=True)], axis=-1)
    assert np.array_equal(_quantiles(values), np.quantile(values, QUANTILES, axis=0))
