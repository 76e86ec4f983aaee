"""Hospital and ICU stays by age band: each band's admissions stay in bed for its own time."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from lianfang.forecast import DiseaseParameters, Metapopulation, Scenario, simulate
from lianfang.forecast.engine import Trajectory, simulate_stacked
from lianfang.forecast.parameters import N_AGES
from lianfang.forecast.severity import convolve, delay_pmf, outcomes, stay_survival

MIXED = [1500, 6000, 800, 1400, 300]
POP = Metapopulation.from_arrays(["a", "b"], [MIXED, [300, 1200, 500, 2400, 1200]], [0, 0], [0, 0])
CENSUS = ("admissions", "icu_admissions", "hospital_census", "icu_census")


def only(run: Trajectory, band: int) -> Trajectory:
    """The run with the admissions of one age band kept and the others' removed."""
    keep = np.zeros((N_AGES, 1, 1))
    keep[band] = 1.0
    return replace(
        run, admissions_by_age=run.admissions_by_age * keep, icu_by_age=run.icu_by_age * keep
    )


def test_admissions_by_age_add_up_to_the_village_series() -> None:
    run = simulate(POP, DiseaseParameters(), Scenario(seed_per_100k=20), 120)
    assert run.admissions_by_age.shape == (N_AGES, 120, 2)
    assert np.allclose(run.admissions_by_age.sum(axis=0), run.admissions_at_onset)
    old = run.admissions_by_age[3:].sum()
    assert old > 0.7 * run.admissions_at_onset.sum()  # most admissions are aged 65+
    assert (run.icu_by_age <= run.admissions_by_age + 1e-12).all()


def test_one_stay_at_every_age_is_the_age_free_census() -> None:
    params = DiseaseParameters().with_values(hospital_stay_days=[6.0] * N_AGES)
    run = simulate(POP, params, Scenario(seed_per_100k=20), 120)
    out = outcomes(run, params)
    admitted = convolve(run.admissions_at_onset, delay_pmf(params.onset_to_admission_days))
    assert np.allclose(out["hospital_census"], convolve(admitted, stay_survival(6.0)))


def test_the_census_is_the_sum_of_each_band_in_bed_for_its_own_stay() -> None:
    params = DiseaseParameters().with_values(
        hospital_stay_days=[2.0, 3.0, 4.0, 7.0, 12.0], icu_stay_days=[5.0, 6.0, 8.0, 10.0, 14.0]
    )
    run = simulate(POP, params, Scenario(seed_per_100k=20), 120)
    groups = np.array([0, 0])
    whole = outcomes(run, params, groups=groups, measures=CENSUS)
    for name, stays in (("hospital_census", "hospital_stay_days"), ("icu_census", "icu_stay_days")):
        total = np.zeros_like(whole[name])
        for band in range(N_AGES):
            alone = params.with_values(**{stays: [getattr(params, stays)[band]] * N_AGES})
            total += outcomes(only(run, band), alone, groups=groups, measures=CENSUS)[name]
        assert np.allclose(whole[name], total)
        assert whole[name].max() > 0


def test_longer_stays_of_the_oldest_fill_more_beds_for_the_same_admissions() -> None:
    oldest = Metapopulation.from_arrays(["x"], [[0, 0, 0, 0, 5000]], [0], [0])
    base = DiseaseParameters().with_values(hospital_stay_days=[8.0] * N_AGES)
    longer = base.with_values(hospital_stay_days=[8.0, 8.0, 8.0, 8.0, 16.0])
    younger = base.with_values(hospital_stay_days=[16.0, 16.0, 16.0, 16.0, 8.0])
    scenario = Scenario(seed_per_100k=200)
    runs = [simulate(oldest, p, scenario, 150) for p in (base, longer, younger)]
    out = [outcomes(r, p) for r, p in zip(runs, (base, longer, younger), strict=True)]
    assert np.allclose(out[0]["admissions"], out[1]["admissions"])  # stays change no admissions
    assert out[1]["hospital_census"].sum() > 1.8 * out[0]["hospital_census"].sum()
    assert out[1]["hospital_census"].max() > out[0]["hospital_census"].max()
    # the others' stays do not matter where only the oldest live
    assert np.allclose(out[2]["hospital_census"], out[0]["hospital_census"])


def test_the_default_stays_follow_age_and_the_old_stay_longest() -> None:
    stays = DiseaseParameters().hospital_stay_days
    assert list(stays) == sorted(stays)
    assert stays[0] < stays[-1]


def test_stays_are_one_positive_value_per_age_band() -> None:
    with pytest.raises(ValueError, match="hospital_stay_days: need 5 values"):
        DiseaseParameters().with_values(hospital_stay_days=8.0)
    with pytest.raises(ValueError, match="icu_stay_days: need 5 values"):
        DiseaseParameters().with_values(icu_stay_days=[10.0, 10.0])
    with pytest.raises(ValueError, match="icu_stay_days: every stay must be positive"):
        DiseaseParameters().with_values(icu_stay_days=[10.0, 10.0, 0.0, 10.0, 10.0])


def test_stochastic_admissions_are_drawn_by_age_band_and_fold_member_by_member() -> None:
    params = DiseaseParameters()
    runs = simulate_stacked(
        POP, params, Scenario(seed_per_100k=20), 90, np.random.default_rng(3), 3
    )
    assert runs.admissions_by_age.shape == (3, N_AGES, 90, 2)
    assert np.array_equal(runs.admissions_by_age, np.round(runs.admissions_by_age))
    stacked = outcomes(runs, params, measures=CENSUS)
    for m in range(3):
        one = outcomes(runs.member(m), params, measures=CENSUS)
        for name in CENSUS:
            assert np.allclose(stacked[name][m], one[name])
