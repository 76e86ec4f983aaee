"""Synthetic resident population by age band for the demo villages.

Each county's total is its 2020 census figure; its age bands follow Nantong's 2020 age structure
(about 22.7% aged 65+); villages (村) are older and communities (社区) younger, and village sizes
vary log-normally. Integer counts are allocated so that every county and band total is exact.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

BANDS = ("age_0_14", "age_15_59", "age_60_64", "age_65_79", "age_80_plus")
CITY_SHARES = np.array([0.112, 0.578, 0.083, 0.169, 0.058])
"""Nantong residents by age band, 2020 census (0–14, 15–59, 60–64, 65–79, 80+)."""
RURAL_TILT = np.array([0.95, 0.90, 1.10, 1.25, 1.30])
"""How a rural village's profile leans relative to the city's (more elderly, fewer adults)."""
URBAN_TILT = np.array([1.05, 1.10, 0.90, 0.75, 0.70])
MEAN_SIZE = {True: 4200.0, False: 2600.0}
"""Typical residents of a community (True) and of a village (False): weights only."""


def allocate(total: int, weights: NDArray[np.float64]) -> NDArray[np.int64]:
    """Split ``total`` into integers proportional to ``weights`` (largest remainder)."""
    if total < 0 or weights.sum() <= 0:
        raise ValueError("need a non-negative total and positive weights")
    exact = total * weights / weights.sum()
    floor = np.floor(exact).astype(np.int64)
    short = total - int(floor.sum())
    order = np.argsort(-(exact - floor), kind="stable")
    floor[order[:short]] += 1
    return np.asarray(floor, dtype=np.int64)


def is_community(name: str) -> bool:
    """True for an urban community (社区/居委会), False for a rural village (村)."""
    return "社区" in name or "居委会" in name


def city_bands(
    county_totals: Sequence[int], communities: Sequence[Sequence[bool]], rng: np.random.Generator
) -> list[NDArray[np.int64]]:
    """Per county, a (villages × 5) matrix of residents.

    Each county sums to its total; the city's band totals follow ``CITY_SHARES``; within that,
    counties with more rural villages come out older (iterative proportional fitting on the
    county × band table, then largest-remainder allocation to villages).

    >>> ms = city_bands([6_000, 4_000], [[False, True], [True]], np.random.default_rng(1))
    >>> [int(m.sum()) for m in ms]
    [6000, 4000]
    """
    weights = [_village_weights(flags, rng) for flags in communities]
    table = np.array([w.sum(axis=0) if len(w) else CITY_SHARES for w in weights])
    rows = np.asarray(county_totals, dtype=np.float64)
    columns = rows.sum() * CITY_SHARES
    for _ in range(50):
        table *= (rows / table.sum(axis=1))[:, None]
        table *= columns / table.sum(axis=0)
    result = []
    for total, fitted, w in zip(county_totals, table, weights, strict=True):
        bands = allocate(int(total), fitted)
        matrix = np.zeros((len(w), len(BANDS)), dtype=np.int64)
        for b in range(len(BANDS)):
            if len(w):
                matrix[:, b] = allocate(int(bands[b]), w[:, b])
        result.append(matrix)
    return result


def _village_weights(communities: Sequence[bool], rng: np.random.Generator) -> NDArray[np.float64]:
    """Expected residents by band per village: size × city shares × rural/urban tilt × noise."""
    n = len(communities)
    urban = np.asarray(communities, dtype=bool).reshape(n)
    size = np.array([MEAN_SIZE[bool(u)] for u in urban]) * rng.lognormal(0.0, 0.35, n)
    tilt = np.where(urban[:, None], URBAN_TILT, RURAL_TILT) * rng.lognormal(0.0, 0.08, (n, 5))
    return np.asarray(size[:, None] * CITY_SHARES * tilt, dtype=np.float64)
