"""Exact binomial (and Poisson) draws for the chain binomial, vectorised over cells.

``Generator.binomial`` costs 40–150 ns a cell here, most of it per-element set-up (a log, an exp
and a square root for each new (n, p) pair, and the broadcasting machinery), even where the draw
is almost surely 0. Two exact samplers avoid most of it:

``TableBinomial`` — Binomial(n, p) for one p per age band (onset, recovery, the symptomatic
split): Walker's alias method on tables of Binomial(n, p), n = 0…``TABLE_MAX_N``, built once per
p and process. A draw is one uniform, three gathers and a comparison, whatever n; only cells
with n > 0 are drawn, and the few with n above the tables go to ``Generator.binomial``.

``Infections`` — Binomial(S, 1 − e^(−r)) with a rate r per cell (susceptibles infected in a
step), by geometric skipping. With E ~ Exp(1), the trials before the first success number
⌊E / r⌋ (Geometric with p = 1 − e^(−r)); the count of successes among S trials is the number
of such jumps that land within S. One exponential per cell decides the usual case (nobody
infected: E ≥ r·S); after ``SKIP_ROUNDS`` further jumps the rest is exactly
``k + Binomial(S − position, p)`` (the trials after a success are fresh), drawn by
``Generator.binomial``, as are cells whose mean is above ``SKIP_MEAN``, where skipping would
take many rounds.

``poisson`` — Poisson counts by the same idea: the first arrival, at E ~ Exp(1), decides zero.

All are exact: they differ from ``Generator`` only in the random stream (and by floating-point
rounding, ~1e-16). ``tests/forecast/test_sampling.py`` checks each against its pmf.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from lianfang.forecast.parameters import FloatArray

IntpArray = NDArray[np.intp]

TABLE_MAX_N = 128
"""Alias tables cover n = 0…128: 97–99% of the cells with anyone in E, A or I in a Nantong run."""
SPLIT_MAX_N = 64
"""For the symptomatic split of new onsets (five tables, one per age band): 97.5% of its cells."""
SKIP_MEAN = 4.0
"""Cells with S·r above this are drawn by Generator.binomial rather than by skipping."""
SKIP_ROUNDS = 8
"""Jumps after the first before handing the rest of a cell to Generator.binomial."""


def _vose(pmf: list[float]) -> tuple[list[float], list[int]]:
    """Walker's alias table (Vose's construction) for one distribution over 0…len(pmf)−1."""
    m = len(pmf)
    scaled = [x * m for x in pmf]
    prob, alias = [1.0] * m, list(range(m))
    small = [i for i in range(m) if scaled[i] < 1.0]
    large = [i for i in range(m) if scaled[i] >= 1.0]
    while small and large:
        s, g = small.pop(), large.pop()
        prob[s], alias[s] = scaled[s], g
        scaled[g] += scaled[s] - 1.0
        (small if scaled[g] < 1.0 else large).append(g)
    return prob, alias  # what is left in small or large keeps prob 1 (rounding only)


@lru_cache(maxsize=64)
def _table(p: float, max_n: int) -> tuple[IntpArray, FloatArray, IntpArray]:
    """Row offsets, acceptance probabilities and aliases for Binomial(n, p), n = 0…max_n, rows
    laid end to end (row n has n + 1 entries)."""
    n = np.arange(max_n + 1)
    pmf = stats.binom.pmf(n[None, :], n[:, None], p)  # (n, k), 0 for k > n
    probs: list[float] = []
    aliases: list[int] = []
    for row in range(max_n + 1):
        weights = pmf[row, : row + 1]
        prob, alias = _vose(list(weights / weights.sum()))
        probs += prob
        aliases += alias
    offsets = np.concatenate([[0], np.cumsum(n + 1)[:-1]]).astype(np.intp)
    return offsets, np.array(probs), np.array(aliases, dtype=np.intp)


class TableBinomial:
    """Binomial(n, p_a) for cells (…, ages), with one fixed p per age band (last axis)."""

    def __init__(self, p: FloatArray, shape: tuple[int, ...], max_n: int = TABLE_MAX_N) -> None:
        self.max_n = max_n
        chances = np.asarray(p, dtype=np.float64)
        self.p = np.broadcast_to(chances, shape).ravel()
        distinct, band = np.unique(chances, return_inverse=True)
        parts = [_table(float(x), max_n) for x in distinct]
        size = len(parts[0][1])
        self.offsets = np.concatenate([o + i * size for i, (o, _, _) in enumerate(parts)])
        self.prob = np.concatenate([t[1] for t in parts])
        self.alias = np.concatenate([t[2] for t in parts])
        # the first table row of each cell's band, when the bands differ
        first = np.broadcast_to(band.reshape(chances.shape) * (max_n + 1), shape).ravel()
        self.first = first.astype(np.intp) if len(distinct) > 1 else None

    def draw(self, rng: np.random.Generator, n: FloatArray, out: FloatArray) -> None:
        """out = Binomial(n, p); n holds whole numbers ≥ 0 (as floats). Only the cells with
        n > 0 are drawn (in most of a run, most are empty)."""
        flat_n, flat_out = n.ravel(), out.ravel()
        cells = np.flatnonzero(flat_n > 0)  # (a boolean mask: nonzero of floats is slow)
        out.fill(0.0)
        if cells.size:
            flat_out[cells] = self.sample(rng, flat_n[cells], cells)

    def sample(self, rng: np.random.Generator, n: FloatArray, cells: IntpArray) -> IntpArray:
        """Binomial(n, p of each cell) for the given flat cells."""
        row = n.astype(np.intp)
        big = np.flatnonzero(row > self.max_n)
        if big.size:
            np.minimum(row, self.max_n, out=row)
        spot = rng.random(n.size)
        spot *= row + 1.0  # uniform on [0, n + 1): the column, then the acceptance test
        pick = spot.astype(np.intp)
        np.minimum(pick, row, out=pick)  # u·(n + 1) can round up to n + 1
        spot -= pick
        if self.first is not None:
            row += self.first[cells]
        index = self.offsets[row]
        index += pick
        alias = self.alias[index]
        pick -= alias  # x = pick where accepted, else alias (arithmetic beats np.where)
        pick *= spot < self.prob[index]
        pick += alias
        if big.size:
            pick[big] = rng.binomial(n[big].astype(np.int64), self.p[cells[big]])
        return pick


class Infections:
    """Binomial(S, 1 − e^(−r)) per cell by geometric skipping; buffers allocated once."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.wait, self.neg_mean = np.empty(shape), np.empty(shape)
        self.small, self.hit = np.empty(shape, dtype=bool), np.empty(shape, dtype=bool)

    def draw(
        self, rng: np.random.Generator, s: FloatArray, force: FloatArray, out: FloatArray
    ) -> None:
        """out = Binomial(s, 1 − e^force), force = −r ≤ 0; s holds whole numbers ≥ 0."""
        out.fill(0.0)
        neg_mean, wait = self.neg_mean, self.wait
        np.multiply(s, force, out=neg_mean)  # −r·s (r·s ≥ the mean s·(1 − e^(−r)))
        np.greater_equal(neg_mean, -SKIP_MEAN, out=self.small)
        flat_s, flat_force, flat_out = s.ravel(), force.ravel(), out.ravel()
        large = np.flatnonzero(~self.small)  # many infections likely: Generator.binomial
        if large.size:
            flat_out[large] = rng.binomial(
                flat_s[large].astype(np.int64), -np.expm1(flat_force[large])
            )
        # E ~ Exp(1) per cell: the first infection comes after ⌊E / r⌋ escapes, so nobody is
        # infected when E ≥ r·s (probability e^(−r·s))
        rng.standard_exponential(out=wait)
        wait += neg_mean
        np.less(wait, 0.0, out=self.hit)
        self.hit &= self.small
        cells = np.flatnonzero(self.hit)
        if cells.size:
            n, r = flat_s[cells], -flat_force[cells]
            first = wait.ravel()[cells]
            first -= neg_mean.ravel()[cells]  # E again
            first /= r
            position = np.minimum(np.floor(first) + 1.0, n)
            flat_out[cells] = _skip(rng, n, r, position)


