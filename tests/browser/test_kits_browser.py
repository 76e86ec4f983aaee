"""有药用 through the stock ledger, in a real browser: a kit issued to a red person turns the
guarantee green on their page and takes one kit out of the clinic's stock."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from lianfang.auth.choices import Role
from tests.browser.conftest import sign_in
from tests.factories import VILLAGE, id_number, role_username

pytestmark = pytest.mark.browser

HEADER = "姓名,身份证号,村(居)代码,冠心病,疫苗剂次\n"
NAMES = ("药包甲", "药包乙", "药包丙")


@pytest.fixture(scope="module", autouse=True)
def red_people(browser: Browser, server: str) -> None:
    """Red people of the village (unstable heart disease, unvaccinated, 80+), imported."""
    page = browser.new_context(locale="zh-CN").new_page()
    sign_in(page, server, role_username(Role.district_operator))
    page.goto(f"{server}/people/import")
    body = "".join(
        f"{name},{id_number('19410305', 31 + 2 * n)},{VILLAGE},不稳定,0\n"
        for n, name in enumerate(NAMES)
    )
    page.get_by_test_id("import-file").set_input_files(
        files=[{"name": "kits.csv", "mimeType": "text/csv", "buffer": (HEADER + body).encode()}]
    )
    page.get_by_role("button", name="上传").click()
    expect(page.get_by_test_id("import-result")).to_be_visible()
    page.context.close()


def _held(page: Page, facility_id: str) -> int:
    text = page.get_by_test_id(f"kit-source-{facility_id}").inner_text()
    found = re.search(r"红 (\d+)", text)
    assert found is not None, text
    return int(found.group(1))


@pytest.mark.parametrize("width", [1280, 390])
def test_issuing_a_kit_turns_medicine_green_and_the_stock_falls(
    page: Page, server: str, artifacts: Path, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, server, role_username(Role.town_operator))
    page.goto(f"{server}/people?q={NAMES[0 if width > 400 else 1]}")
    href = page.get_by_test_id("people-table").locator("tbody tr a").first.get_attribute("href")
    page.goto(f"{server}{href}")
    expect(page.get_by_test_id("person-name")).to_be_visible()
    medicine = page.get_by_test_id("guarantees").locator("li", has_text="有药用")
    expect(medicine).to_have_class("no")
    # a clinic of the town that holds red kits
    options = page.get_by_test_id("kit-facility").locator("option")
    chosen = next(
        value
        for i in range(options.count())
        if (value := options.nth(i).get_attribute("value")) and _held(page, value) > 0
    )
    before = _held(page, chosen)
    page.get_by_test_id("kit-facility").select_option(chosen)
    page.get_by_test_id("kit-red").check()
    page.get_by_test_id("kit-issue").click()
    expect(page.get_by_test_id("saved")).to_be_visible()
    expect(medicine).to_have_class("ok")
    expect(page.get_by_test_id("person-kit")).to_contain_text("红")
    expect(page.get_by_test_id("kit-issues").locator("tbody tr")).to_have_count(1)
    assert _held(page, chosen) == before - 1
    page.screenshot(path=str(artifacts / f"people-kit-issued-{width}.png"), full_page=True)
    # the correction puts the kit back and 有药用 with it
    page.get_by_test_id("kit-issues").locator("summary").first.click()
    page.get_by_test_id("kit-correct-form").locator("input[name=note]").fill("发错了人")
    page.get_by_test_id("kit-correct-form").locator("button").click()
    expect(page.get_by_test_id("saved")).to_be_visible()
    expect(medicine).to_have_class("no")
    assert _held(page, chosen) == before


def test_a_clinic_without_kits_refuses_next_to_the_field(page: Page, server: str) -> None:
    sign_in(page, server, role_username(Role.town_operator))
    page.goto(f"{server}/people?q={NAMES[2]}")
    page.get_by_test_id("people-table").locator("tbody tr a").first.click()
    options = page.get_by_test_id("kit-facility").locator("option")
    empty = next(
        (
            value
            for i in range(options.count())
            if (value := options.nth(i).get_attribute("value")) and _held(page, value) == 0
        ),
        None,
    )
    assert empty is not None, "the test world's town must have a clinic without red kits"
    page.get_by_test_id("kit-facility").select_option(empty)
    page.get_by_test_id("kit-red").check()
    page.get_by_test_id("kit-issue").click()
    expect(page.get_by_test_id("kit-facility-error")).to_contain_text("0")
    expect(page.get_by_test_id("guarantees").locator("li", has_text="有药用")).to_have_class("no")
