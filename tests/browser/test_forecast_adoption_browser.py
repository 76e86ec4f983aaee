"""A county commander adopts a town forecast as its planning forecast, in Chromium."""

from __future__ import annotations

import math
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from lianfang.auth.choices import Role
from tests.browser.conftest import sign_in
from tests.factories import role_username

pytestmark = pytest.mark.browser


def test_a_forecast_is_adopted_with_oxygen_beside_beds(
    page: Page, server: str, artifacts: Path
) -> None:
    sign_in(page, server, role_username(Role.district_operator))
    page.goto(f"{server}/forecast?area=320623001")
    page.get_by_test_id("forecast-form").locator("input[name=days]").fill("60")
    page.get_by_test_id("forecast-start").click()
    expect(page.get_by_test_id("chart-compare")).to_have_attribute(
        "data-rendered", "1", timeout=90_000
    )
    table = page.get_by_test_id("peak-table").first
    expect(table.locator("thead")).to_contain_text("吸氧人数峰值")
    lines = page.evaluate(
        "() => echarts.getInstanceByDom(document.getElementById('chart-compare'))"
        ".getOption().series.map(s => s.name)"
    )
    assert sum("吸氧" in name for name in lines) == 2  # oxygen next to beds, per scenario
    page.get_by_test_id("adopt-form").locator("select").select_option("1")
    page.get_by_test_id("adopt").click()
    expect(page.get_by_test_id("adopted")).to_be_visible()
    plan = page.get_by_test_id("planning-forecast")
    expect(plan).to_contain_text("抗病毒药")
    expect(page.get_by_test_id("plan-stale")).to_have_count(0)
    page.screenshot(path=str(artifacts / "forecast-adopted.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{server}/forecast?area=320623001001")  # a village inside the adopted town
    expect(page.get_by_test_id("planning-forecast")).to_be_visible()
    page.screenshot(path=str(artifacts / "forecast-plan-phone.png"), full_page=True)


def test_a_fit_page_draws_the_observations_and_every_outcome(
    page: Page, server: str, artifacts: Path, tmp_path: Path
) -> None:
    sign_in(page, server, role_username(Role.district_operator))
    page.goto(f"{server}/forecast?area=320623001")
    days = [date(2022, 12, 1) + timedelta(days=d) for d in range(50)]
    visits = [round(400 * math.exp(-(((d - 38) / 10) ** 2))) for d in range(50)]
    series = tmp_path / "visits.csv"
    series.write_text(
        "date,visits\n" + "".join(f"{d},{v}\n" for d, v in zip(days, visits, strict=True)),
        encoding="utf-8",
    )
    form = page.get_by_test_id("fit-form")
    form.locator("input[name=series]").set_input_files(str(series))
    page.get_by_test_id("fit-start").click()
    expect(page.get_by_test_id("chart-fit")).to_have_attribute(
        "data-rendered", "1", timeout=180_000
    )
    expect(page.get_by_test_id("chart-curve")).to_have_attribute("data-rendered", "1")
    expect(page.get_by_test_id("chart-compare")).to_have_attribute("data-rendered", "1")
    expect(page.get_by_test_id("peak-table").locator("tbody tr")).to_have_count(31 + 1)
    expect(page.get_by_test_id("chart-map")).to_have_attribute("data-points", "31")
    page.screenshot(path=str(artifacts / "forecast-fit-outcomes.png"), full_page=True)
