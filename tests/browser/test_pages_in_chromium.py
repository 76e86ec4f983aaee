"""What people see in a real browser."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from lianfang.auth.choices import Role
from lianfang.demo import story
from tests.browser.conftest import sign_in
from tests.factories import OTHER_COUNTY_TOWN, OTHER_TOWN, role_username

pytestmark = pytest.mark.browser


def test_commander_sees_nantong_with_map_and_eight_counties(
    page: Page, server: str, artifacts: Path
) -> None:
    sign_in(page, server, role_username(Role.city_commander))
    page.get_by_role("link", name="我的辖区").click()
    expect(page.get_by_test_id("area-name")).to_contain_text("南通市")
    rows = page.get_by_test_id("children-table").locator("tbody tr")
    expect(rows).to_have_count(8)
    expect(rows.filter(has_text="如东县")).to_have_count(1)
    chart = page.get_by_test_id("area-map")
    expect(chart).to_have_attribute("data-shapes", "7")
    expect(chart).to_have_attribute("data-rendered", str(136 + 2005))
    expect(chart.locator("canvas").first).to_be_visible()
    drawn = page.evaluate(
        "() => echarts.getInstanceByDom(document.getElementById('area-map'))"
        ".getOption().series.map(s => s.data.length)"
    )
    assert drawn == [136, 2005]
    expect(page.get_by_test_id("placed-notice")).to_be_visible()
    expect(page.get_by_test_id("demo-banner")).to_contain_text("种子 7")
    expect(page.get_by_test_id("demo-banner")).to_contain_text(f"今天按 {story.TODAY} 计")
    assert page.evaluate("() => document.fonts.check('16px \"Noto Sans CJK SC\"', '南通')")
    page.screenshot(path=str(artifacts / "nantong-area.png"), full_page=True)


def test_clicking_down_the_tree(page: Page, server: str) -> None:
    sign_in(page, server, role_username(Role.city_commander))
    page.goto(f"{server}/areas/3206")
    page.get_by_role("link", name="如东县").click()
    expect(page.get_by_test_id("area-name")).to_contain_text("如东县")
    page.get_by_role("link", name="掘港街道").click()
    expect(page.get_by_test_id("area-name")).to_contain_text("掘港街道")
    expect(page.locator("nav.crumbs")).to_contain_text("南通市")


def test_area_switcher_searches_as_you_type(page: Page, server: str) -> None:
    sign_in(page, server, role_username(Role.district_operator))
    page.get_by_test_id("area-search").fill("栟茶")
    results = page.get_by_test_id("search-results")
    expect(results).to_contain_text("栟茶镇")
    results.get_by_role("link", name="栟茶镇").click()
    expect(page.get_by_test_id("area-name")).to_contain_text("栟茶镇")


@pytest.mark.parametrize("elsewhere", [OTHER_TOWN, OTHER_COUNTY_TOWN])
def test_a_village_worker_cannot_open_another_towns_page(
    page: Page, server: str, elsewhere: str, artifacts: Path
) -> None:
    sign_in(page, server, role_username(Role.village_worker))
    answer = page.goto(f"{server}/areas/{elsewhere}")
    assert answer is not None
    assert answer.status == 403
    expect(page.get_by_test_id("error-message")).to_contain_text("不在您的管辖范围内")
    expect(page.get_by_test_id("children-table")).to_have_count(0)
    page.screenshot(path=str(artifacts / "village-refused.png"))


def test_english_is_available(page: Page, server: str) -> None:
    sign_in(page, server, role_username(Role.viewer))
    page.goto(f"{server}/areas/320623")
    page.get_by_test_id("lang-switch").click()
    expect(page.get_by_role("heading", name="Subdivisions")).to_be_visible()
    expect(page.get_by_test_id("who")).to_contain_text("viewer")


def test_a_wrong_password_is_shown_on_the_form(page: Page, server: str) -> None:
    page.goto(f"{server}/login")
    page.get_by_label("用户名").fill(role_username(Role.viewer))
    page.get_by_label("密码").fill("wrong-password")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_test_id("login-error")).to_contain_text("用户名或密码错误")


def test_a_forecast_runs_in_the_background_and_is_drawn(
    page: Page, server: str, artifacts: Path
) -> None:
    sign_in(page, server, role_username(Role.city_commander))
    page.get_by_role("link", name="疫情预测").click()
    page.goto(f"{server}/forecast?area=320623001")
    page.get_by_test_id("forecast-form").locator("input[name=days]").fill("60")
    page.get_by_test_id("forecast-start").click()
    expect(page.get_by_test_id("forecast-progress")).to_be_visible()
    expect(page.get_by_test_id("chart-curve")).to_have_attribute(
        "data-rendered", "1", timeout=90_000
    )
    tables = page.get_by_test_id("peak-table")
    expect(tables).to_have_count(2)
    expect(tables.first.locator("tbody tr")).to_have_count(31 + 1)
    expect(page.get_by_test_id("chart-map")).to_have_attribute("data-points", "31")
    drawn = page.evaluate(
        "() => echarts.getInstanceByDom(document.getElementById('chart-curve'))"
        ".getOption().series.length"
    )
    assert drawn == 2 * 3  # two scenarios × (band low, band width, median)
    for chart in ("chart-curve", "chart-compare"):
        marked = page.evaluate(
            f"() => echarts.getInstanceByDom(document.getElementById('{chart}')).getOption()"
            ".series.flatMap(s => (s.markLine && s.markLine.data || []).map(d => d.xAxis))"
        )
        assert marked == [story.TODAY.isoformat()]  # today's line, on the clock's day
    page.screenshot(path=str(artifacts / "forecast-town.png"), full_page=True)


def test_a_viewer_reads_forecasts_but_cannot_start_one(page: Page, server: str) -> None:
    sign_in(page, server, role_username(Role.viewer))
    page.goto(f"{server}/forecast?area=3206")
    expect(page.get_by_test_id("forecast-form")).to_have_count(0)
    expect(page.get_by_text("您的角色不能发起预测")).to_be_visible()
