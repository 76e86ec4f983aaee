"""Forecasts: one deterministic run or a stochastic ensemble, summarised per group of villages
(counties, towns, hospital catchments) with 5–95% bands and peak timing.

>>> from lianfang.forecast import DiseaseParameters, Metapopulation, Scenario
>>> pop = Metapopulation.from_arrays(["a", "b"], [[100, 600, 80, 150, 40]] * 2, [0, 1], [0, 0])
>>> result = forecast(pop, DiseaseParameters(), Scenario(seed_per_100k=50), days=90, members=4)
>>> result.bands["symptomatic"].shape  # (low/median/high, days, groups + whole)
(3, 90, 2)
"""

from __future__ import annotations

import ctypes
import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np

from lianfang.forecast.engine import Trajectory, simulate_stacked
from lianfang.forecast.parameters import N_AGES, DiseaseParameters, FloatArray
from lianfang.forecast.population import Metapopulation
from lianfang.forecast.scenario import Scenario
from lianfang.forecast.severity import MEASURES, outcomes

QUANTILES = (0.05, 0.5, 0.95)
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters
BLAS_THREAD_SETTERS = (  # OpenBLAS's, as numpy's and scipy's wheels rename it, and plain
    "scipy_openblas_set_num_threads64_",
    "scipy_openblas_set_num_threads",
    "openblas_set_num_threads64_",
    "openblas_set_num_threads",
)
Progress = Callable[[int, int, str], None]
"""Told (done, total, unit) as the work goes: "members" done when batches run apart,
"days" simulated when the whole run is one batch (a deterministic run, a small area's ensemble)."""
DASK_CONNECT_S = 30
"""How long to wait for a Dask scheduler to answer before the run fails."""


@dataclass(frozen=True, eq=False)
class Forecast:
    """Bands (low, median, high) per measure, day and group; the last group is the whole area."""

    start: date
    groups: tuple[str, ...]
    members: int
    bands: dict[str, FloatArray]  # measure → (3, days, groups + 1)
    peak_day: FloatArray  # (3, groups + 1) day index of the symptomatic peak
    peak_height: FloatArray  # (3, groups + 1) symptomatic cases on the peak day
    village_peak_day: FloatArray  # (villages,) median day of each village's symptomatic peak
    surge_beds: FloatArray = field(repr=False)

    @property
    def days(self) -> int:
        return int(self.bands["symptomatic"].shape[1])

    def date_of(self, day: float) -> str | None:
        """The ISO date of a day index; None where there was no outbreak to peak."""
        if not np.isfinite(day):
            return None
        return (self.start + timedelta(days=round(day))).isoformat()

    def peak_table(self) -> list[dict[str, Any]]:
        """Per group: peak date (median, 5%, 95%), peak height and totals (median)."""
        rows = []
        for g, name in enumerate((*self.groups, "all")):
            low, mid, high = self.peak_day[:, g]
            rows.append(
                {
                    "group": name,
                    "peak_date": self.date_of(mid),
                    "peak_date_low": self.date_of(low),
                    "peak_date_high": self.date_of(high),
                    "peak_symptomatic": float(self.peak_height[1, g]),
                    "peak_symptomatic_low": float(self.peak_height[0, g]),
                    "peak_symptomatic_high": float(self.peak_height[2, g]),
                    "infections": float(self.bands["infections"][1, :, g].sum()),
                    "deaths": float(self.bands["deaths"][1, :, g].sum()),
                    "peak_hospital_census": float(self.bands["hospital_census"][1, :, g].max()),
                    "peak_icu_census": float(self.bands["icu_census"][1, :, g].max()),
                    "antipyretic_courses": float(self.bands["antipyretic_courses"][1, :, g].sum()),
                    "antiviral_courses": float(self.bands["antiviral_courses"][1, :, g].sum()),
                    "peak_oxygen_patients": float(self.bands["oxygen_patients"][1, :, g].max()),
                    "peak_oxygen_concentrators": float(
                        self.bands["oxygen_concentrators"][1, :, g].max()
                    ),
                    "oxygen_cylinders": float(self.bands["oxygen_cylinders"][1, :, g].sum()),
                }
            )
        return rows


