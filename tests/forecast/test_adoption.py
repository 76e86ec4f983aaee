"""One adopted planning forecast per area: who adopted it and when, history kept, demand per
item and day for any area inside it, and a stale flag."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lianfang.auth import chain
from lianfang.auth.choices import Role
from lianfang.auth.models import AuditEvent
from lianfang.auth.scope import SYSTEM
from lianfang.errors import ConflictError, InvalidInputError, NotFoundError
from lianfang.forecast import adoption, service
from lianfang.forecast.models import ForecastAdoption, ForecastRun, RunKind, RunStatus
from lianfang.timeutil import utcnow
from tests.conftest import bearer
from tests.factories import COUNTY, TOWN, VILLAGE, actor_of
from tests.forecast.test_forecast_api import compute


def finished(client: TestClient, session: Session, code: str, days: int = 40) -> int:
    answer = client.post(
        "/api/forecast/runs",
        headers=bearer(client, Role.admin),
        json={"area_code": code, "days": days},
    )
    assert answer.status_code == 202, answer.text
    compute(session, answer.json()["id"])
    return int(answer.json()["id"])


def test_adopting_records_who_and_when_and_replacing_keeps_history(
    client: TestClient, session: Session
) -> None:
    first, second = finished(client, session, TOWN), finished(client, session, TOWN, 30)
    commander = actor_of(Role.city_commander)
    made = adoption.adopt(session=session, actor=commander, run_id=first, scenario=1)
    assert (made.area_code, made.run_id, made.scenario) == (TOWN, first, 1)
    assert made.adopted_by == commander.username
    assert made.replaced_at is None
    county = actor_of(Role.district_operator)
    again = adoption.adopt(session=session, actor=county, run_id=second)
    history = adoption.history(session=session, actor=SYSTEM, code=TOWN)
    assert [a.id for a in history] == [again.id, made.id]
    assert history[1].replaced_by == county.username
    assert history[1].replaced_at is not None
    assert adoption.current(session=session, actor=SYSTEM, code=TOWN) == again
    rows = session.scalars(
        select(AuditEvent).where(AuditEvent.entity_type == "forecast_adoption")
    ).all()
    assert [(r.action.value, r.entity_id) for r in rows] == [
        ("create", str(made.id)), ("update", str(made.id)), ("create", str(again.id)),
    ]  # fmt: skip
    assert chain.verify(session).broken is None


def test_the_database_holds_one_current_adoption_per_area(
    client: TestClient, session: Session
) -> None:
    run = finished(client, session, TOWN, 20)
    adoption.adopt(session=session, actor=SYSTEM, run_id=run)

    def another_current() -> None:
        session.add(ForecastAdoption(area_code=TOWN, run_id=run, adopted_by="x"))
        session.flush()

    with pytest.raises(IntegrityError), session.begin_nested():
        another_current()


def test_only_a_finished_run_and_a_real_scenario_are_adopted(
    client: TestClient, session: Session
) -> None:
    queued = service.queue(
        session=session, actor=SYSTEM, code=TOWN, kind=RunKind.forecast,
        inputs=service.forecast_inputs(days=20, members=0, seed=0),
    )  # fmt: skip
    with pytest.raises(ConflictError, match="only a finished run"):
        adoption.adopt(session=session, actor=SYSTEM, run_id=queued.id)
    done = finished(client, session, TOWN, 20)
    with pytest.raises(InvalidInputError, match="scenarios 0 to 1, not 2"):
        adoption.adopt(session=session, actor=SYSTEM, run_id=done, scenario=2)
    old_fit = service.create_run(
        session=session, actor=SYSTEM, code=TOWN, kind=RunKind.fit, inputs={"days": 1}
    )
    service.mark(session=session, run=old_fit, status=RunStatus.done, result={"estimates": {}})
    with pytest.raises(ConflictError, match="stored before fits forecast"):
        adoption.adopt(session=session, actor=SYSTEM, run_id=old_fit.id)


def test_demand_for_any_area_inside_the_adopted_one(client: TestClient, session: Session) -> None:
    with pytest.raises(NotFoundError):
        adoption.adopted_forecast(session=session, actor=SYSTEM, area=VILLAGE)
    run_id = finished(client, session, COUNTY, 60)  # the county's run reports its towns
    adoption.adopt(session=session, actor=actor_of(Role.district_operator), run_id=run_id)
    run = session.get(ForecastRun, run_id)
    assert run is not None
    result = json.loads(run.result or "")
    stored = result["scenarios"][0]
    town = result["group_codes"].index(TOWN)
    county = adoption.adopted_forecast(session=session, actor=SYSTEM, area=COUNTY)
    assert county.adopted_area_code == COUNTY
    assert county.scaled == 1.0
    assert set(county.demand) >= {
        "antipyretic_courses", "antiviral_courses", "hospital_census", "icu_census",
        "oxygen_patients", "oxygen_concentrators", "oxygen_cylinders",
    }  # fmt: skip
    beds = county.demand["hospital_census"]
    assert list(beds.median) == stored["bands"]["hospital_census"]["median"][-1]
    bands = zip(beds.low, beds.median, beds.high, strict=True)
    assert all(lo <= mid <= hi for lo, mid, hi in bands)
    assert county.peak_date is not None
    assert county.peak_date.isoformat() == stored["peaks"][-1]["peak_date"]
    assert len(county.dates) == county.days == 60
    # a town of the county: its own column, read by the town's operator
    in_town = adoption.adopted_forecast(
        session=session, actor=actor_of(Role.town_operator), area=TOWN
    )
    assert in_town.adopted_area_code == COUNTY
    assert (
        list(in_town.demand["antiviral_courses"].median)
        == (stored["bands"]["antiviral_courses"]["median"][town])
    )
    # a village: the town's demand times the village's share of the town's residents
    inputs = json.loads(run.inputs)
    people = {c: sum(r) for c, r in zip(inputs["codes"], inputs["residents"], strict=True)}
    share = people[VILLAGE] / sum(n for c, n in people.items() if c.startswith(TOWN[:9]))
    village = adoption.adopted_forecast(session=session, actor=SYSTEM, area=VILLAGE)
    assert village.scaled == pytest.approx(share)
    assert village.adopted_area_name == county.area_name == "如东县"
    peak = max(stored["bands"]["oxygen_patients"]["median"][town])
    assert max(village.demand["oxygen_patients"].median) == pytest.approx(peak * share, abs=0.01)
    day = village.start + timedelta(days=30)
    low, mid, high = village.demand["antipyretic_courses"].on(day, village.start) or (0, 0, 0)
    assert low <= mid <= high
    assert mid == pytest.approx(stored["bands"]["antipyretic_courses"]["median"][town][30] * share,
                                abs=0.01)  # fmt: skip


def test_an_old_run_or_newer_observations_make_it_stale(
    client: TestClient, session: Session
) -> None:
    run_id = finished(client, session, TOWN, 30)
    adoption.adopt(session=session, actor=SYSTEM, run_id=run_id)
    fresh = adoption.adopted_forecast(session=session, actor=SYSTEM, area=TOWN)
    assert (fresh.stale, fresh.stale_reasons) == (False, ())
    run = session.get(ForecastRun, run_id)
    assert run is not None
    run.finished_at = utcnow() - timedelta(days=10)
    session.flush()
    old = adoption.adopted_forecast(session=session, actor=SYSTEM, area=TOWN)
    assert old.stale
    assert "10" in old.stale_reasons[0]  # days old
    assert not adoption.adopted_forecast(
        session=session, actor=SYSTEM, area=TOWN, max_age_days=30
    ).stale
    fit = service.create_run(
        session=session, actor=SYSTEM, code=VILLAGE, kind=RunKind.fit,
        inputs={"observed_start": "2022-12-20", "observed": {"visits": [3, None]}},
    )  # fmt: skip
    newer = adoption.adopted_forecast(session=session, actor=SYSTEM, area=TOWN, max_age_days=30)
    assert newer.stale
    assert f"#{fit.id}" in newer.stale_reasons[0]


def test_the_api_adopts_lists_and_answers_demand(client: TestClient, session: Session) -> None:
    run_id = finished(client, session, TOWN, 30)
    refused = client.post(
        "/api/forecast/adoptions",
        headers=bearer(client, Role.town_operator),
        json={"run_id": run_id},
    )
    assert refused.status_code == 403
    made = client.post(
        "/api/forecast/adoptions",
        headers=bearer(client, Role.district_operator),
        json={"run_id": run_id, "scenario": 1},
    )
    assert made.status_code == 201, made.text
    assert made.json()["current"] is True
    viewer = bearer(client, Role.viewer)
    listed = client.get("/api/forecast/adoptions", params={"area": TOWN}, headers=viewer).json()
    assert [a["id"] for a in listed] == [made.json()["id"]]
    answer = client.get("/api/forecast/adopted", params={"area": VILLAGE}, headers=viewer)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["run_id"] == run_id
    assert body["scenario"].startswith("抗病毒药")
    assert body["stale"] is False
    assert len(body["demand"]["oxygen_cylinders"]["median"]) == 30
    missing = client.get("/api/forecast/adopted", params={"area": "320612"}, headers=viewer)
    assert missing.status_code == 404


def test_an_adopted_fit_is_stale_only_once_a_later_fit_sees_further(session: Session) -> None:
    def stored_fit(start: str, values: list[float | None], until: str | None = None) -> int:
        run = service.create_run(
            session=session, actor=SYSTEM, code=TOWN, kind=RunKind.fit,
            inputs={"observed_start": start, "observed": {"visits": values}, "until": until},
        )  # fmt: skip
        band = {"low": [[1.0]], "median": [[2.0]], "high": [[3.0]]}
        scenario = {"name": "fit", "start": start, "days": 1, "bands": {"deaths": band},
                    "peaks": [{"peak_date": None}]}  # fmt: skip
        service.mark(session=session, run=run, status=RunStatus.done,
                     result={"scenarios": [scenario], "group_codes": []})  # fmt: skip
        return run.id

    adopted = stored_fit("2022-12-01", [1, 2, 3, 4, 5], until="2022-12-03")
    adoption.adopt(session=session, actor=SYSTEM, run_id=adopted)
    stored_fit("2022-12-01", [1, 2, 3])  # up to 12-03: what the adopted fit was fitted to
    fresh = adoption.adopted_forecast(session=session, actor=SYSTEM, area=TOWN)
    assert fresh.stale_reasons == ()
    further = stored_fit("2022-12-02", [2, 3, None, 4])  # up to 12-05
    stale = adoption.adopted_forecast(session=session, actor=SYSTEM, area=TOWN)
    assert stale.stale
    assert f"#{further}" in stale.stale_reasons[0]
    assert "2022-12-05" in stale.stale_reasons[0]
