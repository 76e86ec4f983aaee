"""A fit forecasts what the headquarters plans with: every outcome of a plain run, per child
area, with bands from the fitted parameters' uncertainty, and the observations beside them."""

from __future__ import annotations

from datetime import date

import numpy as np
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from lianfang.auth.choices import Role
from lianfang.forecast import DiseaseParameters, Metapopulation, Scenario
from lianfang.forecast.fit import Observed, fit, outcomes_after_fit, simulate_series
from lianfang.forecast.severity import MEASURES
from tests.conftest import bearer
from tests.factories import TOWN
from tests.forecast.test_forecast_api import compute


def test_outcomes_after_a_fit_bracket_the_truth_with_bands_from_the_parameters() -> None:
    pop = Metapopulation.from_arrays(
        ["a", "b", "c"],
        [
            [8000, 30000, 4000, 7000, 1500],
            [5000, 20000, 3000, 5000, 1000],
            [2000, 10000, 1000, 2000, 500],
        ],
        [0, 0, 1],
        [0, 0, 0],
    )
    truth = simulate_series(pop, DiseaseParameters(r0=2.6), Scenario(), 120)
    start = date(2022, 12, 1)
    seen = np.random.default_rng(5).poisson(truth["admissions"][:60]).astype(float)
    visits = np.random.default_rng(6).poisson(truth["visits"][:60]).astype(float)
    observed = Observed(start, {"admissions": seen, "visits": visits})  # two series at once
    result = fit(pop, DiseaseParameters(), Scenario(), observed)
    assert result.covariance is not None
    out = outcomes_after_fit(
        pop, DiseaseParameters(), Scenario(), observed, result, 90,
        np.random.default_rng(0), groups=[0, 0, 1], group_names=["t0", "t1"], draws=20,
    )  # fmt: skip
    assert set(out.bands) == set(MEASURES)
    assert out.bands["hospital_census"].shape == (3, 90, 3)
    assert out.start == start
    assert out.members == 20
    low, median, high = out.bands["admissions"][:, :, -1]
    assert np.all(low <= median + 1e-9)
    assert np.all(median <= high + 1e-9)
    assert (high - low).max() > 0.02 * median.max()  # the parameters' uncertainty shows
    # the model that made the data lies mostly inside the bands of what follows
    later = truth["admissions"][30:90]
    inside = (later >= low[30:90] * 0.95) & (later <= high[30:90] * 1.05)
    assert inside.mean() >= 0.8
    # the groups add up to the whole area, and each village has a peak day
    assert np.allclose(out.bands["deaths"][1, :, :2].sum(), out.bands["deaths"][1, :, 2].sum(),
                       rtol=0.05)  # fmt: skip
    assert np.isfinite(out.village_peak_day).all()
    assert abs(float(np.nanmedian(out.village_peak_day)) - int(np.argmax(truth["visits"]))) < 8
    table = out.peak_table()
    assert [row["group"] for row in table] == ["t0", "t1", "all"]
    assert table[-1]["peak_hospital_census"] > 0
    assert table[-1]["antiviral_courses"] > 0


def test_a_fit_result_has_every_outcome_of_a_run(client: TestClient, session: Session) -> None:
    headers = bearer(client, Role.district_operator)
    made = client.post(
        "/api/forecast/runs", headers=headers,
        json={"area_code": TOWN, "days": 70, "scenarios": [{"name": "base"}]},
    ).json()  # fmt: skip
    compute(session, made["id"])
    run = client.get(f"/api/forecast/runs/{made['id']}", headers=headers).json()["result"]
    visits = np.array(run["scenarios"][0]["bands"]["visits"]["median"][-1])
    admissions = np.array(run["scenarios"][0]["bands"]["admissions"]["median"][-1])
    rng = np.random.default_rng(8)
    rows = ["date,visits,admissions"] + [
        f"{np.datetime64('2022-12-01') + d},{rng.poisson(visits[d])},{rng.poisson(admissions[d])}"
        for d in range(50)
    ]
    answer = client.post(
        "/api/forecast/fits", headers=headers, data={"area_code": TOWN, "days": "20"},
        files={"series": ("two.csv", "\n".join(rows), "text/csv")},
    )  # fmt: skip
    assert answer.status_code == 202, answer.text
    compute(session, answer.json()["id"])
    fitted = client.get(f"/api/forecast/runs/{answer.json()['id']}", headers=headers).json()
    result = fitted["result"]
    assert set(result["estimates"]) >= {"r0", "scale_visits", "scale_admissions"}
    # the same tables as a run: one scenario, bands of every measure per village and the town
    assert result["group_codes"] == run["group_codes"]
    (outcome,) = result["scenarios"]
    assert outcome["start"] == "2022-12-01"
    assert set(outcome["bands"]) == set(run["scenarios"][0]["bands"])
    assert len(outcome["bands"]["icu_census"]["median"]) == len(run["group_codes"]) + 1
    assert len(outcome["bands"]["deaths"]["median"][-1]) == 50 + 20
    assert len(outcome["peaks"]) == len(run["group_codes"]) + 1
    assert len(outcome["village_peak_day"]) == len(run["group_codes"])
    whole = outcome["peaks"][-1]
    assert whole["antipyretic_courses"] > whole["antiviral_courses"] > 0
    assert whole["peak_hospital_census"] > 0
    # the observations stay beside it, for the page's chart over the fitted curve
    assert len(result["observed"]["admissions"]) == 50
    assert len(result["predicted"]["visits"]["median"]) == 50 + 20
