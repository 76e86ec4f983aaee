"""The issue's browser test of the alert engine: a SpO2 of 91 recorded on a phone becomes a task
on the village doctor's list with a suggested hospital; the alert centre at desk size, coloured
by severity, with its filters."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from lianfang.auth.choices import Role
from tests.browser.conftest import no_sideways_scroll, register_with_doctor, sign_in
from tests.factories import VILLAGE, id_number, role_username

pytestmark = pytest.mark.browser

NAME, DOCTOR = "预警测甲", "预警周医生"


@pytest.fixture(scope="module", autouse=True)
def registered(browser: Browser, server: str) -> None:
    """A red person of the village doctor's village, whose responsible doctor is linked to the
    village worker's account."""
    page = browser.new_context(locale="zh-CN").new_page()
    row = f"{NAME},{id_number('19400707', 41)},{VILLAGE},不稳定,0,{DOCTOR}\n"
    register_with_doctor(page, server, row, DOCTOR, VILLAGE)
    page.context.close()


def test_a_low_spo2_on_a_phone_becomes_a_task_with_a_suggested_hospital(
    phone: Page, server: str, artifacts: Path
) -> None:
    sign_in(phone, server, role_username(Role.village_worker))
    phone.goto(f"{server}/people?q={NAME}")
    phone.get_by_test_id("person-card").get_by_role("link", name=NAME).click()
    form = phone.get_by_test_id("follow-up-form")
    form.get_by_label("上门").check()
    form.get_by_test_id("spo2").fill("91")
    form.get_by_test_id("follow-up-save").click()
    raised = phone.get_by_test_id("alert-raised")
    expect(raised).to_be_in_viewport()
    expect(phone.get_by_test_id("alert-raised-reasons")).to_contain_text("91% < 93%")
    expect(phone.get_by_test_id("alert-raised-suggestion")).to_contain_text("空床")
    no_sideways_scroll(phone)
    phone.screenshot(path=str(artifacts / "alert-raised-phone.png"))

    # The village doctor's list: the alert's task is theirs, with the hospital to refer to.
    phone.get_by_test_id("nav-alerts").click()
    phone.get_by_test_id("filter-mine").check()
    phone.get_by_role("button", name="筛选").click()
    card = phone.get_by_test_id("alert-card").filter(has_text=NAME)
    expect(card).to_have_count(1)
    expect(card.get_by_test_id("alert-severity")).to_have_text("高")
    expect(card.get_by_test_id("alert-why")).to_contain_text("91% < 93%")
    suggestion = card.get_by_test_id("alert-suggestion")
    expect(suggestion).to_contain_text("建议转诊医院")
    expect(suggestion).to_contain_text("空床")
    expect(suggestion).to_contain_text("小时前上报")
    task = card.get_by_test_id("alert-task")
    expect(task).to_contain_text("测试" + role_username(Role.village_worker))
    expect(task).to_contain_text("截止")
    no_sideways_scroll(phone)
    phone.screenshot(path=str(artifacts / "alert-centre-mine-phone.png"), full_page=True)

    # A second low reading updates the same alert: still one card, one task.
    phone.go_back()
    phone.goto(f"{server}/people?q={NAME}")
    phone.get_by_test_id("person-card").get_by_role("link", name=NAME).click()
    form.get_by_label("电话").check()
    form.get_by_test_id("spo2").fill("89")
    form.get_by_test_id("follow-up-save").click()
    expect(phone.get_by_test_id("alert-raised-reasons")).to_contain_text("89% < 93%")
    phone.goto(f"{server}/alerts?mine=1")
    card = phone.get_by_test_id("alert-card").filter(has_text=NAME)
    expect(card).to_have_count(1)
    expect(card.get_by_test_id("alert-why")).to_contain_text("89% < 93%")
    card.get_by_test_id("alert-link").click()
    history = phone.get_by_test_id("alert-history")
    expect(history.locator("li")).to_have_count(3)  # opened, task assigned, updated
    expect(phone.get_by_test_id("alert-task")).to_contain_text(NAME)
    no_sideways_scroll(phone)
    phone.screenshot(path=str(artifacts / "alert-page-phone.png"), full_page=True)


def test_the_alert_centre_shows_every_kind_coloured_by_severity(
    page: Page, server: str, artifacts: Path
) -> None:
    sign_in(page, server, role_username(Role.district_operator))
    page.goto(f"{server}/alerts")
    expect(page.get_by_test_id("alerts-title")).to_contain_text("预警中心")
    cards = page.get_by_test_id("alert-card")
    expect(cards.first).to_be_visible()
    page.get_by_test_id("filter-severity").select_option("high")
    page.get_by_role("button", name="筛选").click()
    severities = page.get_by_test_id("alert-severity").all_inner_texts()
    assert severities
    assert set(severities) == {"高"}
    page.screenshot(path=str(artifacts / "alert-centre-desktop.png"), full_page=True)