def _skip(
    rng: np.random.Generator, n: FloatArray, r: FloatArray, position: FloatArray
) -> FloatArray:
    """Successes among n trials with rate r, given a first success at ``position``:
    SKIP_ROUNDS more jumps, then a binomial of the trials left after the last success."""
    result = np.ones(n.size)
    index = np.arange(n.size)
    for _ in range(SKIP_ROUNDS):
        jump = rng.standard_exponential(index.size)
        jump /= r
        np.floor(jump, out=jump)
        position += jump
        position += 1.0
        more = position <= n
        index, n, r, position = index[more], n[more], r[more], position[more]
        if not index.size:
            return result
        result[index] += 1.0
    result[index] += rng.binomial((n - position).astype(np.int64), -np.expm1(-r))
    return result


def poisson(rng: np.random.Generator, mean: FloatArray) -> FloatArray:
    """Poisson(mean) per cell (mean ≥ 0). The first arrival, at E ~ Exp(1), decides the usual
    case, no event (E > mean); given an arrival at E ≤ mean, the rest of the count is
    Poisson(mean − E), drawn by ``Generator.poisson`` for those cells only. Exact."""
    wait = rng.standard_exponential(mean.size)
    wait -= mean
    arrived = np.flatnonzero(wait <= 0.0)
    out = np.zeros(mean.size)
    if arrived.size:
        out[arrived] = 1.0 + rng.poisson(-wait[arrived])
    return out
