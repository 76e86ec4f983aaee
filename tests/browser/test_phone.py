"""A village doctor's day on a phone (390 × 844) and the same pages on a desk: the people list as
cards ordered by urgency, the follow-up form that keeps every value on an error and confirms a
save (and the referral alert it raised) at the top, open alerts at the top of the lists."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from lianfang.auth.choices import Role
from tests.browser.conftest import sign_in
from tests.factories import VILLAGE, id_number, role_username

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
HEADER = "姓名,身份证号,联系电话,村(居)代码,冠心病,疫苗剂次,负责人\n"
RED, YELLOW = "手机红甲", "手机黄乙"


@pytest.fixture(scope="module", autouse=True)
def registered(browser: Browser, server: str) -> None:
    """A red and a yellow person in the village doctor's village, imported through the page."""
    page = browser.new_context(locale="zh-CN").new_page()
    sign_in(page, server, role_username(Role.district_operator))
    page.goto(f"{server}/people/import")
    body = (
        f"{YELLOW},{id_number('19550303', 33)},,{VILLAGE},稳定,1,王医生\n"
        f"{RED},{id_number('19400202', 31)},,{VILLAGE},不稳定,0,\n"
    )
    page.get_by_test_id("import-file").set_input_files(
        files=[{"name": "phone.csv", "mimeType": "text/csv", "buffer": (HEADER + body).encode()}]
    )
    page.get_by_role("button", name="上传").click()
    expect(page.get_by_test_id("import-result")).to_be_visible()
    page.context.close()


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
    assert width[0] <= width[1], f"the page is {width[0]} px wide in a {width[1]} px viewport"


def test_the_list_on_a_phone_is_cards_most_urgent_first(phone: Page, server: str) -> None:
    sign_in(phone, server, role_username(Role.village_worker))
    phone.goto(f"{server}/people")
    cards = phone.get_by_test_id("person-card")
    expect(cards.first).to_be_visible()
    expect(phone.get_by_test_id("people-table")).to_be_hidden()
    names = cards.get_by_test_id("card-name").all_inner_texts()
    assert names.index(RED) < names.index(YELLOW)  # red before yellow
    red = cards.filter(has_text=RED)
    expect(red.get_by_test_id("card-grade")).to_have_text("红色")
    expect(red.get_by_test_id("card-missing")).to_contain_text("有人管")
    expect(red.get_by_test_id("card-due")).to_contain_text("下次随访")
    no_sideways_scroll(phone)


def test_a_towns_list_with_its_map_and_assignment_fits_a_phone(phone: Page, server: str) -> None:
    sign_in(phone, server, role_username(Role.town_operator))
    phone.goto(f"{server}/people")
    expect(phone.get_by_test_id("person-card").first).to_be_visible()
    expect(phone.get_by_test_id("people-map").locator("canvas").first).to_be_visible()
    expect(phone.get_by_test_id("assign-responsible")).to_be_visible()
    expect(phone.get_by_test_id("person-card").first.locator("input.tick")).to_be_visible()
    no_sideways_scroll(phone)


