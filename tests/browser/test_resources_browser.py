"""The medical-resource pages in Chromium: a stale capacity report flagged on the list and on the
facility page, the map and the capacity chart drawn, the reserve dashboard clicked down to a
facility, and on a phone (390 px) a receipt then an issue that change the balance shown — with
no page wider than the screen."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from lianfang.auth.choices import Role
from tests.browser.conftest import sign_in
from tests.factories import role_username

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
YANGKOU = "洋口镇卫生院"  # its capacity report is three days old in the demo's story


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(
        viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True, device_scale_factor=1
    )
    opened = context.new_page()
    yield opened
    context.close()


def no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{page.url} is {width[0]} px wide in a {width[1]} px viewport"


def units(text: str) -> int:
    found = re.match(r"\s*([\d,]+)", text)
    assert found is not None, text
    return int(found.group(1).replace(",", ""))


def test_a_stale_capacity_report_is_flagged_on_the_list_and_the_page(
    page: Page, server: str, artifacts: Path
) -> None:
    sign_in(page, server, role_username(Role.district_operator))
    page.goto(f"{server}/resources?area=320623101")
    row = page.locator("tr[data-facility]", has_text=YANGKOU)
    expect(row.get_by_test_id("capacity-stale")).to_be_visible()
    expect(row.get_by_test_id("capacity-stale")).to_contain_text("过时")
    expect(row.get_by_test_id("capacity-stale")).to_contain_text("2023")  # when it was reported
    fresh = page.locator("tr[data-facility]", has_text="洋口镇百姓大药房1店")
    expect(fresh.get_by_test_id("capacity-stale")).to_have_count(0)
    expect(page.get_by_test_id("facility-map")).not_to_have_attribute("data-rendered", "0")
    expect(page.get_by_test_id("facility-map").locator("canvas").first).to_be_visible()
    page.screenshot(path=str(artifacts / "resources-list.png"), full_page=True)
    row.get_by_role("link", name=YANGKOU).click()
    expect(page.get_by_test_id("facility-name")).to_contain_text(YANGKOU)
    expect(
        page.get_by_test_id("capacity-reported").get_by_test_id("capacity-stale")
    ).to_be_visible()
    expect(page.get_by_test_id("capacity-chart")).to_have_attribute(
        "data-rendered", re.compile("[1-9]")
    )
    expect(page.get_by_test_id("shortfall-azvudine")).to_be_visible()
    expect(page.get_by_test_id("rest-warning")).to_be_visible()
    page.screenshot(path=str(artifacts / "resources-facility.png"), full_page=True)


def test_the_reserve_dashboard_clicks_down_to_a_facility(
    page: Page, server: str, artifacts: Path
) -> None:
    sign_in(page, server, role_username(Role.city_commander))
    page.goto(f"{server}/resources/reserve?area=320623")
    expect(page.get_by_test_id("reserve-children")).to_be_visible()
    page.screenshot(path=str(artifacts / "resources-reserve.png"), full_page=True)
    page.get_by_test_id("reserve-children").get_by_role("link", name="洋口镇").click()
    expect(page.get_by_test_id("reserve-title")).to_contain_text("洋口镇")
    page.get_by_test_id("short-table").get_by_role("link", name=YANGKOU).first.click()
    expect(page.get_by_test_id("facility-name")).to_contain_text(YANGKOU)


def test_on_a_phone_a_receipt_then_an_issue_change_the_balance_shown(
    phone: Page, server: str, artifacts: Path
) -> None:
    sign_in(phone, server, role_username(Role.village_worker))
    phone.goto(f"{server}/resources")
    no_sideways_scroll(phone)
    phone.screenshot(path=str(artifacts / "resources-list-phone.png"), full_page=True)
    phone.get_by_test_id("facility-table").locator("tbody a").first.click()
    expect(phone.get_by_test_id("facility-name")).to_be_visible()
    no_sideways_scroll(phone)
    before = units(phone.get_by_test_id("balance-ibuprofen").inner_text())

    def book(kind: str, quantity: str, ward: str = "") -> None:
        phone.get_by_test_id(f"do-{kind}").click()
        form = phone.get_by_test_id("move-form")
        expect(form).to_be_visible()
        no_sideways_scroll(phone)
        value = form.locator("option", has_text="布洛芬").get_attribute("value")
        assert value is not None
        form.get_by_test_id("item").select_option(value)
        form.get_by_test_id("quantity").fill(quantity)
        if ward:
            form.get_by_test_id("ward").fill(ward)
        phone.screenshot(path=str(artifacts / f"resources-{kind}-phone.png"), full_page=True)
        form.get_by_test_id("move-save").click()
        expect(phone.get_by_test_id("saved")).to_be_visible()

    book("receipt", "30")
    expect(phone.get_by_test_id("balance-ibuprofen")).to_have_text(f"{before + 30:,} 盒")
    book("issue", "12", ward="门诊")
    expect(phone.get_by_test_id("balance-ibuprofen")).to_have_text(f"{before + 18:,} 盒")
    expect(phone.get_by_test_id("saved")).to_contain_text(f"{before + 18:,}")
    no_sideways_scroll(phone)
    phone.screenshot(path=str(artifacts / "resources-facility-phone.png"), full_page=True)


def test_on_a_phone_an_error_stays_beside_its_field_and_every_page_fits(
    phone: Page, server: str, artifacts: Path
) -> None:
    sign_in(phone, server, role_username(Role.district_operator))
    phone.goto(f"{server}/resources?area=320623101")
    phone.locator("tr[data-facility]", has_text=YANGKOU).get_by_role("link", name=YANGKOU).click()
    phone.get_by_test_id("do-issue").click()
    form = phone.get_by_test_id("move-form")
    value = form.locator("option", has_text="奈玛特韦").get_attribute("value")
    assert value is not None
    form.get_by_test_id("item").select_option(value)
    form.get_by_test_id("quantity").fill("5000")
    form.get_by_test_id("ward").fill("发热门诊")
    form.get_by_test_id("move-save").click()
    expect(phone.get_by_test_id("quantity-error")).to_contain_text("仅剩")
    expect(phone.get_by_test_id("quantity")).to_have_value("5000")
    expect(phone.get_by_test_id("ward")).to_have_value("发热门诊")
    no_sideways_scroll(phone)
    phone.screenshot(path=str(artifacts / "resources-issue-error-phone.png"), full_page=True)
    phone.goto(phone.url.replace("/stock", "/capacity").split("?")[0])
    phone.get_by_test_id("beds_occupied").fill("99")
    phone.get_by_test_id("capacity-save").click()
    expect(phone.get_by_test_id("beds_occupied-error")).to_be_visible()
    no_sideways_scroll(phone)
    phone.screenshot(path=str(artifacts / "resources-capacity-phone.png"), full_page=True)
    for path in ("/resources/reserve?area=320623101", "/resources?area=320623"):
        phone.goto(f"{server}{path}")
        no_sideways_scroll(phone)
    phone.screenshot(path=str(artifacts / "resources-reserve-phone.png"), full_page=True)
