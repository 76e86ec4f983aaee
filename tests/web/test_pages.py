import re

import pytest
from fastapi.testclient import TestClient

from lianfang.auth.choices import Role
from tests.factories import (
    OTHER_COUNTY_TOWN,
    OTHER_TOWN,
    PASSWORD,
    TOWN,
    VILLAGE,
    role_username,
)


def sign_in(client: TestClient, role: Role, password: str = PASSWORD, next_url: str = "/") -> str:
    """Sign in through the form; return the page it lands on."""
    form = client.get(f"/login?next={next_url}")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert csrf is not None
    answer = client.post(
        "/login",
        data={
            "username": role_username(role),
            "password": password,
            "csrf_token": csrf.group(1),
            "next": next_url,
        },
    )
    return answer.text


def test_pages_need_a_sign_in(client: TestClient) -> None:
    answer = client.get("/areas/3206", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=/areas/3206"


def test_sign_in_then_the_area_page_shows_the_eight_counties(client: TestClient) -> None:
    sign_in(client, Role.city_commander)
    page = client.get("/areas/3206")
    assert page.status_code == 200
    assert "南通市" in page.text
    assert page.text.count('<tr data-code="') == 8
    assert "如东县" in page.text
    assert 'data-map-url="/api/areas/320600000000/map"' in page.text
    # the page's own fetch of the map data works on the session cookie
    assert client.get("/api/areas/320600000000/map").status_code == 200


def test_a_wrong_password_is_explained_and_audited(client: TestClient) -> None:
    text = sign_in(client, Role.viewer, password="not-the-password")
    assert "用户名或密码错误" in text
    assert client.get("/", follow_redirects=False).status_code == 303


def test_the_login_form_needs_its_csrf_token(client: TestClient) -> None:
    client.get("/login")
    answer = client.post(
        "/login",
        data={"username": role_username(Role.viewer), "password": PASSWORD, "csrf_token": "forged"},
    )
    assert "无法完成请求" in answer.text
    assert client.get("/", follow_redirects=False).status_code == 303


def test_a_town_operator_cannot_open_another_towns_page(client: TestClient) -> None:
    sign_in(client, Role.town_operator)
    assert client.get(f"/areas/{TOWN}").status_code == 200
    for elsewhere in (OTHER_TOWN, OTHER_COUNTY_TOWN, "3206"):
        page = client.get(f"/areas/{elsewhere}")
        assert page.status_code == 403
        assert "不在您的管辖范围内" in page.text


def test_cookie_writes_to_the_api_need_the_csrf_header(client: TestClient) -> None:
    sign_in(client, Role.city_commander)
    body = {
        "username": "csrf_user",
        "display_name": "x",
        "role": "viewer",
        "area_code": TOWN,
        "password": "long-enough-pw",
    }
    refused = client.post("/api/users", json=body)
    assert refused.status_code == 403
    home = client.get("/")
    token = re.search(r'"X-CSRF-Token": "([^"]+)"', home.text)
    assert token is not None
    accepted = client.post("/api/users", json=body, headers={"X-CSRF-Token": token.group(1)})
    assert accepted.status_code == 201


def test_sign_out_ends_the_session(client: TestClient) -> None:
    home = sign_in(client, Role.viewer)
    token = re.search(r'name="csrf_token" value="([^"]+)"', home)
    assert token is not None
    client.post("/logout", data={"csrf_token": token.group(1)})
    assert client.get("/", follow_redirects=False).status_code == 303


def test_english_is_one_click_away(client: TestClient) -> None:
    sign_in(client, Role.city_commander)
    client.get("/lang/en?next=/areas/3206")
    page = client.get("/areas/3206")
    assert "Subdivisions" in page.text
    assert "Residents" in page.text
    client.get("/lang/zh")
    assert "下级区划" in client.get("/areas/3206").text


def test_the_area_switcher_finds_areas_in_scope(client: TestClient) -> None:
    sign_in(client, Role.district_operator)
    found = client.get("/areas/search", params={"q": "掘港"})
    assert "掘港街道" in found.text
    assert "金沙" not in client.get("/areas/search", params={"q": "金沙"}).text


def test_after_sign_in_only_local_paths_are_followed(client: TestClient) -> None:
    form = client.get("/login?next=https://evil.example/")
    assert 'name="next" value="/"' in form.text


PAGE_SCOPE = [  # (path, roles that may open it); everyone else gets 403
    (f"/areas/{VILLAGE}", set(Role)),
    (f"/areas/{TOWN}", set(Role) - {Role.village_worker}),
    (f"/areas/{OTHER_TOWN}", set(Role) - {Role.village_worker, Role.town_operator}),
    (
        f"/areas/{OTHER_COUNTY_TOWN}",
        set(Role) - {Role.village_worker, Role.town_operator, Role.district_operator},
    ),
    ("/areas/3206", set(Role) - {Role.village_worker, Role.town_operator, Role.district_operator}),
]


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_every_page_respects_scope(client: TestClient, role: Role) -> None:
    sign_in(client, role)
    assert client.get("/").status_code == 200
    for path, allowed in PAGE_SCOPE:
        assert client.get(path).status_code == (200 if role in allowed else 403), path


def test_the_forecast_page_uploads_a_series_for_a_fit(client: TestClient) -> None:
    home = sign_in(client, Role.district_operator)
    token = re.search(r'name="csrf_token" value="([^"]+)"', home)
    assert token is not None
    page = client.get("/forecast?area=320623001")
    assert 'data-testid="fit-form"' in page.text
    answer = client.post(
        "/forecast/fit",
        follow_redirects=False,
        data={"csrf_token": token.group(1), "area_code": "320623001000", "until": "2022-12-03"},
        files={
            "series": (
                "v.csv",
                "date,visits\n2022-12-01,1\n2022-12-02,2\n2022-12-04,4\n",
                "text/csv",
            )
        },
    )
    assert answer.status_code == 303
    run_page = client.get(answer.headers["location"])
    assert "拟合" in run_page.text
    assert client.app.state.started_forecasts  # type: ignore[attr-defined]


def test_the_favicon_answers_with_an_icon(client: TestClient) -> None:
    answer = client.get("/favicon.ico")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "image/x-icon"
    assert answer.content[:4] == b"\x00\x00\x01\x00"  # an .ico header
    assert int.from_bytes(answer.content[4:6], "little") >= 1  # at least one image
    sign_in(client, Role.viewer)
    assert '<link rel="icon" href="/favicon.ico"' in client.get("/").text


def test_the_api_docs_load_only_local_files(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    urls = re.findall(r'(?:href|src)="([^"]+)"', page.text)
    urls += re.findall(r"url: '([^']+)'", page.text)
    assert urls, page.text
    assert all(url.startswith("/") and not url.startswith("//") for url in urls), urls
    for url in urls:
        assert client.get(url).status_code == 200, url
    assert '"validatorUrl": null' in page.text  # no badge fetched from validator.swagger.io
    assert client.get("/redoc").status_code == 404  # redoc would load from a CDN: not served


def test_the_api_document_declares_the_bearer_token(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert document["paths"]["/api/me"]["get"]["security"] == [{"bearer": []}]
    assert "security" not in document["paths"]["/api/auth/token"]["post"]


@pytest.mark.parametrize(
    ("role", "linked"),
    [
        (Role.admin, True),
        (Role.city_commander, True),
        (Role.district_operator, True),
        (Role.town_operator, True),
        (Role.village_worker, False),
        (Role.hospital_operator, False),
        (Role.safety_inspector, False),
        (Role.viewer, False),
    ],
)
def test_the_api_docs_link_shows_to_the_roles_that_use_the_api(
    client: TestClient, role: Role, linked: bool
) -> None:
    sign_in(client, role)
    assert ('href="/docs"' in client.get("/").text) is linked
