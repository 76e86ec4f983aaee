"""The public medicine page in Chromium on a phone (390 px), without signing in: from the sign-in
page to ibuprofen near a village of 洋口镇, nearest first with distance and report time; the
phone's position used when the visitor grants it; over the rate limit, the friendly page. No page
wider than the screen."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.test_resources_browser import PHONE, no_sideways_scroll

pytestmark = pytest.mark.browser

VILLAGE = "香橼树"  # a village of 洋口镇, 如东县 (the name fits one place)
RUDONG = {"longitude": 121.19, "latitude": 32.31}  # near 如东县's seat


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(
        viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True, device_scale_factor=1,
        geolocation=RUDONG, permissions=["geolocation"],
    )  # fmt: skip
    opened = context.new_page()
    yield opened
    context.close()


def distances(page: Page) -> list[float]:
    return [float(k) for k in page.get_by_test_id("place").evaluate_all(
        "cards => cards.map(c => c.dataset.km)")]  # fmt: skip


def test_a_resident_finds_ibuprofen_near_a_village_nearest_first(
    phone: Page, server: str, artifacts: Path
) -> None:
    phone.goto(f"{server}/login")
    phone.get_by_test_id("medicine-link").click()
    expect(phone.get_by_role("heading", name="哪里能买到药")).to_be_visible()
    phone.get_by_test_id("medicine-item").select_option(label="布洛芬")
    phone.get_by_test_id("medicine-place").fill(VILLAGE)
    phone.get_by_test_id("medicine-search").click()
    results = phone.get_by_test_id("medicine-results")
    expect(results).to_contain_text(f"{VILLAGE}")
    expect(results).to_contain_text("布洛芬")
    cards = phone.get_by_test_id("place")
    expect(cards.first).to_be_visible()
    kms = distances(phone)
    assert len(kms) > 1
    assert kms == sorted(kms)
    first = cards.first
    expect(first.get_by_test_id("place-km")).to_have_text(re.compile(r"^[\d.]+ 公里$"))
    expect(first.get_by_test_id("place-reported")).to_have_text(
        re.compile(r"^\d+ (分钟|小时|天)前上报$")
    )
    expect(first.get_by_test_id("place-level")).to_have_text(re.compile("库存：(充足|少量)"))
    expect(phone.get_by_test_id("who")).to_have_count(0)  # nobody signed in
    no_sideways_scroll(phone)
    phone.screenshot(path=str(artifacts / "medicine-phone.png"), full_page=True)
    # another item for the same place keeps the place
    phone.get_by_test_id("medicine-item").select_option(label="对乙酰氨基酚")
    phone.get_by_test_id("medicine-search").click()
    expect(phone.get_by_test_id("medicine-results")).to_contain_text("对乙酰氨基酚")
    expect(phone.get_by_test_id("medicine-results")).to_contain_text(VILLAGE)
    # in English
    phone.get_by_test_id("lang-switch").click()
    expect(phone.get_by_test_id("medicine-results")).to_contain_text("near")
    expect(phone.get_by_test_id("place").first).to_contain_text("km")
    no_sideways_scroll(phone)


def test_the_phone_position_is_used_when_granted(phone: Page, server: str) -> None:
    phone.goto(f"{server}/medicine")
    phone.get_by_test_id("medicine-locate").click()
    expect(phone.get_by_test_id("medicine-results")).to_contain_text("您附近的布洛芬")
    assert "lon=121.19" in phone.url
    kms = distances(phone)
    assert kms == sorted(kms)
    no_sideways_scroll(phone)


def test_over_the_rate_limit_a_friendly_page_says_when_to_try_again(
    phone: Page, server: str, artifacts: Path
) -> None:
    """Last in this file: it spends the address's lookups (they come back within a minute)."""
    asked = f"{server}/medicine?item=ibuprofen&q={VILLAGE}"
    for _ in range(200):  # the budget is the setting's (30 a minute by default)
        if phone.request.get(f"{server}/api/public/medicine?item=ibuprofen&near=320623101")\
                .status == 429:  # fmt: skip
            break
    answer = phone.goto(asked)
    assert answer is not None
    assert answer.status == 429
    assert int(answer.headers["retry-after"]) >= 1
    expect(phone.get_by_role("heading", name="请稍候")).to_be_visible()
    expect(phone.get_by_test_id("error-message")).to_contain_text(
        re.compile(r"本地址查询过于频繁，请 \d+ 秒后再试")
    )
    expect(phone.get_by_test_id("try-again")).to_have_attribute("href", re.compile("/medicine"))
    no_sideways_scroll(phone)
    phone.screenshot(path=str(artifacts / "medicine-limit-phone.png"), full_page=True)
