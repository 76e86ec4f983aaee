"""Ensembles: a batch folded at once equals its members folded one by one."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from lianfang.forecast import DiseaseParameters, FestivalReturn, Measure, Metapopulation, Scenario
from lianfang.forecast.engine import simulate_stacked
from lianfang.forecast.severity import MEASURES, outcomes


def villages(n: int, seed: int = 3) -> Metapopulation:
    rng = np.random.default_rng(seed)
    residents = rng.integers(50, 900, size=(n, 5)).astype(float)
    town = np.arange(n) // 8
    return Metapopulation.from_arrays([f"v{i}" for i in range(n)], residents, town, town // 2)


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