Folded = tuple[dict[str, FloatArray], FloatArray]
"""A batch's members: measure → (members, days, groups + 1), and (members, villages) peak days."""
BATCH = 5
"""The fewest stochastic members run together as one array (one generator per batch), so that
numpy's fixed cost per call is shared."""
TARGET_CELLS = 10_000
"""Villages × age bands × members a batch aims at when ``BATCH`` members of a population hold
fewer. numpy's fixed cost per call (some forty calls a step, then the folding) is paid once a
batch, so a small population needs many members in a batch before the cells' own work dominates.
Measured (engine and folding, 120 days, ms a member): one village of 100,000 in 5 bands, 4.4 in
batches of 5, 0.45 of 100 members (500 cells), 0.20–0.22 from 500 to 10,000 members
(2,500–50,000 cells); a county of 261 villages, 22 in batches of 5 (6,525 cells), 19–20 of 10–39
(13,000–51,000). 10,000 is where both have flattened; any larger only makes fewer, longer
batches for the workers to share. Populations of 400 villages or more (2,000 cells a member)
keep batches of five, and so their random streams (Nantong's 2,005 villages, Jiangsu's 21,958).
A batch of a population under 400 villages holds less than 10,000 cells plus one member's, a
fifth of a Nantong batch (50,125): each recorded series is cells / 5 × days × 8 bytes, 1.9 MB
for one village's 2,000 members over 120 days against 9.6 MB for Nantong's five."""


MAX_BATCH_VALUES = 150_000_000
"""Villages × age bands × members × days a batch holds at most (at least one member). Five
members of 500,000 villages over 30 days (375 M) grew a pool worker past 12.4 GB, and the 24 GB
machine's out-of-memory killer ended it with two workers running; two members (150 M) peak at
10.3 GB in the largest process (BENCHMARKS.md, the Dask benchmark). Below the cap sit
Jiangsu's 21,958 villages over 120 days (66 M values in five members) and every smaller
population: their batches, and so their random streams, are as they were."""


