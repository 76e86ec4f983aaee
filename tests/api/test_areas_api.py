from fastapi.testclient import TestClient

from lianfang.auth.choices import Role
from tests.conftest import bearer
from tests.factories import COUNTY


def test_short_and_full_codes_give_the_same_area(client: TestClient) -> None:
    headers = bearer(client, Role.city_commander)
    short = client.get("/api/areas/320623", headers=headers)
    full = client.get(f"/api/areas/{COUNTY}", headers=headers)
    assert short.status_code == 200
    assert short.json() == full.json()
    body = short.json()
    assert body["area"]["name"] == "如东县"
    assert body["area"]["short_code"] == "320623"
    assert [a["name"] for a in body["ancestors"]] == ["江苏省", "南通市"]
    assert body["counts"]["towns"] == 21


def test_children_of_nantong_are_its_eight_counties_with_population(client: TestClient) -> None:
    answer = client.get("/api/areas/3206/children", headers=bearer(client, Role.city_commander))
    assert answer.status_code == 200
    rows = answer.json()
    assert len(rows) == 8
    assert sum(r["population"]["total"] for r in rows) == 7_726_635
    assert sum(r["counts"]["villages"] for r in rows) == 2005


def test_unknown_and_malformed_codes_say_what_is_wrong(client: TestClient) -> None:
    headers = bearer(client, Role.admin)
    missing = client.get("/api/areas/320699", headers=headers)
    assert missing.status_code == 404
    assert "320699" in missing.json()["message"]
    malformed = client.get("/api/areas/32x6", headers=headers)
    assert malformed.status_code == 400
    assert "32x6" in malformed.json()["message_en"]


def test_messages_follow_the_language(client: TestClient) -> None:
    headers = bearer(client, Role.admin)
    zh = client.get("/api/areas/320699", headers=headers).json()["message"]
    en = client.get("/api/areas/320699?lang=en", headers=headers).json()["message"]
    assert "区划" in zh
    assert en.startswith("no area")


def test_search_by_name_and_code(client: TestClient) -> None:
    headers = bearer(client, Role.city_commander)
    by_name = client.get("/api/areas", params={"q": "如东"}, headers=headers).json()
    assert by_name[0]["code"] == COUNTY
    by_code = client.get("/api/areas", params={"q": "320623001"}, headers=headers).json()
    assert by_code[0]["name"] == "掘港街道"


def test_map_has_polygons_and_points_marked_placed(client: TestClient) -> None:
    data = client.get("/api/areas/320623/map", headers=bearer(client, Role.admin)).json()
    assert len(data["boundaries"]["features"]) == 1
    assert data["boundaries"]["features"][0]["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert data["placed"] is True
    assert {p["level"] for p in data["points"]} == {"town", "village"}


def test_without_credentials_the_api_answers_401(client: TestClient) -> None:
    answer = client.get("/api/areas/3206")
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == "Bearer"
    assert (
        client.get("/api/areas/3206", headers={"Authorization": "Bearer nope"}).status_code == 401
    )


def test_a_refused_token_request_is_kept_in_the_audit_log(client: TestClient) -> None:
    refused = client.post("/api/auth/token", json={"username": "t_viewer", "password": "wrong"})
    assert refused.status_code == 401
    events = client.get("/api/audit", headers=bearer(client, Role.admin)).json()["items"]
    assert any(e["action"] == "sign_in_failed" and e["username"] == "t_viewer" for e in events)
