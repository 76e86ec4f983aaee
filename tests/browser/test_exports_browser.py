"""Exports in a real browser, on a desktop and on a phone (390 × 844): after filtering with the
form, the page says how many rows the export holds (the list's 「共 N 人」) and the file holds
them; a list above the background threshold is exported by a real background process, with
progress and then a download link."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from lianfang import timeutil
from lianfang.api.app import create_app
from lianfang.auth.choices import Role
from lianfang.auth.scope import SYSTEM
from lianfang.config import Settings
from lianfang.db.engine import make_sessionmaker, transaction
from lianfang.demo import people as demo_people
from lianfang.io import sheets
from lianfang.people.sheet import SPEC
from tests.browser.conftest import sign_in
from tests.conftest import seeded_engine
from tests.factories import TOWN, role_username
from tests.serving import serving

pytestmark = pytest.mark.browser

THRESHOLD = 100
"""Exports of more rows than this go to the background: the town's list (≈ 270) does, its
red people (≈ 80) do not."""
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
def exports_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server on a SQLite file whose town has a generated key population, with a low
    background threshold; background exports run in real processes, as in production."""
    url = f"sqlite:///{tmp_path_factory.mktemp('exports') / 'exports.db'}"
    engine = seeded_engine(url)
    with transaction(make_sessionmaker(engine)) as session:
        demo_people.generate(
            session=session, actor=SYSTEM, seed=7, share=0.01, prefix=TOWN[:9],
            today=timeutil.today(),
        )  # fmt: skip
    settings = Settings(database_url=url, export_background_rows=THRESHOLD)
    with serving(create_app(settings, engine)) as base:
        yield base
    engine.dispose()


@pytest.fixture(params=sorted(VIEWPORTS))
def screen(request: pytest.FixtureRequest, browser: Browser) -> Iterator[tuple[str, Page]]:
    context = browser.new_context(viewport=VIEWPORTS[request.param], locale="zh-CN")
    yield request.param, context.new_page()
    context.close()


def total_of(page: Page) -> int:
    """The list's total as the page says it (「共 1,470 人」)."""
    text = page.get_by_test_id("people-total").inner_text()
    return int(re.sub(r"\D", "", text))


def downloaded_rows(page: Page, testid: str) -> int:
    """Click a download and count the rows of the file the browser saved."""
    with page.expect_download(timeout=60_000) as info:
        page.get_by_test_id(testid).click()
    download = info.value
    data = Path(download.path()).read_bytes()
    return len(sheets.read(data, download.suggested_filename, SPEC))


def test_exports_follow_the_filter_form_and_large_ones_finish_in_the_background(
    screen: tuple[str, Page], exports_server: str, artifacts: Path
) -> None:
    name, page = screen
    server = exports_server
    sign_in(page, server, role_username(Role.town_operator))
    page.goto(f"{server}/people")
    everyone = total_of(page)
    assert everyone > THRESHOLD
    expect(page.get_by_test_id("export-count")).to_contain_text(f"导出 {everyone:,} 人")
    expect(page.get_by_test_id("export-background")).to_be_visible()

    # filter with the form (htmx swaps the table): the exports follow at once
    page.get_by_test_id("filter-grade").select_option("red")
    expect(page.get_by_test_id("people-total")).not_to_have_text(re.compile(f"共 {everyone:,} 人"))
    red = total_of(page)
    assert 0 < red <= THRESHOLD
    expect(page.get_by_test_id("export-count")).to_have_text(f"导出 {red:,} 人")
    expect(page.get_by_test_id("export-csv")).to_have_attribute("href", re.compile("grade=red"))
    page.screenshot(path=str(artifacts / f"people-export-filtered-{name}.png"), full_page=True)
    assert downloaded_rows(page, "export-csv") == red
    assert downloaded_rows(page, "export-xlsx") == red

    # back to everyone: too many to wait for, made by a background process
    page.get_by_test_id("filter-grade").select_option("")
    expect(page.get_by_test_id("export-count")).to_contain_text(f"导出 {everyone:,} 人")
    page.get_by_test_id("export-background").get_by_test_id("export-csv").click()
    page.wait_for_url(re.compile(r"/people/exports/\d+$"))
    expect(page.get_by_test_id("export-job")).to_be_visible()
    page.screenshot(path=str(artifacts / f"people-export-progress-{name}.png"), full_page=True)
    expect(page.get_by_test_id("export-download")).to_be_visible(timeout=90_000)
    expect(page.get_by_test_id("export-job")).to_contain_text(f"{everyone:,} / {everyone:,}")
    page.screenshot(path=str(artifacts / f"people-export-ready-{name}.png"), full_page=True)
    assert downloaded_rows(page, "export-download") == everyone
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= VIEWPORTS[name]["width"], width  # nothing pushes the page sideways


def test_a_village_on_the_map_opens_its_list_with_the_filters_applied(
    screen: tuple[str, Page], exports_server: str
) -> None:
    _, page = screen
    sign_in(page, exports_server, role_username(Role.town_operator))
    page.goto(f"{exports_server}/people")
    page.get_by_test_id("filter-grade").select_option("red")
    page.get_by_label("随访逾期").check()
    expect(page).to_have_url(re.compile("overdue=1"))
    box = page.get_by_test_id("people-map")
    box.scroll_into_view_if_needed()
    expect(box).to_have_attribute("data-rendered", re.compile(r"[1-9]"))
    x, y, code = page.evaluate(
        """() => {
          const chart = echarts.getInstanceByDom(document.getElementById("people-map"));
          const point = chart.getOption().series[0].data[0];
          const [x, y] = chart.convertToPixel({seriesIndex: 0}, point.value.slice(0, 2));
          return [x, y, point.code];
        }"""
    )
    box.click(position={"x": x, "y": y})
    page.wait_for_url(re.compile(r"area=\d{12}"))
    assert "grade=red" in page.url
    assert "overdue=1" in page.url
    assert code[:9] == TOWN[:9]
    expect(page.get_by_test_id("filter-grade")).to_have_value("red")