def batch_size(pop: Metapopulation, members: int, days: int) -> int:
    """Members per batch: enough for ``TARGET_CELLS`` cells, at least ``BATCH``, at most
    ``members``, and no more than ``MAX_BATCH_VALUES`` allows (at least one). It depends on the
    population, ``members`` and ``days`` only, never on the number of workers, so that results
    do not either."""
    cells = max(pop.villages * N_AGES, 1)
    size = min(members, max(BATCH, -(-TARGET_CELLS // cells)))
    return max(1, min(size, MAX_BATCH_VALUES // (cells * max(days, 1))))


def fold(runs: Trajectory, params: DiseaseParameters, groups: np.ndarray, n_groups: int) -> Folded:
    """A batch's runs (stacked) folded into groups (+ a whole-area column) and each village's
    peak day, all members in one go: the per-call cost of some 500 numpy calls (convolutions
    with 45-day delays) is paid once a batch, not once a member."""
    folded = outcomes(runs, params, groups, n_groups).series
    whole = {
        k: np.concatenate([v, v.sum(axis=-1, keepdims=True)], axis=-1) for k, v in folded.items()
    }
    return whole, _peak_days(runs.symptomatic, axis=1)


def _batch(
    pop: Metapopulation,
    params: DiseaseParameters,
    scenario: Scenario,
    days: int,
    groups: np.ndarray,
    n_groups: int,
    job: tuple[np.random.SeedSequence | None, int],
    on_day: Callable[[int], None] | None = None,
) -> Folded:
    """A batch of members from one seed (None: the deterministic run), folded."""
    seed, size = job
    rng = None if seed is None else np.random.default_rng(seed)
    runs = simulate_stacked(pop, params, scenario, days, rng, size, on_day=on_day)
    return fold(runs, params, groups, n_groups)


def _remote_batch(
    pop: Metapopulation,
    params: DiseaseParameters,
    scenario: Scenario,
    days: int,
    groups: np.ndarray,
    n_groups: int,
    job: tuple[np.random.SeedSequence | None, int],
) -> Folded:
    """``_batch`` on a Dask worker: the worker process is tuned once, as the pool's are (not
    a worker that lives in the calling process, ``LocalCluster(processes=False)``)."""
    if multiprocessing.parent_process() is not None and not _TUNED:
        _worker_start()
        _TUNED.append(True)
    return _batch(pop, params, scenario, days, groups, n_groups, job)


_TUNED: list[bool] = []


def forecast(
    pop: Metapopulation,
    params: DiseaseParameters,
    scenario: Scenario,
    days: int,
    members: int = 0,
    seed: int = 0,
    groups: Sequence[int] | None = None,
    group_names: Sequence[str] | None = None,
    workers: int = 1,
    progress: Progress | None = None,
    scheduler: str | None = None,
) -> Forecast:
    """Run ``members`` stochastic members (0: one deterministic run) and summarise them.

    ``groups`` gives each village a group index (default: its county). Members run in batches
    of ``batch_size(pop, members, days)`` (five for large populations, up to all of them for a
    small one, fewer for the largest), each seeded from ``seed`` through
    ``SeedSequence.spawn``, so results do not depend on ``workers``. With ``scheduler`` (a Dask
    distributed scheduler's address) batches run on that cluster instead of ``workers`` local
    processes, with the same figures.
    """
    index = np.asarray(pop.county if groups is None else groups, dtype=np.int64)
    n_groups = int(index.max()) + 1 if len(index) else 0
    names = tuple(group_names or [str(g) for g in range(n_groups)])
    jobs: list[tuple[np.random.SeedSequence | None, int]] = [(None, 1)]
    if members > 0:
        size = batch_size(pop, members, days)
        sizes = [min(size, members - start) for start in range(0, members, size)]
        jobs = list(zip(np.random.SeedSequence(seed).spawn(len(sizes)), sizes, strict=True))
    results = _run_all(
        pop, params, scenario, days, index, n_groups, jobs, workers, progress, scheduler
    )
    return summarise(scenario.start, names, members, results, scenario.daily(days).surge_beds)


def _run_all(
    pop: Metapopulation,
    params: DiseaseParameters,
    scenario: Scenario,
    days: int,
    index: np.ndarray,
    n_groups: int,
    jobs: list[tuple[np.random.SeedSequence | None, int]],
    workers: int,
    progress: Progress | None,
    scheduler: str | None = None,
) -> list[Folded]:
    """Every batch, in the order of ``jobs`` (whichever finishes first)."""
    done: dict[int, Folded] = {}
    total = sum(size for _, size in jobs)

    def add(position: int, batch: Folded) -> None:
        done[position] = batch
        if progress is not None and len(jobs) > 1:
            progress(sum(len(peaks) for _, peaks in done.values()), total, "members")

    args = (pop, params, scenario, days, index, n_groups)
    if len(jobs) < 2:
        on_day = None if progress is None else (lambda day: progress(day, days, "days"))
        add(0, _batch(*args, jobs[0], on_day))
    elif scheduler is not None:
        _run_on_dask(scheduler, args, jobs, add)
    elif workers <= 1:
        for position, job in enumerate(jobs):
            add(position, _batch(*args, job))
    else:
        with ProcessPoolExecutor(max_workers=workers, initializer=_worker_start) as pool:
            futures = {pool.submit(_batch, *args, job): i for i, job in enumerate(jobs)}
            for future in as_completed(futures):
                add(futures[future], future.result())
    return [done[position] for position in range(len(jobs))]


def _run_on_dask(
    scheduler: str,
    args: tuple[Any, ...],
    jobs: list[tuple[np.random.SeedSequence | None, int]],
    add: Callable[[int, Folded], None],
) -> None:
    """The batches on a Dask distributed cluster: the population and the other inputs are sent
    to every worker once (``scatter``), then one task a batch."""
    from distributed import Client
    from distributed import as_completed as completed

    client = Client(scheduler, timeout=DASK_CONNECT_S)  # type: ignore[no-untyped-call]
    with client:
        shared = client.scatter(list(args), broadcast=True)  # type: ignore[no-untyped-call]
        futures = [client.submit(_remote_batch, *shared, job, pure=False) for job in jobs]
        position = {future.key: i for i, future in enumerate(futures)}
        for future in completed(futures):  # type: ignore[no-untyped-call]
            add(position[future.key], future.result())


def _worker_start() -> None:
    """Tune a worker process: one BLAS thread, freed memory kept (no-ops where unsupported)."""
    _one_blas_thread()
    _keep_freed_memory()


def _one_blas_thread() -> None:
    """The workers are the parallelism: OpenBLAS's own threads (as many as cores, in every
    worker, for the engine's (cells × 5) @ (5 × 5) products) only compete with the other
    workers for the same cores; one thread each saved ~15% of a Nantong ensemble's CPU time.
    Results do not change (OpenBLAS splits the output among threads, not the sums)."""
    try:
        with open("/proc/self/maps", encoding="utf-8") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    except OSError:  # not Linux: leave BLAS alone
        return
    for path in sorted(paths):
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for name in BLAS_THREAD_SETTERS:
            setter = getattr(library, name, None)
            if setter is not None:
                setter(1)
                break


def _keep_freed_memory() -> None:
    """In a worker (glibc only): serve arrays up to 32 MB from the heap and keep freed memory.

    A batch allocates and frees arrays of 0.1–12 MB every simulated day. glibc starts by mapping
    each one afresh (its threshold adapts only slowly), so a worker's first batch took ~160,000
    page faults (0.6 s of system time, on the ensemble's critical path); with this, ~9,000."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(M_MMAP_THRESHOLD, 32 << 20)  # glibc's ceiling for this setting
        libc.mallopt(M_TRIM_THRESHOLD, 512 << 20)
    except (OSError, AttributeError):  # not glibc: leave the allocator alone
        return


def summarise(
    start: date,
    names: tuple[str, ...],
    members: int,
    results: list[Folded],
    beds: FloatArray,
) -> Forecast:
    """Bands, peaks and village peak days of members already folded (``fold``): an ensemble's
    batches, or the runs drawn from a fit's parameters (``fit.outcomes_after_fit``)."""

    def every_member(measure: str) -> FloatArray:  # (members, days, groups + 1)
        parts = [r[0][measure] for r in results]
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    bands = {m: _quantiles(every_member(m)) for m in MEASURES}
    symptomatic = every_member("symptomatic")
    peak_days = _peak_days(symptomatic, axis=1)
    peak_heights = symptomatic.max(axis=1)
    return Forecast(
        start=start,
        groups=names,
        members=members,
        bands=bands,
        peak_day=_nanquantile(peak_days),
        peak_height=_quantiles(peak_heights),
        village_peak_day=_nanquantile(np.concatenate([r[1] for r in results]))[1],
        surge_beds=beds,
    )


def _quantiles(values: FloatArray) -> FloatArray:
    """5/50/95% over members (axis 0) of (members, …, groups + 1) values. With one group the
    whole area's column repeats that group's, so its quantiles are computed once (they are
    most of the summary of a one-village ensemble)."""
    if values.shape[-1] == 2 and np.array_equal(values[..., 0], values[..., 1]):
        group = np.quantile(values[..., :1], QUANTILES, axis=0)
        return np.concatenate([group, group], axis=-1)
    return np.asarray(np.quantile(values, QUANTILES, axis=0), dtype=np.float64)


PEAK_WINDOW_DAYS = 7
"""Peak dates are those of the maximum of the centred 7-day mean of daily onsets. A daily series
has ripples a peak date should not follow: market days (every 5 days) lift a flat top by a few
per cent, so that the maximum day of a run jumped by 3 days between two nearly equal bumps, and
a stochastic member's daily counts are noisy."""


def _peak_days(series: FloatArray, axis: int) -> FloatArray:
    """Day of the maximum of the centred ``PEAK_WINDOW_DAYS`` mean along ``axis`` (near the ends,
    the mean of the days there are); NaN where fewer than one case a day ever appeared (the
    outbreak died out or never arrived, so it has no peak)."""
    days = _centred_mean(series, axis).argmax(axis=axis).astype(np.float64)
    days[series.max(axis=axis) < 1.0] = np.nan
    return np.asarray(days, dtype=np.float64)


def _centred_mean(series: FloatArray, axis: int) -> FloatArray:
    """The mean of each day and the ``PEAK_WINDOW_DAYS // 2`` days either side along ``axis``."""
    by_day = np.moveaxis(series, axis, 0)
    half, n = PEAK_WINDOW_DAYS // 2, by_day.shape[0]
    total = np.concatenate([np.zeros((1, *by_day.shape[1:])), np.cumsum(by_day, axis=0)])
    upper = np.minimum(np.arange(n) + half + 1, n)
    lower = np.maximum(np.arange(n) - half, 0)
    count = (upper - lower).reshape(-1, *([1] * (by_day.ndim - 1)))
    return np.moveaxis((total[upper] - total[lower]) / count, 0, axis)


def _nanquantile(values: FloatArray) -> FloatArray:
    """5/50/95% over members (axis 0), ignoring members without a peak (NaN); NaN if none had
    one. ``np.nanquantile``'s linear method, vectorised: numpy loops over columns in Python,
    0.13 s for Nantong's 2,005 villages."""
    ordered = np.sort(values, axis=0)  # NaN last
    valid = np.count_nonzero(~np.isnan(values), axis=0)
    last = np.maximum(valid - 1, 0)
    out = np.full((len(QUANTILES), *values.shape[1:]), np.nan)
    some = valid > 0
    for row, q in enumerate(QUANTILES):
        virtual = (valid - 1) * q
        below = np.clip(np.floor(virtual), 0, last).astype(np.intp)
        above = np.minimum(below + 1, last)
        t = virtual - below
        a = np.take_along_axis(ordered, below[None], axis=0)[0]
        b = np.take_along_axis(ordered, above[None], axis=0)[0]
        diff = b - a  # numpy's _lerp, for the same rounding
        mid = a + diff * t
        np.subtract(b, diff * (1 - t), out=mid, where=t >= 0.5)
        out[row][some] = mid[some]
    return out
