"""The commander's situation overview in Chromium: the map paints with figures, a layer can be
switched, the rows drill down county → town → village → the people behind; on a phone too.
And the briefing page with its charts."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from lianfang.auth.choices import Role
from tests.browser.conftest import sign_in
from tests.factories import role_username

pytestmark = pytest.mark.browser


def test_the_overview_paints_a_map_and_drills_down_to_the_people(
    page: Page, server: str, artifacts: Path
) -> None:
    sign_in(page, server, role_username(Role.city_commander))
    expect(page.get_by_test_id("overview-title")).to_contain_text("南通市")
    box = page.get_by_test_id("overview-map")
    expect(box).to_have_attribute("data-rendered", "8")  # the city's eight counties
    expect(box).to_have_attribute("data-shapes", "7")  # the development zone has no boundary
    expect(page.get_by_test_id("figure-beds")).to_contain_text("%")
    expect(page.get_by_test_id("figure-stock")).to_be_visible()
    first = box.get_attribute("data-layer")
    page.get_by_test_id("layer-beds").check()
    expect(box).to_have_attribute("data-layer", "beds")
    assert first != "beds"
    canvas = box.locator("canvas").first
    assert canvas.bounding_box() is not None
    page.screenshot(path=str(artifacts / "overview-desktop.png"), full_page=True)

    page.get_by_test_id("overview-rows").get_by_role("link", name="如东县").click()
    expect(page.get_by_test_id("overview-title")).to_contain_text("如东县")
    expect(page.get_by_test_id("crumbs")).to_contain_text("南通市")
    page.get_by_test_id("overview-rows").get_by_role("link", name="掘港街道").click()
    expect(page.get_by_test_id("overview-title")).to_contain_text("掘港街道")
    rows = page.get_by_test_id("overview-rows").get_by_test_id("drill")
    village = rows.first.inner_text()
    rows.first.click()
    expect(page.get_by_test_id("overview-title")).to_contain_text(village)
    page.get_by_test_id("village-people").click()
    expect(page).to_have_url(f"{server}/people?area={page.url.rsplit('=', 1)[-1]}")
    expect(page.locator("h1")).to_contain_text(village)


def test_the_overview_on_a_phone(browser: Browser, server: str, artifacts: Path) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True, has_touch=True
    )
    phone = context.new_page()
    sign_in(phone, server, role_username(Role.district_operator))
    expect(phone.get_by_test_id("overview-title")).to_contain_text("如东县")
    box = phone.get_by_test_id("overview-map")
    expect(box).to_have_attribute("data-rendered", "21")  # the county's towns and streets
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways ({width}px)"
    phone.screenshot(path=str(artifacts / "overview-phone.png"), full_page=True)
    context.close()


def test_the_briefing_page_has_its_charts_and_files(page: Page, server: str) -> None:
    sign_in(page, server, role_username(Role.city_commander))
    page.get_by_test_id("briefing-link").click()
    expect(page.get_by_test_id("briefing-title")).to_contain_text("南通市调度会材料")
    bars = page.get_by_test_id("chart-beds").locator("rect")
    expect(bars).to_have_count(8)
    assert page.get_by_test_id("briefing-pdf").get_attribute("href")
    with page.expect_download() as download:
        page.get_by_test_id("briefing-xlsx").click()
    assert download.value.suggested_filename.endswith(".xlsx")
