"""Tables a county can analyse, in Chromium on a desktop and at 390 × 844: a header click
reorders on the server and keeps the filters, the ranking of every town by a gap, page numbers
with a jump box, thousands separators."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from lianfang.auth.choices import Role
from tests.browser.conftest import sign_in
from tests.factories import OTHER_COUNTY_TOWN, id_number, role_username

pytestmark = pytest.mark.browser

HEADER = "姓名,身份证号,联系电话,村(居)代码,冠心病,疫苗剂次,负责人\n"
JINSHA_VILLAGE = OTHER_COUNTY_TOWN[:9] + "001"  # a village of 金沙街道 (通州区)
PEOPLE = 1_150  # more than 1,000, so counts are grouped; 23 pages of 50
CHARS = "建国秀英桂兰明华玉珍德福凤志强海涛"
VIEWPORTS = {"desktop": (1280, 900), "phone": (390, 844)}


@pytest.fixture(scope="module", autouse=True)
def jinsha(browser: Browser, server: str) -> None:
    """1,150 red and yellow people in one village of 金沙街道, none with a kit (有药用 missing),
    imported through the page by the administrator."""
    page = browser.new_context(locale="zh-CN").new_page()
    sign_in(page, server, role_username(Role.admin))
    page.goto(f"{server}/people/import")
    rows = []
    for i in range(PEOPLE):
        born = (date(1938, 1, 1) + timedelta(days=i)).strftime("%Y%m%d")
        name = "金" + CHARS[i % len(CHARS)] + CHARS[(i // len(CHARS)) % len(CHARS)]
        state = "不稳定" if i % 2 else "稳定"
        rows.append(f"{name},{id_number(born, 1, '320612')},,{JINSHA_VILLAGE},{state},1,\n")
    page.get_by_test_id("import-file").set_input_files(
        files=[{"name": "jinsha.csv", "mimeType": "text/csv",
                "buffer": (HEADER + "".join(rows)).encode()}]
    )  # fmt: skip
    page.get_by_role("button", name="上传").click()
    expect(page.get_by_test_id("import-result")).to_be_visible(timeout=120_000)
    page.context.close()


@pytest.fixture(params=list(VIEWPORTS))
def screen(request: pytest.FixtureRequest, browser: Browser, server: str) -> Iterator[Page]:
    width, height = VIEWPORTS[request.param]
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    page = context.new_page()
    page.tag = request.param  # type: ignore[attr-defined]
    sign_in(page, server, role_username(Role.city_commander))
    yield page
    context.close()


def row_codes(page: Page) -> list[str]:
    return page.locator("[data-testid=coverage-table] tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.code)"
    )


def shares(page: Page, guarantee: str) -> list[float]:
    texts = page.get_by_test_id(f"gap-{guarantee}").all_inner_texts()
    return [float(t.rstrip("%")) for t in texts if t.strip() != "—"]


def test_a_header_click_reorders_and_keeps_the_filters(screen: Page, server: str) -> None:
    screen.goto(f"{server}/people/ranking?area=3206&level=town&sort=code&order=desc")
    before = row_codes(screen)
    assert OTHER_COUNTY_TOWN not in before  # 320612001 lies on the last page in reverse order
    screen.get_by_test_id("sort-medicine").first.click()
    screen.wait_for_url(re.compile(r"sort=medicine&order=desc"))
    assert "level=town" in screen.url
    assert "area=3206" in screen.url
    header = screen.locator("th[data-sort=medicine]")
    expect(header).to_have_attribute("aria-sort", "descending")
    after = row_codes(screen)
    assert after != before
    assert after[0] == OTHER_COUNTY_TOWN  # 1,150 people without medicine
    screen.get_by_test_id("sort-medicine").first.click()
    screen.wait_for_url(re.compile(r"sort=medicine&order=asc"))
    assert "level=town" in screen.url
    expect(header).to_have_attribute("aria-sort", "ascending")
    assert row_codes(screen)[0] != OTHER_COUNTY_TOWN


def test_the_ranking_lists_the_towns_by_the_chosen_gap(
    screen: Page, server: str, artifacts: Path
) -> None:
    screen.goto(f"{server}/people/coverage")
    screen.get_by_test_id("rank-medicine").click()
    screen.wait_for_url(re.compile(r"/people/ranking\?.*sort=medicine_pct"))
    expect(screen.get_by_test_id("ranking-title")).to_contain_text("全部乡镇（街道）排名")
    gaps = shares(screen, "medicine")
    assert gaps
    assert gaps == sorted(gaps, reverse=True)
    assert OTHER_COUNTY_TOWN in row_codes(screen)
    screen.get_by_test_id("quick-in_charge").click()
    screen.wait_for_url(re.compile(r"sort=in_charge_pct"))
    assert shares(screen, "in_charge") == sorted(shares(screen, "in_charge"), reverse=True)
    first = screen.get_by_test_id("area-link").first
    code = row_codes(screen)[0]
    first.click()
    screen.wait_for_url(re.compile(rf"/people/coverage\?area={code}"))
    screen.goto(f"{server}/people/ranking?area=3206&level=town&sort=medicine_pct&order=desc")
    screen.screenshot(
        path=str(artifacts / f"people-ranking-{screen.tag}.png"),  # type: ignore[attr-defined]
        full_page=True,
    )


def test_paging_shows_numbers_and_the_jump_keeps_the_filters(screen: Page, server: str) -> None:
    screen.goto(f"{server}/people?area={OTHER_COUNTY_TOWN}")
    total = screen.get_by_test_id("list-total")
    expect(total).to_contain_text(re.compile(r"共 1,1\d\d 人 · 第 1 / 2\d 页"))
    expect(screen.get_by_test_id("page-2")).to_be_visible()
    last = re.search(r"/ (\d+) 页", total.inner_text())
    assert last is not None
    expect(screen.get_by_test_id(f"page-{last.group(1)}")).to_be_visible()
    expect(screen.get_by_test_id("pager")).to_contain_text("…")
    screen.get_by_test_id("page-input").fill("12")
    screen.get_by_test_id("page-jump").get_by_role("button").click()
    screen.wait_for_url(re.compile(r"page=12"))
    expect(screen.get_by_test_id("page-current")).to_have_text("12")
    assert f"area={OTHER_COUNTY_TOWN}" in screen.url
    screen.goto(f"{server}/people?area={OTHER_COUNTY_TOWN}&grade=red")
    screen.get_by_test_id("page-input").fill("3")
    screen.get_by_test_id("page-jump").get_by_role("button").click()
    screen.wait_for_url(re.compile(r"grade=red.*page=3"))
    expect(screen.get_by_test_id("page-current")).to_have_text("3")


def test_counts_have_thousands_separators(screen: Page, server: str) -> None:
    screen.goto(f"{server}/people/coverage?area=320612")
    grouped = re.compile(r"^\d{1,3}(,\d{3})+$")
    expect(screen.get_by_test_id("missing-medicine")).to_have_text(grouped)
    registered = screen.get_by_test_id("grade-cards").locator("b").first
    expect(registered).to_have_text(grouped)
    screen.goto(f"{server}/people?area={OTHER_COUNTY_TOWN}")
    expect(screen.get_by_test_id("people-total")).to_have_text(re.compile(r"共 1,\d{3} 人"))
    screen.goto(f"{server}/areas/320600000000")
    assert re.search(r"\d{1,3}(,\d{3}){2}", screen.locator("main").inner_text())
