"""Runs reproduce: each stores its run format and lianfang version; a re-run of its stored
inputs gives the same figures, or is refused naming the version that made it."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from lianfang import __version__
from lianfang.auth.choices import Role
from lianfang.errors import ConflictError
from lianfang.forecast import service
from lianfang.forecast.engine import RUN_FORMAT
from lianfang.forecast.models import ForecastRun, RunStatus
from tests.conftest import bearer
from tests.factories import TOWN
from tests.forecast.test_forecast_api import compute


def stored(session: Session, run_id: int) -> ForecastRun:
    run = session.get(ForecastRun, run_id)
    assert run is not None
    session.refresh(run)
    return run


def test_a_rerun_gives_the_same_figures(client: TestClient, session: Session) -> None:
    headers = bearer(client, Role.district_operator)
    first = client.post(
        "/api/forecast/runs",
        headers=headers,
        json={"area_code": TOWN, "days": 40, "members": 6, "seed": 4},
    ).json()
    assert first["format_version"] == RUN_FORMAT
    assert first["package_version"] == __version__
    compute(session, first["id"])
    again = client.post("/api/forecast/reruns", headers=headers, json={"run_id": first["id"]})
    assert again.status_code == 202, again.text
    compute(session, again.json()["id"])
    a, b = stored(session, first["id"]), stored(session, again.json()["id"])
    assert json.loads(a.inputs) == json.loads(b.inputs)
    assert b.status is RunStatus.done
    assert a.result == b.result  # byte for byte
    assert service.same_figures(json.loads(a.result or ""), json.loads(b.result or ""))
    changed = json.loads(b.result or "")
    changed["scenarios"][0]["peaks"][0]["deaths"] += 1
    assert not service.same_figures(json.loads(a.result or ""), changed)


def test_a_run_of_another_format_is_refused_naming_its_version(
    client: TestClient, session: Session
) -> None:
    headers = bearer(client, Role.admin)
    run_id = client.post(
        "/api/forecast/runs", headers=headers, json={"area_code": TOWN, "days": 30}
    ).json()["id"]
    run = stored(session, run_id)
    run.format_version, run.package_version = RUN_FORMAT + 1, "9.9.0"
    session.flush()
    refused = client.post("/api/forecast/reruns", headers=headers, json={"run_id": run_id})
    assert refused.status_code == 409, refused.text
    message = refused.json()["message_en"]
    assert f"made by lianfang 9.9.0 with run format {RUN_FORMAT + 1}" in message
    assert f"computes format {RUN_FORMAT}" in message
    run.format_version = None  # stored before formats were recorded
    session.flush()
    older = client.post("/api/forecast/reruns", headers=headers, json={"run_id": run_id})
    assert older.status_code == 409
    assert "before lianfang recorded the run format" in older.json()["message_en"]


def test_the_worker_refuses_a_run_queued_by_another_format(
    client: TestClient, session: Session
) -> None:
    run_id = client.post(
        "/api/forecast/runs", headers=bearer(client, Role.admin), json={"area_code": TOWN}
    ).json()["id"]
    run = stored(session, run_id)
    run.format_version = RUN_FORMAT + 1
    session.flush()
    with pytest.raises(ConflictError, match="run format"):
        compute(session, run_id)
    run = stored(session, run_id)
    assert run.status is RunStatus.failed
    assert run.result is None
    assert f"run format {RUN_FORMAT + 1}" in (run.error or "")
