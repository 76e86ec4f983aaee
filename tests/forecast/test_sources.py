"""The default delays against what mainland China saw in its Dec 2022 wave (issue 13 §3).

No onset-to-admission or onset-to-death delay of that wave could be read; what could be read is
China CDC's national report of 25 Jan 2023: fever-clinic visits peaked on 23 Dec 2022 (township
health centres' on the same day), severe cases in hospital on 5 Jan 2023 and deaths in hospital
on 4 Jan 2023, i.e. 13 and 12 days after the visits. The defaults are calibrated to those lags
(docs/forecast.md), which these tests keep true on 如东县 of the demo world.
"""

from __future__ import annotations

import numpy as np
import pytest

from lianfang.forecast import DiseaseParameters, Metapopulation, simulate
from lianfang.forecast.presets import PRESETS
from lianfang.forecast.severity import outcomes
from tests.forecast.test_agreement import rudong  # noqa: F401  (the 如东县 fixture)

DAYS = 120
VISITS_TO_SEVERE_CENSUS = 13  # 23 Dec 2022 → 5 Jan 2023
VISITS_TO_DEATHS = 12  # 23 Dec 2022 → 4 Jan 2023


def lags(pop: Metapopulation, params: DiseaseParameters) -> dict[str, int]:
    """Days from the peak of fever-clinic visits to the peaks of the ICU census and deaths
    (county totals of a deterministic baseline run)."""
    run = simulate(pop, params, PRESETS["baseline"](), DAYS)
    county = np.zeros(run.infections.shape[1], dtype=int)
    out = outcomes(
        run, params, groups=county, n_groups=1, measures=("visits", "icu_census", "deaths")
    )
    peak = {name: int(np.argmax(out[name][:, 0])) for name in ("visits", "icu_census", "deaths")}
    return {
        "icu_census": peak["icu_census"] - peak["visits"],
        "deaths": peak["deaths"] - peak["visits"],
    }


def test_the_default_delays_give_china_s_lags_after_the_fever_clinic_peak(
    rudong: Metapopulation,  # noqa: F811
) -> None:
    found = lags(rudong, DiseaseParameters())
    assert abs(found["icu_census"] - VISITS_TO_SEVERE_CENSUS) <= 1
    assert abs(found["deaths"] - VISITS_TO_DEATHS) <= 1


def test_the_former_delays_peaked_too_soon(rudong: Metapopulation) -> None:  # noqa: F811
    """The values before the calibration (5 and 12 d) put both peaks 2 days too early, so the
    check above can fail."""
    former = DiseaseParameters().with_values(onset_to_admission_days=5.0, onset_to_death_days=12.0)
    found = lags(rudong, former)
    assert found["icu_census"] <= VISITS_TO_SEVERE_CENSUS - 2
    assert found["deaths"] <= VISITS_TO_DEATHS - 2


@pytest.mark.parametrize(
    ("name", "value"), [("onset_to_admission_days", 8.0), ("onset_to_death_days", 16.0)]
)
def test_describe_names_the_calibration_and_its_source(name: str, value: float) -> None:
    row = next(r for r in DiseaseParameters.describe() if r["name"] == name)
    assert row["default"] == value
    assert "calibrated, not measured" in row["source"]
    assert "China CDC" in row["source"]
