"""Dead ends that are gone: the API docs work with no internet, the language switch keeps the
page and its filters, and the site has an icon."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Request, expect

from lianfang.auth.choices import Role
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD, role_username

pytestmark = pytest.mark.browser


def _outside(server: str, requests: list[Request]) -> list[str]:
    """The requests that left the server (any host other than 127.0.0.1 at its port)."""
    here = urlsplit(server).netloc
    return [
        r.url for r in requests if not r.url.startswith("data:") and urlsplit(r.url).netloc != here
    ]


def test_the_api_docs_list_every_operation_and_ask_nothing_of_the_internet(
    page: Page, server: str, artifacts: Path
) -> None:
    requests: list[Request] = []
    page.on("request", lambda request: requests.append(request))
    sign_in(page, server, role_username(Role.district_operator))
    page.get_by_role("link", name="接口文档").click()
    page.wait_for_url(f"{server}/docs")
    operations = page.locator(".opblock")
    expect(operations.first).to_be_visible(timeout=30_000)  # a 1.7 MB script
    document = page.request.get(f"{server}/openapi.json").json()
    expected = sum(len(methods) for methods in document["paths"].values())
    expect(operations).to_have_count(expected)
    expect(page.locator(".opblock-summary-path[data-path='/api/people/import']")).to_be_visible()
    page.screenshot(path=str(artifacts / "api-docs.png"))
    assert not _outside(server, requests), _outside(server, requests)
    assert f"{server}/openapi.json" in [r.url for r in requests]


def test_the_api_docs_try_a_call_with_a_bearer_token(page: Page, server: str) -> None:
    """As the API is used: a token from POST /api/auth/token, given to "Authorize"."""
    requests: list[Request] = []
    page.on("request", lambda request: requests.append(request))
    answer = page.request.post(
        f"{server}/api/auth/token",
        data={"username": role_username(Role.town_operator), "password": PASSWORD},
    )
    token = answer.json()["access_token"]
    page.goto(f"{server}/docs")  # not signed in on the web: the token alone is the caller
    page.get_by_role("button", name="Authorize").first.click()
    page.locator(".modal-ux input[type=text]").fill(token)
    page.locator(".modal-ux button.modal-btn.authorize").click()
    expect(page.locator(".modal-ux").get_by_role("heading", name="Authorized")).to_be_visible()
    page.locator(".modal-ux").get_by_role("button", name="Close").click()
    me = page.locator(".opblock-get").filter(
        has=page.locator(".opblock-summary-path[data-path='/api/me']")
    )
    me.locator(".opblock-summary").first.click()
    me.get_by_role("button", name="Try it out").click()
    me.get_by_role("button", name="Execute").click()
    status = me.locator(".live-responses-table tbody .response-col_status").first
    expect(status).to_have_text("200")
    expect(me.locator(".live-responses-table tbody .microlight").first).to_contain_text(
        role_username(Role.town_operator)
    )
    called = [r for r in requests if r.url == f"{server}/api/me"]
    assert called
    assert called[-1].headers["authorization"] == f"Bearer {token}"
    assert not _outside(server, requests), _outside(server, requests)


def test_the_language_switch_keeps_the_county_and_its_filters(page: Page, server: str) -> None:
    sign_in(page, server, role_username(Role.district_operator))
    page.goto(f"{server}/people/coverage?area=320623")
    expect(page.get_by_test_id("coverage-title")).to_contain_text("如东县")
    page.get_by_test_id("lang-switch").click()
    page.wait_for_url(f"{server}/people/coverage?area=320623")
    expect(page.get_by_test_id("coverage-title")).to_contain_text("Four-guarantee coverage")
    expect(page.get_by_test_id("coverage-title")).to_contain_text("如东县")
    page.get_by_test_id("lang-switch").click()  # and back, still on the county
    page.wait_for_url(f"{server}/people/coverage?area=320623")
    expect(page.get_by_test_id("coverage-title")).to_contain_text("四有覆盖")


def test_the_language_switch_keeps_filters_applied_without_a_reload(
    page: Page, server: str
) -> None:
    """The list's filters are applied by htmx, which pushes the new address: the switch
    follows it."""
    sign_in(page, server, role_username(Role.district_operator))
    page.goto(f"{server}/people?area=320623")
    with page.expect_response(lambda r: "/people?" in r.url and "grade=red" in r.url):
        page.get_by_test_id("filter-grade").select_option("red")
    page.wait_for_url("**grade=red**")
    page.get_by_test_id("lang-switch").click()
    page.wait_for_url("**/people?**")
    query = urlsplit(page.url).query
    assert "grade=red" in query, page.url
    assert "area=320623" in query, page.url
    expect(page.get_by_test_id("filter-grade")).to_have_value("red")
    expect(page.get_by_test_id("people-title")).to_contain_text("Key-population registry")


def test_the_site_icon_loads(page: Page, server: str) -> None:
    sign_in(page, server, role_username(Role.viewer))
    answer = page.request.get(f"{server}/favicon.ico")
    assert answer.status == 200
    assert answer.headers["content-type"] == "image/x-icon"
    assert page.locator("link[rel=icon]").first.get_attribute("href") == "/favicon.ico"


def test_the_api_docs_on_a_phone(browser: Browser, server: str, artifacts: Path) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = context.new_page()
    requests: list[Request] = []
    page.on("request", lambda request: requests.append(request))
    page.goto(f"{server}/docs")
    expect(page.locator(".opblock").first).to_be_visible(timeout=30_000)  # a 1.7 MB script
    expect(page.get_by_role("button", name="Authorize").first).to_be_in_viewport()
    page.screenshot(path=str(artifacts / "api-docs-phone.png"))
    assert not _outside(server, requests), _outside(server, requests)
    context.close()