def test_a_bad_reading_keeps_every_value_and_a_good_one_confirms_the_alert_at_the_top(
    phone: Page, server: str, artifacts: Path
) -> None:
    sign_in(phone, server, role_username(Role.village_worker))
    phone.goto(f"{server}/people?q={RED}")
    phone.get_by_test_id("person-card").get_by_role("link", name=RED).click()
    expect(phone.get_by_test_id("person-name")).to_contain_text(RED)
    form = phone.get_by_test_id("follow-up-form")
    expect(form.get_by_test_id("spo2")).to_have_attribute("inputmode", "numeric")
    expect(form.get_by_test_id("temperature")).to_have_attribute("inputmode", "decimal")
    form.get_by_label("上门").check()
    form.get_by_test_id("temperature").fill("38.6")
    form.get_by_test_id("spo2").fill("9O")
    form.get_by_label("咳嗽").check()
    form.get_by_test_id("notes").fill("电话里说胸闷")
    form.get_by_test_id("follow-up-save").click()

    error = phone.get_by_test_id("spo2-error")
    expect(error).to_contain_text("「9O」不是数字")
    expect(error).to_be_in_viewport()
    spo2 = form.get_by_test_id("spo2")
    expect(spo2).to_be_focused()
    expect(spo2).to_have_value("9O")
    expect(spo2).to_have_attribute("aria-invalid", "true")
    expect(spo2).to_have_attribute("aria-describedby", "fu-spo2-error")
    expect(form.get_by_test_id("temperature")).to_have_value("38.6")
    expect(form.get_by_test_id("temperature")).not_to_have_attribute("aria-invalid", "true")
    expect(form.get_by_label("上门")).to_be_checked()
    expect(form.get_by_label("咳嗽")).to_be_checked()
    expect(form.get_by_test_id("notes")).to_have_value("电话里说胸闷")
    no_sideways_scroll(phone)
    phone.screenshot(path=str(artifacts / "follow-up-error-phone.png"))

    spo2.fill("91")
    form.get_by_test_id("follow-up-save").click()
    raised = phone.get_by_test_id("alert-raised")
    expect(raised).to_be_in_viewport()
    expect(raised).to_contain_text("已生成转诊提醒")
    expect(phone.get_by_test_id("alert-raised-reasons")).to_contain_text("91% < 93%")
    expect(phone.get_by_test_id("alert-raised-todo")).to_contain_text("转诊")
    assert phone.evaluate("() => window.scrollY") == 0
    assert "#" not in phone.url
    alert = phone.get_by_test_id("open-alert").first
    expect(alert).to_contain_text("91% < 93%")
    expect(alert).to_contain_text("提醒于")
    expect(form.get_by_test_id("spo2")).to_have_value("")  # a fresh form for the next contact
    no_sideways_scroll(phone)
    phone.screenshot(path=str(artifacts / "follow-up-saved-phone.png"))

    phone.goto(f"{server}/people")
    top = phone.get_by_test_id("list-alert").filter(has_text=RED).first
    expect(top).to_be_in_viewport()
    expect(top).to_contain_text("91% < 93%")
    expect(top).to_contain_text("提醒于")
    card = phone.get_by_test_id("person-card").filter(has_text=RED)
    expect(card.get_by_test_id("card-alert")).to_contain_text("91% < 93%")
    no_sideways_scroll(phone)
    phone.screenshot(path=str(artifacts / "people-list-phone.png"), full_page=True)


def test_on_a_desk_the_list_is_a_table_and_the_alert_list_has_reason_and_time(
    page: Page, server: str
) -> None:
    sign_in(page, server, role_username(Role.village_worker))
    page.goto(f"{server}/people?q={RED}")
    expect(page.get_by_test_id("people-table")).to_be_visible()
    expect(page.get_by_test_id("people-cards")).to_be_hidden()
    page.get_by_test_id("people-table").get_by_role("link", name=RED).click()
    form = page.get_by_test_id("follow-up-form")
    form.get_by_test_id("temperature").fill("39,1")  # a comma is read as the decimal point
    form.get_by_test_id("spo2").fill("96")
    form.get_by_test_id("fever_days").fill("七")
    form.get_by_test_id("follow-up-save").click()
    expect(page.get_by_test_id("fever_days-error")).to_be_in_viewport()
    expect(form.get_by_test_id("temperature")).to_have_value("39,1")
    expect(form.get_by_test_id("spo2")).to_have_value("96")
    form.get_by_test_id("fever_days").fill("3")
    form.get_by_test_id("follow-up-save").click()
    expect(page.get_by_test_id("alert-raised-reasons")).to_contain_text("39.1")
    expect(page.get_by_test_id("alert-raised")).to_be_in_viewport()

    page.goto(f"{server}/people?alert=1")
    table = page.get_by_test_id("people-table")
    expect(table.locator("thead")).to_contain_text("提醒原因")
    expect(table.locator("thead")).to_contain_text("提醒时间")
    row = table.locator("tbody tr").filter(has_text=RED)
    expect(row.get_by_test_id("alert-reason")).to_contain_text("持续高热")
    expect(row.get_by_test_id("alert-time")).not_to_be_empty()
