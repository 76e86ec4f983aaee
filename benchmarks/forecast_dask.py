"""A national-size ensemble on a Dask distributed cluster against the local process pool.

The same `forecast` call (a synthetic population of 500,000 villages, 20 stochastic members in
ten batches of two, one seed) is timed twice, side by side: batches on a process pool of two
workers (what the server does without `LIANFANG_DASK_SCHEDULER`), and on a Dask `LocalCluster`
of two worker processes with one thread each (`dask_scheduler` set to its address). The
cluster is started before the clock starts, as a running cluster would be; connecting to it,
sending the population to the workers and collecting the batches are timed. The figures of the
two runs are checked to be identical. Memory: the largest resident set of any one process
(the caller, a pool or Dask worker) while each run lasts, sampled every 0.2 s.

Memory: a batch of five members of 500,000 villages over 30 days peaked at 12.4 GB in a pool
worker, and the 24 GB machine's out-of-memory killer ended it (2026-12-06); batches now hold at
most ``ensemble.MAX_BATCH_VALUES`` values (two members here; the largest process then peaks at
10.3 GB). About 8 minutes of both cores: run it on a quiet machine.
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from time import perf_counter

import numpy as np
import psutil

from benchmarks.common import Table
from benchmarks.targets import limit
from lianfang.forecast import DiseaseParameters, Metapopulation, Scenario
from lianfang.forecast.ensemble import Forecast, batch_size, forecast
from lianfang.forecast.severity import MEASURES

VILLAGES = 500_000
MEMBERS = 20
WORKERS = 2
DAYS = 30
"""Days simulated. A batch of five members records fifteen float32 series of villages × members ×
days values: 4.5 GB for 500,000 villages over 30 days, two at once on the two workers; 120 days
would need four times that, more than the benchmark machine has."""
SEED = 1
SAMPLE_S = 0.2
TARGET = "forecast.dask.overhead"
OVERHEAD_LIMIT = limit(TARGET)


def population() -> Metapopulation:
    """500,000 villages of 50–900 people per age band, 20 villages a town, 100 towns a county."""
    rng = np.random.default_rng(11)
    residents = rng.integers(50, 900, size=(VILLAGES, 5)).astype(np.float64)
    town = np.arange(VILLAGES) // 20
    return Metapopulation.from_arrays(
        [f"v{i}" for i in range(VILLAGES)], residents, town, town // 100
    )


@contextmanager
def largest_process() -> Iterator[list[int]]:
    """Samples the resident memory of this process and all its descendants while the block
    runs; yields a list whose one item becomes the largest of any single process (bytes)."""
    peak = [0]
    stop = threading.Event()
    me = psutil.Process()

    def sample() -> None:
        while not stop.is_set():
            for process in [me, *me.children(recursive=True)]:
                try:
                    peak[0] = max(peak[0], process.memory_info().rss)
                except psutil.Error:
                    continue
            stop.wait(SAMPLE_S)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield peak
    finally:
        stop.set()
        sampler.join()


def timed(run: Callable[[], Forecast]) -> tuple[float, int, Forecast]:
    """Seconds, the largest process's memory and the result of one run."""
    with largest_process() as peak:
        began = perf_counter()
        result = run()
        seconds = perf_counter() - began
    return seconds, peak[0], result


def identical(a: Forecast, b: Forecast) -> bool:
    return all(np.array_equal(a.bands[m], b.bands[m]) for m in MEASURES) and np.array_equal(
        a.village_peak_day, b.village_peak_day, equal_nan=True
    )


def run() -> Table:
    """Process pool against Dask LocalCluster, 500,000 villages, 20 members."""
    from distributed import Client, LocalCluster

    table = Table(
        "Ensembles on Dask: 500,000 villages, 20 members, 2 workers",
        ["batches on", "seconds", "largest process (GB)", "overhead"],
        notes=[
            f"A synthetic population of {VILLAGES:,} villages (5 age bands, 50–900 people "
            f"each), {DAYS} days, {MEMBERS} stochastic members in batches of "
            f"{{size}} (one seed each from `SeedSequence(1).spawn`); one run of each, side by "
            "side on the same machine. Process pool: `forecast(..., workers=2)`. Dask: a "
            "`LocalCluster(n_workers=2, threads_per_worker=1, processes=True, memory_limit=0)` "
            "started beforehand, its workers having imported lianfang (not timed, as a standing "
            "cluster would be), `forecast(..., scheduler=address)`: connecting, "
            "scattering the population to both workers, the batches and gathering them are "
            "timed. Overhead: Dask's time over the pool's, minus one. Memory: the largest "
            "resident set of any single process (the caller, a pool or Dask worker), sampled "
            "every 0.2 s. The two runs' figures are checked to be identical.",
        ],
    )
    pop = population()
    table.notes[0] = table.notes[0].replace("{size}", str(batch_size(pop, MEMBERS, DAYS)))
    table.start()
    params, scenario = DiseaseParameters(), Scenario(seed_per_100k=5.0)

    def ensemble(scheduler: str | None = None) -> Callable[[], Forecast]:
        return lambda: forecast(
            pop, params, scenario, DAYS, members=MEMBERS, seed=SEED, workers=WORKERS,
            scheduler=scheduler,
        )  # fmt: skip

    loads = [os.getloadavg()[0]]
    pool_s, pool_peak, pooled = timed(ensemble())
    table.add("process pool, 2 workers", f"{pool_s:.1f}", f"{pool_peak / 1e9:.2f}", "—")
    with LocalCluster(
        n_workers=WORKERS,
        threads_per_worker=1,
        processes=True,
        memory_limit=0,
        dashboard_address=None,
    ) as cluster:
        with Client(cluster.scheduler_address) as client:  # a standing cluster has imported it
            client.run(importlib.import_module, "lianfang.forecast.ensemble")
        loads.append(os.getloadavg()[0])
        dask_s, dask_peak, dasked = timed(ensemble(cluster.scheduler_address))
    overhead = 100.0 * (dask_s / pool_s - 1.0)
    table.notes.append(
        "Load average of the machine (1 min) before the pool's run "
        f"{loads[0]:.1f}, before Dask's {loads[1]:.1f} (which still counts the pool's two "
        "workers of the minute before)."
    )
    same = "identical figures" if identical(pooled, dasked) else "FIGURES DIFFER"
    table.add(
        f"Dask LocalCluster, 2 workers ({same})",
        f"{dask_s:.1f}",
        f"{dask_peak / 1e9:.2f}",
        f"{overhead:+.1f}% (target ≤ {OVERHEAD_LIMIT:g}%)",
    )
    table.figure(TARGET, overhead)
    return table
