"""The key-population pages in a real browser: import errors, follow-up alerts, town scope."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from lianfang.auth.choices import Role
from tests.browser.conftest import sign_in
from tests.factories import OTHER_TOWN, OTHER_TOWN_VILLAGE, VILLAGE, id_number, role_username

pytestmark = pytest.mark.browser

HEADER = "姓名,身份证号,联系电话,村(居)代码,冠心病,疫苗剂次,负责人\n"


@pytest.fixture(scope="module", autouse=True)
def registered(browser: Browser, server: str) -> None:
    """Red people in a village of the town and of another town, imported through the page."""
    page = browser.new_context(locale="zh-CN").new_page()
    sign_in(page, server, role_username(Role.district_operator))
    page.goto(f"{server}/people/import")
    body = (
        f"周玉兰,{id_number('19410305', 21)},13812345678,{VILLAGE},不稳定,1,王医生\n"
        f"陈外镇,{id_number('19400101', 23)},,{OTHER_TOWN_VILLAGE},不稳定,0,\n"
    )
    page.get_by_test_id("import-file").set_input_files(
        files=[{"name": "seed.csv", "mimeType": "text/csv", "buffer": (HEADER + body).encode()}]
    )
    page.get_by_role("button", name="上传").click()
    expect(page.get_by_test_id("import-result")).to_be_visible()
    page.context.close()


def test_import_with_one_bad_row_writes_nothing_and_names_the_row(
    page: Page, server: str, artifacts: Path
) -> None:
    sign_in(page, server, role_username(Role.town_operator))
    page.goto(f"{server}/people/import")
    good = id_number("19380808", 11)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    body = f"浏览器甲,{good},,{VILLAGE},,0,\n浏览器乙,{bad},,{VILLAGE},,0,\n"
    page.get_by_test_id("import-file").set_input_files(
        files=[{"name": "people.csv", "mimeType": "text/csv", "buffer": (HEADER + body).encode()}]
    )
    page.get_by_role("button", name="上传").click()
    expect(page.get_by_test_id("nothing-written")).to_be_visible()
    errors = page.get_by_test_id("import-error-table").locator("tbody tr")
    expect(errors).to_have_count(1)
    expect(errors.first.locator("td").first).to_have_text("3")
    expect(errors.first).to_contain_text("身份证号")
    expect(page.get_by_test_id("error-workbook")).to_be_visible()
    page.screenshot(path=str(artifacts / "people-import-errors.png"), full_page=True)
    page.goto(f"{server}/people?q=浏览器甲")
    expect(page.get_by_test_id("people-none")).to_be_visible()


def test_follow_up_with_spo2_91_shows_the_alert(page: Page, server: str, artifacts: Path) -> None:
    sign_in(page, server, role_username(Role.town_operator))
    page.goto(f"{server}/people?grade=red")
    expect(page.get_by_test_id("people-table")).to_be_visible()
    page.screenshot(path=str(artifacts / "people-list.png"), full_page=True)
    page.get_by_test_id("people-table").locator("tbody tr a").first.click()
    expect(page.get_by_test_id("person-name")).to_be_visible()
    page.get_by_test_id("spo2").fill("91")
    page.get_by_test_id("follow-up-save").click()
    expect(page.get_by_test_id("alert-raised")).to_be_visible()
    expect(page.get_by_test_id("open-alert").first).to_contain_text("血氧饱和度 91% < 93%")
    page.screenshot(path=str(artifacts / "people-person.png"), full_page=True)


def test_the_coverage_dashboard_draws_its_charts(page: Page, server: str, artifacts: Path) -> None:
    sign_in(page, server, role_username(Role.district_operator))
    page.goto(f"{server}/people/coverage")
    expect(page.get_by_test_id("coverage-table")).to_be_visible()
    expect(page.get_by_test_id("coverage-bars").locator("canvas").first).to_be_visible()
    expect(page.get_by_test_id("grade-pie")).to_have_attribute("data-rendered", "3")
    assert page.evaluate("() => document.fonts.check('16px \"Noto Sans CJK SC\"', '有人管')")
    page.screenshot(path=str(artifacts / "people-coverage.png"), full_page=True)


def test_a_town_operator_does_not_see_another_towns_people(
    page: Page, browser: Browser, server: str
) -> None:
    county = browser.new_context(locale="zh-CN").new_page()
    sign_in(county, server, role_username(Role.district_operator))
    county.goto(f"{server}/people?area={OTHER_TOWN}")
    first = county.get_by_test_id("people-table").locator("tbody tr a").first
    name, href = first.inner_text(), first.get_attribute("href")
    county.context.close()
    sign_in(page, server, role_username(Role.town_operator))
    answer = page.goto(f"{server}{href}")
    assert answer is not None
    assert answer.status == 404
    page.goto(f"{server}/people?q={name}")
    expect(page.get_by_test_id("people-none")).to_be_visible()
    answer = page.goto(f"{server}/people?area={OTHER_TOWN}")
    assert answer is not None
    assert answer.status == 403
