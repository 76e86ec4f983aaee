"""The forecast page in Chromium, as a commander uses it: pick an area, start a forecast, watch
its progress, read charts whose legends leave their axis names alone; desktop and phone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from lianfang.auth.choices import Role
from tests.browser.conftest import sign_in
from tests.factories import role_username

pytestmark = pytest.mark.browser

SIZES = {"desktop": (1280, 900), "phone": (390, 844)}

# Where ECharts drew the legend and the y axis's name (page pixels of the chart), from its
# element tree: the legend component's group, and the text element that holds the name.
PLACES = """(id) => {
  const chart = echarts.getInstanceByDom(document.getElementById(id));
  const model = chart.getModel();
  const group = chart.getViewOfComponentModel(model.getComponent('legend')).group;
  const legend = group.getBoundingRect().clone();
  legend.applyTransform(group.transform);
  const wanted = model.getComponent('yAxis').get('name');
  const found = chart.getZr().storage.getDisplayList(true).filter(
    (el) => el.style && el.style.text === wanted);
  const name = found[0].getBoundingRect().clone();
  name.applyTransform(found[0].transform);
  const marks = chart.getZr().storage.getDisplayList(true).filter(
    (el) => el.style && typeof el.style.text === 'string' && el.style.text.startsWith('今天'));
  const today = marks[0].getBoundingRect().clone();
  today.applyTransform(marks[0].transform);
  return {legend: [legend.x, legend.y, legend.width, legend.height],
          name: [name.x, name.y, name.width, name.height],
          today: [today.x, today.y, today.width, today.height], width: chart.getWidth()};
}"""


def overlap(a: list[float], b: list[float]) -> bool:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah


@pytest.fixture(params=list(SIZES))
def sized(request: pytest.FixtureRequest, browser: Browser) -> Iterator[tuple[str, Page]]:
    width, height = SIZES[request.param]
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    yield request.param, context.new_page()
    context.close()


def test_a_commander_picks_an_area_watches_progress_and_reads_the_charts(
    sized: tuple[str, Page], server: str, artifacts: Path
) -> None:
    size, page = sized
    sign_in(page, server, role_username(Role.city_commander))
    page.goto(f"{server}/areas/320623")
    page.get_by_test_id("area-forecast").click()  # the county's own forecast, not the city's
    expect(page.locator("h1")).to_contain_text("如东县")
    picker = page.get_by_test_id("forecast-area")
    expect(picker.locator("option")).to_contain_text(["南通市", "如东县", "掘港街道"])
    picker.select_option(label="掘港街道")
    page.get_by_test_id("forecast-area-go").click()
    expect(page.locator("h1")).to_contain_text("掘港街道")
    picker = page.get_by_test_id("forecast-area")
    picker.select_option(label="如东县")
    page.get_by_test_id("forecast-area-go").click()
    expect(page.locator("h1")).to_contain_text("如东县")
    page.screenshot(path=str(artifacts / f"forecast-home-{size}.png"), full_page=True)

    form = page.get_by_test_id("forecast-form")
    form.locator("input[name=days]").fill("90")
    form.locator("input[name=members]").fill("40")
    page.get_by_test_id("forecast-start").click()
    text = page.get_by_test_id("progress-text")
    expect(text).to_contain_text("个成员", timeout=120_000)  # members done, as the worker says
    expect(text).to_contain_text("情景")
    page.screenshot(path=str(artifacts / f"forecast-progress-{size}.png"), full_page=True)
    expect(page.get_by_test_id("chart-compare")).to_have_attribute(
        "data-rendered", "1", timeout=180_000
    )
    for chart in ("chart-curve", "chart-compare"):
        places = page.evaluate(PLACES, chart)
        assert not overlap(places["legend"], places["name"]), (chart, places)
        assert not overlap(places["today"], places["name"]), (chart, places)  # today's label
        assert not overlap(places["today"], places["legend"]), (chart, places)
        assert places["name"][0] >= 0  # the name is not cut off on the left
        legend_bottom = places["legend"][1] + places["legend"][3]
        assert legend_bottom <= places["name"][1]  # one line of legend (paged), above the name
    page.screenshot(path=str(artifacts / f"forecast-county-{size}.png"), full_page=True)
    width = SIZES[size][0]
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= width, f"the finished run page scrolls sideways: {wide} px wide at {width}"
