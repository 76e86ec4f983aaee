"""Role × endpoint: who may call what, on which area. Every API route must appear here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from lianfang.api.app import create_app
from lianfang.auth import service as auth
from lianfang.auth.choices import Role
from lianfang.auth.scope import SYSTEM
from lianfang.config import Settings
from lianfang.forecast import service as forecasts
from lianfang.forecast.models import RunKind
from tests.conftest import bearer
from tests.factories import OTHER_COUNTY_TOWN, OTHER_TOWN, TOWN, VILLAGE, role_username

ALL = frozenset(Role)
MANAGERS = frozenset({Role.admin, Role.city_commander, Role.district_operator})
CITY_WIDE = frozenset(
    {Role.admin, Role.city_commander, Role.hospital_operator, Role.safety_inspector, Role.viewer}
)
REACH_TOWN = CITY_WIDE | {Role.district_operator, Role.town_operator}
FORECASTERS = frozenset({Role.admin, Role.city_commander, Role.district_operator})


@dataclass(frozen=True)
class Case:
    """One concrete call of an endpoint and the roles for which it succeeds."""

    method: str
    route: str
    url: str
    allowed: frozenset[Role]
    ok: int = 200
    body: dict[str, Any] | None = field(default=None)
    upload: bytes | None = None  # sent as a multipart file "series", with body as form fields

    def send(self, client: TestClient, url: str, headers: dict[str, str] | None = None) -> Any:
        """Make the call, as JSON or as a form with a file."""
        if self.upload is not None:
            return client.request(
                self.method,
                url,
                data=self.body,
                headers=headers,
                files={"series": ("series.csv", self.upload, "text/csv")},
            )
        return client.request(self.method, url, json=self.body, headers=headers)


CASES = [
    Case("GET", "/api/me", "/api/me", ALL),
    Case("GET", "/api/users", "/api/users", MANAGERS),
    Case(
        "POST",
        "/api/users",
        "/api/users",
        MANAGERS,
        201,
        {
            "username": "new_viewer",
            "display_name": "新用户",
            "role": "viewer",
            "area_code": TOWN,
            "password": "long-enough-pw",
        },
    ),
    Case(
        "POST",
        "/api/users",
        "/api/users#other-county",
        CITY_WIDE & MANAGERS,
        201,
        {
            "username": "new_viewer2",
            "display_name": "新用户",
            "role": "viewer",
            "area_code": OTHER_COUNTY_TOWN,
            "password": "long-enough-pw",
        },
    ),
    Case(
        "PATCH",
        "/api/users/{user_id}",
        "/api/users/{town_user}",
        MANAGERS,
        200,
        {"display_name": "改名"},
    ),
    Case(
        "PATCH",
        "/api/users/{user_id}",
        "/api/users/{commander_user}",
        frozenset({Role.admin, Role.city_commander}),
        200,
        {"display_name": "改名"},
    ),
    Case("GET", "/api/audit", "/api/audit", MANAGERS),
    Case("GET", "/api/forecast/parameters", "/api/forecast/parameters", ALL),
    Case("GET", "/api/forecast/presets", "/api/forecast/presets", ALL),
    Case("GET", "/api/forecast/runs", "/api/forecast/runs", ALL),
    Case(
        "POST",
        "/api/forecast/runs",
        "/api/forecast/runs",
        FORECASTERS,
        202,
        {"area_code": TOWN, "days": 30},
    ),
    Case(
        "POST",
        "/api/forecast/runs",
        "/api/forecast/runs#elsewhere",
        FORECASTERS - {Role.district_operator},
        202,
        {"area_code": OTHER_COUNTY_TOWN, "days": 30},
    ),
    Case("GET", "/api/forecast/runs/{run_id}", "/api/forecast/runs/{town_run}", REACH_TOWN),
    Case(
        "POST",
        "/api/forecast/fits",
        "/api/forecast/fits",
        FORECASTERS,
        202,
        {"area_code": TOWN},
        b"date,visits\n2022-12-01,3\n2022-12-02,5\n",
    ),
    Case("GET", "/api/areas", "/api/areas?q=街道", ALL),
    *[
        Case("GET", f"/api/areas/{{code}}{tail}", f"/api/areas/{code}{tail}", allowed)
        for tail in ("", "/children", "/map")
        for code, allowed in (
            (VILLAGE, ALL),
            (TOWN, REACH_TOWN),
            (OTHER_TOWN, CITY_WIDE | {Role.district_operator}),
            (OTHER_COUNTY_TOWN, CITY_WIDE),
            ("3206", CITY_WIDE),
        )
    ],
]
PUBLIC = {("POST", "/api/auth/token")}


def concrete(url: str, session: Session) -> str:
    """The URL with the ids of the standing test users (and of a run in the town) filled in."""
    ids = {
        name: auth.get_user(session=session, username=role_username(role))
        for name, role in (
            ("town_user", Role.town_operator),
            ("commander_user", Role.city_commander),
        )
    }
    values = {k: v.id for k, v in ids.items() if v is not None}
    if "{town_run}" in url:
        run = forecasts.create_run(
            session=session, actor=SYSTEM, code=TOWN, kind=RunKind.forecast, inputs={"days": 1}
        )
        values["town_run"] = run.id
    return url.split("#")[0].format(**values)


def test_every_api_route_is_in_the_matrix(engine: Engine) -> None:
    app = create_app(Settings(database_url="sqlite://"), engine)
    routes = {
        (method.upper(), path) for path, item in app.openapi()["paths"].items() for method in item
    }
    covered = {(case.method, case.route) for case in CASES} | PUBLIC
    assert routes == covered


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.method} {c.url}")
def test_role_may_call_endpoint_only_within_scope(
    client: TestClient, session: Session, role: Role, case: Case
) -> None:
    answer = case.send(client, concrete(case.url, session), bearer(client, role))
    expected = case.ok if role in case.allowed else 403
    assert answer.status_code == expected, answer.text
    if expected == 403:
        assert answer.json()["error"] == "forbidden"


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.method} {c.url}")
def test_anonymous_callers_are_refused(client: TestClient, session: Session, case: Case) -> None:
    answer = case.send(client, concrete(case.url, session))
    assert answer.status_code == 401


def test_search_results_never_leave_scope(client: TestClient) -> None:
    for role in Role:
        prefix = {
            Role.town_operator: "320623001",
            Role.village_worker: "320623001001",
            Role.district_operator: "320623",
        }.get(role, "")
        rows = client.get(
            "/api/areas", params={"q": "村", "limit": 100}, headers=bearer(client, role)
        ).json()
        assert all(r["code"].startswith(prefix) for r in rows), role
