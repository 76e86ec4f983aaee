"""Ensembles on a Dask distributed cluster give the figures of the local process pool."""

from __future__ import annotations

import numpy as np
from distributed import LocalCluster

from lianfang.forecast import DiseaseParameters, Scenario
from lianfang.forecast.ensemble import batch_size, forecast
from lianfang.forecast.severity import MEASURES
from tests.forecast.test_ensemble import villages


def test_a_dask_cluster_gives_the_process_pools_figures() -> None:
    pop = villages(200)
    scenario = Scenario(seed_per_100k=200)
    members = 30
    assert batch_size(pop, members, 60) == 10  # three batches for the cluster's two workers
    told: list[tuple[int, int, str]] = []
    pool = forecast(pop, DiseaseParameters(), scenario, 60, members=members, seed=4, workers=2)
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        dask = forecast(
            pop,
            DiseaseParameters(),
            scenario,
            60,
            members=members,
            seed=4,
            scheduler=cluster.scheduler_address,
            progress=lambda done, total, unit: told.append((done, total, unit)),
        )
    for measure in MEASURES:
        assert np.array_equal(pool.bands[measure], dask.bands[measure]), measure
    assert np.array_equal(pool.peak_day, dask.peak_day, equal_nan=True)
    assert np.array_equal(pool.peak_height, dask.peak_height)
    assert np.array_equal(pool.village_peak_day, dask.village_peak_day, equal_nan=True)
    assert [t[0] for t in told] == [10, 20, 30]  # members done, as the batches came back
    assert {t[1:] for t in told} == {(30, "members")}
    other = forecast(pop, DiseaseParameters(), scenario, 60, members=members, seed=5, workers=2)
    assert not np.array_equal(other.bands["symptomatic"], dask.bands["symptomatic"])
