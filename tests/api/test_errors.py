"""No request gets a server error, and every error a route answers is one it declares.

Regression tests for what schemathesis found (issue 10, 3b): ids and offsets beyond 64 bits,
a duplicate responsible person, the last administrator disabling themself, undeclared codes;
and for the shared mapping of refused writes (409), pool time-outs (503) and one connection per
page.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lianfang.api.app import create_app
from lianfang.auth.choices import Role
from lianfang.auth.models import User
from lianfang.config import Settings
from lianfang.db.engine import make_engine
from lianfang.db.errors import conflict
from lianfang.ids import MAX_ID
from lianfang.people.choices import ResponsibleKind
from lianfang.people.models import Responsible
from tests.conftest import bearer
from tests.factories import VILLAGE, role_username
from tests.web.test_pages import sign_in

BEYOND_64_BITS = 2**70


def declared(app: Any, method: str, path: str) -> set[int]:
    """The status codes the OpenAPI document declares for an operation."""
    operation = app.openapi()["paths"][path][method.lower()]
    return {int(code) for code in operation["responses"]}


def operations(app: Any) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in app.openapi()["paths"].items()
        for method, operation in item.items()
    ]


def _path_value(name: str, schema: dict[str, Any], number: int) -> str:
    if schema.get("type") == "integer":
        return str(number)
    return "320623001" if name == "code" else "no-such-thing"


def probe(client: TestClient, method: str, path: str, operation: dict[str, Any],
          headers: dict[str, str] | None, number: int) -> int:  # fmt: skip
    """Call an operation with its path ids set to ``number`` and an empty body."""
    params = operation.get("parameters", [])
    url = path
    for p in (p for p in params if p["in"] == "path"):
        url = url.replace("{" + p["name"] + "}", _path_value(p["name"], p["schema"], number))
    query = {p["name"]: "320623001" for p in params if p["in"] == "query" and p["required"]}
    kwargs: dict[str, Any] = {"params": query, "headers": headers}
    if "requestBody" in operation and "application/json" in operation["requestBody"]["content"]:
        kwargs["json"] = {}
    return client.request(method, url, **kwargs).status_code


def test_every_answer_of_every_route_is_declared_and_none_is_a_server_error(
    client: TestClient,
) -> None:
    admin, viewer = bearer(client, Role.admin), bearer(client, Role.viewer)
    seen: dict[tuple[str, str], set[int]] = {}
    for method, path, operation in operations(client.app):
        for headers, number in ((None, 1), (viewer, 1), (admin, BEYOND_64_BITS), (admin, MAX_ID)):
            status = probe(client, method, path, operation, headers, number)
            seen.setdefault((method, path), set()).add(status)
    undeclared = {
        route: codes - declared(client.app, *route)
        for route, codes in seen.items()
        if codes - declared(client.app, *route)
    }
    assert not undeclared
    assert all(code < 500 for codes in seen.values() for code in codes), seen
    assert {401, 403, 404, 422} <= {code for codes in seen.values() for code in codes}


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", f"/api/people/{BEYOND_64_BITS}"),
        ("POST", f"/api/people/alerts/{BEYOND_64_BITS}/close"),
        ("GET", f"/api/audit?offset={BEYOND_64_BITS}"),
        ("GET", f"/api/people?area=3206&page={BEYOND_64_BITS}"),
        ("PATCH", f"/api/users/{BEYOND_64_BITS}"),
        ("GET", f"/api/forecast/runs/{2**31}"),
        ("GET", "/api/people/0"),
    ],
)
def test_ids_and_offsets_out_of_range_answer_422(client: TestClient, method: str, url: str) -> None:
    body = {"note": "已转诊处理"} if "close" in url else {} if method != "GET" else None
    answer = client.request(method, url, json=body, headers=bearer(client, Role.admin))
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] == "invalid"


def test_ids_out_of_range_in_a_body_answer_422(client: TestClient) -> None:
    answer = client.post(
        "/api/people/assign",
        json={"person_ids": [BEYOND_64_BITS], "responsible_id": 1},
        headers=bearer(client, Role.admin),
    )
    assert answer.status_code == 422, answer.text
    assert "person_ids" in answer.json()["message"]


def test_an_unknown_id_in_range_is_404(client: TestClient) -> None:
    answer = client.get(f"/api/people/{MAX_ID}", headers=bearer(client, Role.admin))
    assert answer.status_code == 404


def test_a_page_with_an_id_out_of_range_is_an_error_page(client: TestClient) -> None:
    sign_in(client, Role.town_operator)
    answer = client.get(f"/people/{BEYOND_64_BITS}")
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("text/html")


def test_a_duplicate_responsible_person_is_a_409_without_their_name(client: TestClient) -> None:
    body = {"area_code": VILLAGE, "name": "张三丰", "kind": "village_doctor"}
    headers = bearer(client, Role.town_operator)
    assert client.post("/api/people/responsibles", json=body, headers=headers).status_code == 201
    again = client.post("/api/people/responsibles", json=body, headers=headers)
    assert again.status_code == 409, again.text
    assert again.json()["error"] == "conflict"
    assert "张三丰" not in again.text
    other_phone = body | {"phone": "13900001111"}
    assert (
        client.post("/api/people/responsibles", json=other_phone, headers=headers).status_code
        == 201
    )


def test_a_refused_write_names_table_and_columns_never_values(session: Session) -> None:
    def doctor() -> Responsible:
        kind = ResponsibleKind.village_doctor
        return Responsible(area_code=VILLAGE, name="李四光", kind=kind, phone="13912345678")

    session.add(doctor())
    session.flush()
    session.add(doctor())
    with pytest.raises(IntegrityError) as caught:
        session.flush()
    session.rollback()
    refused = conflict(caught.value)
    assert refused.status_code == 409
    assert refused.en == (
        "a record with the same value already exists: responsible (area_code, name, phone)"
    )
    assert "13912345678" not in refused.en + refused.zh
    assert "李四光" not in refused.en + refused.zh


def _only_admin(session: Session, keep: str) -> User:
    session.execute(
        update(User).where(User.role == Role.admin, User.username != keep).values(active=False)
    )
    session.flush()
    user = session.scalar(select(User).where(User.username == keep))
    assert user is not None
    return user


def test_the_last_active_administrator_can_be_neither_disabled_nor_demoted(
    client: TestClient, session: Session
) -> None:
    headers = bearer(client, Role.admin)
    admin = _only_admin(session, role_username(Role.admin))
    url = f"/api/users/{admin.id}"
    for change in ({"active": False}, {"role": "city_commander", "area_code": "3206"}):
        answer = client.patch(url, json=change, headers=headers)
        assert answer.status_code == 409, answer.text
        assert "administrator" in answer.json()["message_en"]
    session.refresh(admin)
    assert admin.active
    assert admin.role is Role.admin
    assert client.patch(url, json={"display_name": "改名"}, headers=headers).status_code == 200


def test_a_second_administrator_may_be_disabled(client: TestClient, session: Session) -> None:
    headers = bearer(client, Role.admin)
    created = client.post(
        "/api/users",
        json={"username": "second_admin", "display_name": "二号管理员", "role": "admin",
              "password": "another-long-password"},
        headers=headers,
    )  # fmt: skip
    assert created.status_code == 201, created.text
    answer = client.patch(
        f"/api/users/{created.json()['id']}", json={"active": False}, headers=headers
    )
    assert answer.status_code == 200, answer.text


def test_no_free_connection_answers_503_with_retry_after(engine: Engine) -> None:
    url = engine.url.render_as_string(hide_password=False)
    small = make_engine(url, pool_size=1, pool_timeout_s=0.2)
    app = create_app(Settings(database_url=url), small)
    try:
        with small.connect(), TestClient(app) as client:  # the pool's one connection is taken
            body = {"username": "nobody", "password": "whatever-it-is"}
            answer = client.post("/api/auth/token", json=body)
            page = client.get("/login")
        assert answer.status_code == 503, answer.text
        assert answer.headers["Retry-After"].isdigit()
        assert answer.json()["error"] == "database_unavailable"
        assert page.status_code == 503
        assert page.headers["Retry-After"].isdigit()
    finally:
        small.dispose()
