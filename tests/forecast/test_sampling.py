"""The chain binomial's samplers against the distributions they claim to draw from, and members
drawn side by side against members drawn one at a time."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from lianfang.forecast import DiseaseParameters, Metapopulation, Scenario, Trajectory, simulate
from lianfang.forecast.engine import simulate_members
from lianfang.forecast.sampling import TABLE_MAX_N, Infections, TableBinomial, poisson

DRAWS = 200_000


def fits(sample: np.ndarray, pmf: np.ndarray) -> float:
    """Chi-square p-value of whole-number draws against a pmf over 0…len(pmf)−1; outcomes
    expected fewer than 5 times are pooled into their own cell."""
    counts = np.bincount(sample.astype(np.int64), minlength=len(pmf)).astype(float)
    assert len(counts) == len(pmf), "outcome out of range"
    if np.count_nonzero(pmf > 1e-12) == 1:  # one possible outcome: all draws must be it
        return 1.0 if counts[np.argmax(pmf)] == len(sample) else 0.0
    expected = pmf * len(sample)
    keep = expected >= 5
    observed = np.append(counts[keep], counts[~keep].sum())
    wanted = np.append(expected[keep], expected[~keep].sum())
    if wanted[-1] < 5:  # the pooled tail is too rare to test on its own: join it to the rest
        observed[-2] += observed[-1]
        wanted[-2] += wanted[-1]
        observed, wanted = observed[:-1], wanted[:-1]
    wanted *= observed.sum() / wanted.sum()
    return float(stats.chisquare(observed, wanted).pvalue)


@pytest.mark.parametrize("p", [0.0, 0.05, 0.2835, 0.3935, 0.8, 1.0])
@pytest.mark.parametrize("n", [0, 1, 7, 40, TABLE_MAX_N, TABLE_MAX_N + 1, 400])
def test_table_draws_are_binomial(n: int, p: float) -> None:
    rng = np.random.default_rng(n * 1000 + round(p * 100))
    sampler = TableBinomial(np.full(5, p), (DRAWS // 5, 5))
    out = np.empty((DRAWS // 5, 5))
    sampler.draw(rng, np.full((DRAWS // 5, 5), float(n)), out)
    assert fits(out.ravel(), stats.binom.pmf(np.arange(n + 1), n, p)) > 1e-4


def test_table_draws_use_each_age_bands_own_chance() -> None:
    chances = np.array([0.5, 0.6, 0.7, 0.75, 0.8])
    sampler = TableBinomial(chances, (DRAWS // 5, 2, 5))
    n = np.zeros((DRAWS // 5, 2, 5))
    n[:, 0] = 12.0
    n[:, 1] = 300.0  # beyond the tables
    out = np.empty_like(n)
    sampler.draw(np.random.default_rng(1), n, out)
    for band, p in enumerate(chances):
        for member, size in enumerate((12, 300)):
            pmf = stats.binom.pmf(np.arange(size + 1), size, p)
            assert fits(out[:, member, band], pmf) > 1e-4


@pytest.mark.parametrize(
    ("s", "rate"),
    [
        (0, 0.3),
        (5000, 0.0),
        (1, 0.5),
        (3000, 1e-5),
        (3000, 2e-4),
        (800, 0.004),
        (60, 0.1),
        (40, 0.2),
        (3000, 0.01),
        (5000, 0.15),
    ],
)
def test_infections_are_binomial(s: int, rate: float) -> None:
    """Zero draws, the skipping path (with and without the binomial for the rest) and the large
    means left to Generator.binomial."""
    rng = np.random.default_rng(s + round(rate * 1e6))
    shape = (DRAWS // 5, 5)
    out = np.empty(shape)
    Infections(shape).draw(rng, np.full(shape, float(s)), np.full(shape, -rate), out)
    p = -np.expm1(-rate)
    top = int(min(s, s * p + 12 * np.sqrt(s * p + 1) + 10))
    pmf = stats.binom.pmf(np.arange(top + 1), s, p)
    pmf[-1] += stats.binom.sf(top, s, p)
    assert out.max() <= top
    assert fits(out.ravel(), pmf) > 1e-4


@pytest.mark.parametrize("mean", [0.0, 0.01, 0.4, 3.0, 40.0])
def test_poisson_counts_are_poisson(mean: float) -> None:
    out = poisson(np.random.default_rng(round(mean * 100)), np.full(DRAWS, mean))
    top = int(mean + 12 * np.sqrt(mean + 1) + 10)
    pmf = stats.poisson.pmf(np.arange(top + 1), mean)
    pmf[-1] += stats.poisson.sf(top, mean)
    assert fits(out, pmf) > 1e-4


def small_area() -> Metapopulation:
    rng = np.random.default_rng(3)
    residents = rng.integers(50, 900, size=(30, 5)).astype(float)
    town = np.arange(30) // 6
    return Metapopulation.from_arrays([f"v{i}" for i in range(30)], residents, town, town // 2)


def test_members_side_by_side_are_distributed_like_members_one_at_a_time() -> None:
    pop, params, scenario = small_area(), DiseaseParameters(), Scenario(seed_per_100k=40)
    runs = 120
    apart = [simulate(pop, params, scenario, 90, rng=np.random.default_rng(s)) for s in range(runs)]
    together = [
        run
        for s in range(runs // 10)
        for run in simulate_members(pop, params, scenario, 90, np.random.default_rng([7, s]), 10)
    ]

    def summary(run: Trajectory) -> list[float]:
        sym = run.symptomatic.sum(axis=1)
        return [
            run.infections.sum(),
            run.infections[:25].sum(),
            run.visits_at_onset.sum(),
            float(sym.argmax()),
            sym.max(),
        ]

    a, b = np.array([summary(r) for r in apart]), np.array([summary(r) for r in together])
    # the whole distribution of each summary (two-sample Kolmogorov–Smirnov): robust to the
    # rare member whose outbreak starts late, which makes means and SDs of 120 runs jumpy
    for column in range(a.shape[1]):
        assert stats.ks_2samp(a[:, column], b[:, column]).pvalue > 1e-3
    # members of one batch differ from one another
    assert len({r.infections.sum() for r in together[:10]}) > 1


def test_one_deterministic_member_is_the_deterministic_run() -> None:
    pop, params, scenario = small_area(), DiseaseParameters(), Scenario()
    (one,) = simulate_members(pop, params, scenario, 60, None, 1)
    run = simulate(pop, params, scenario, 60)
    assert np.array_equal(one.infections, run.infections)
    with pytest.raises(ValueError, match="members"):
        simulate_members(pop, params, scenario, 60, None, 2)
