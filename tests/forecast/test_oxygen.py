"""Oxygen demand next to beds: patients on oxygen, concentrators and cylinders, with bands."""

from __future__ import annotations

import numpy as np

from lianfang.forecast import DiseaseParameters, Metapopulation, Scenario, forecast, simulate
from lianfang.forecast.severity import outcomes

POP = Metapopulation.from_arrays(
    ["a", "b"], [[3000, 12000, 1600, 2800, 600], [1500, 6000, 800, 1400, 300]], [0, 0], [0, 0]
)


def test_oxygen_follows_the_census_by_the_stated_rule() -> None:
    run = simulate(POP, DiseaseParameters(), Scenario(seed_per_100k=20), 120)
    out = outcomes(run, DiseaseParameters())
    beds, icu = out["hospital_census"], out["icu_census"]
    assert icu.max() > 0
    ward_on_oxygen = 0.676 * (beds - icu)  # Mostafa et al. 2022: 67.6% of inpatients
    assert np.allclose(out["oxygen_patients"], ward_on_oxygen + icu)
    assert np.allclose(out["oxygen_concentrators"], ward_on_oxygen)  # one 10 L/min each
    litres_a_day = (ward_on_oxygen * 10 + icu * 30) * 24 * 60  # WHO: severe 10, critical 30
    assert np.allclose(out["oxygen_cylinders"], litres_a_day / 6800)  # J-size cylinders


def test_an_ensemble_bands_oxygen_and_reports_its_peak() -> None:
    result = forecast(POP, DiseaseParameters(), Scenario(seed_per_100k=20), 120, members=6, seed=2)
    low, median, high = result.bands["oxygen_patients"][:, :, -1]
    assert median.max() > 0
    assert np.all(low <= median)
    assert np.all(median <= high)
    assert (high - low).max() > 0
    whole = result.peak_table()[-1]
    assert 0 < whole["peak_oxygen_concentrators"] < whole["peak_oxygen_patients"]
    assert whole["peak_oxygen_patients"] <= whole["peak_hospital_census"]
    assert whole["oxygen_cylinders"] > 0
