"""Forecasts through the API and the stored runs: queue, compute, read, reproduce."""

from __future__ import annotations

import json

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from lianfang.auth.choices import Role
from lianfang.errors import LianfangError
from lianfang.forecast import forecast, worker
from lianfang.forecast.models import ForecastRun, RunStatus
from lianfang.forecast.parameters import DiseaseParameters
from lianfang.forecast.scenario import Scenario
from tests.conftest import bearer
from tests.factories import TOWN


def compute(session: Session, run_id: int) -> None:
    """Do in-process what the worker process does, on the test's own connection."""
    factory = sessionmaker(
        bind=session.connection(), join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    worker.execute(factory, run_id)


def test_a_forecast_is_queued_computed_and_read(client: TestClient, session: Session) -> None:
    headers = bearer(client, Role.district_operator)
    answer = client.post(
        "/api/forecast/runs", headers=headers, json={"area_code": "320623001", "days": 60}
    )
    assert answer.status_code == 202, answer.text
    run_id = answer.json()["id"]
    assert answer.json()["status"] == "queued"
    assert client.app.state.started_forecasts == [run_id]  # type: ignore[attr-defined]
    compute(session, run_id)
    body = client.get(f"/api/forecast/runs/{run_id}", headers=headers).json()
    assert body["status"] == "done"
    assert body["progress"] == 1.0
    result = body["result"]
    assert [s["name"][:5] for s in result["scenarios"]] == ["无额外措施", "抗病毒药+"]
    villages = len(result["group_codes"])
    assert villages == 31  # 掘港街道's villages and communities
    for scenario in result["scenarios"]:
        assert len(scenario["peaks"]) == villages + 1
        assert len(scenario["bands"]["symptomatic"]["median"]) == villages + 1
        assert len(scenario["village_peak_day"]) == villages
    base, protect = (s["peaks"][-1] for s in result["scenarios"])
    assert protect["deaths"] < base["deaths"]
    assert base["antipyretic_courses"] > base["antiviral_courses"] > 0
    listed = client.get("/api/forecast/runs", params={"area": "320623001"}, headers=headers)
    assert [r["id"] for r in listed.json()] == [run_id]


def test_stored_inputs_reproduce_the_published_figures(
    client: TestClient, session: Session
) -> None:
    headers = bearer(client, Role.city_commander)
    run_id = client.post(
        "/api/forecast/runs",
        headers=headers,
        json={"area_code": TOWN, "days": 50, "members": 3, "seed": 9},
    ).json()["id"]
    compute(session, run_id)
    run = session.get(ForecastRun, run_id)
    assert run is not None
    inputs, stored = json.loads(run.inputs), json.loads(run.result or "{}")
    again = forecast(
        worker.population_from(inputs),
        DiseaseParameters(),
        Scenario.from_dict(inputs["scenarios"][0]),
        inputs["days"],
        members=inputs["members"],
        seed=inputs["seed"],
        groups=inputs["groups"],
        group_names=inputs["group_names"],
    )
    assert again.peak_table() == stored["scenarios"][0]["peaks"]
    assert np.allclose(
        np.round(again.bands["deaths"][1].T, 1), stored["scenarios"][0]["bands"]["deaths"]["median"]
    )


def test_a_failing_run_is_marked_failed_with_its_reason(
    client: TestClient, session: Session
) -> None:
    headers = bearer(client, Role.admin)
    refused = client.post(
        "/api/forecast/runs",
        headers=headers,
        json={"area_code": TOWN, "days": 30, "parameters": {"r0": -1}},
    )
    assert refused.status_code == 422  # checked on the way in; a run's inputs can still fail:
    assert "r0" in refused.json()["message"]
    run_id = client.post(
        "/api/forecast/runs", headers=headers, json={"area_code": TOWN, "days": 30}
    ).json()["id"]
    stored = session.get(ForecastRun, run_id)
    assert stored is not None
    stored.inputs = json.dumps(json.loads(stored.inputs) | {"parameters": {"r0": -1}})
    session.flush()
    with pytest.raises(LianfangError, match="r0"):
        compute(session, run_id)
    run = session.get(ForecastRun, run_id)
    assert run is not None
    session.refresh(run)
    assert run.status is RunStatus.failed
    assert "r0" in (run.error or "")


def test_bad_requests_name_the_problem(client: TestClient) -> None:
    headers = bearer(client, Role.admin)
    bad_scenario = client.post(
        "/api/forecast/runs",
        headers=headers,
        json={"area_code": TOWN, "scenarios": [{"name": "x", "start": "not a date"}]},
    )
    assert bad_scenario.status_code == 422
    assert "scenarios" in bad_scenario.json()["message"]
    no_people = client.post("/api/forecast/runs", headers=headers, json={"area_code": "3201"})
    assert no_people.status_code in (400, 404)


def test_parameters_are_documented(client: TestClient) -> None:
    rows = client.get("/api/forecast/parameters", headers=bearer(client, Role.viewer)).json()
    assert {r["name"] for r in rows} >= {"r0", "latent_days", "hospital_given_infection"}
    assert all(r["meaning"] and r["unit"] and r["source"] for r in rows)


def test_stored_results_are_strict_json(client: TestClient, session: Session) -> None:
    run_id = client.post(
        "/api/forecast/runs",
        headers=bearer(client, Role.admin),
        json={"area_code": "320623001001", "days": 30, "members": 2},
    ).json()["id"]
    compute(session, run_id)
    run = session.get(ForecastRun, run_id)
    assert run is not None
    session.refresh(run)

    def refuse(token: str) -> None:
        raise AssertionError(f"{token} in stored JSON")

    json.loads(run.result or "", parse_constant=refuse)


def test_a_fit_is_uploaded_computed_and_read(client: TestClient, session: Session) -> None:
    headers = bearer(client, Role.district_operator)
    forecast_id = client.post(
        "/api/forecast/runs",
        headers=headers,
        json={
            "area_code": TOWN,
            "days": 70,
            "scenarios": [{"name": "base", "start": "2022-12-01"}],
        },
    ).json()["id"]
    compute(session, forecast_id)
    made = client.get(f"/api/forecast/runs/{forecast_id}", headers=headers).json()
    visits = np.array(made["result"]["scenarios"][0]["bands"]["visits"]["median"][-1])
    observed = np.random.default_rng(2).poisson(visits)
    rows = ["date,visits"] + [
        f"2022-12-{d + 1:02d},{v}" if d < 31 else f"2023-01-{d - 30:02d},{v}"
        for d, v in enumerate(observed[:60])
    ]
    answer = client.post(
        "/api/forecast/fits",
        headers=headers,
        data={"area_code": TOWN, "until": "2023-01-15", "days": "10"},
        files={"series": ("visits.csv", "\n".join(rows), "text/csv")},
    )
    assert answer.status_code == 202, answer.text
    compute(session, answer.json()["id"])
    fitted = client.get(f"/api/forecast/runs/{answer.json()['id']}", headers=headers).json()
    assert fitted["kind"] == "fit"
    assert fitted["status"] == "done"
    _r0, low, high = fitted["result"]["estimates"]["r0"]
    assert low <= 3.0 <= high
    assert len(fitted["result"]["predicted"]["visits"]["median"]) == 60 + 10


def test_a_bad_upload_names_the_row(client: TestClient) -> None:
    answer = client.post(
        "/api/forecast/fits",
        headers=bearer(client, Role.admin),
        data={"area_code": TOWN},
        files={"series": ("v.csv", "date,visits\n2022-12-01,x\n", "text/csv")},
    )
    assert answer.status_code == 400
    assert "v.csv 第 2 行「visits」列" in answer.json()["message"]
