"""The duty roster in Chromium: the town operator puts a leader and a staff member on tonight's
duty, sees them in the week grid with tonight highlighted and in "tonight"; the village worker
on a phone sees the town's duty covering the village and writes a handover note; no sideways
scrolling at 390 px."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from lianfang.auth.choices import Role
from tests.browser.conftest import no_sideways_scroll, sign_in
from tests.factories import TOWN, VILLAGE, role_username

pytestmark = pytest.mark.browser


def test_arrange_tonight_and_read_it_on_a_phone(
    page: Page, phone: Page, server: str, artifacts: Path
) -> None:
    sign_in(page, server, role_username(Role.town_operator))
    page.get_by_test_id("nav-duty").click()
    expect(page.get_by_test_id("duty-title")).to_contain_text("掘港街道")
    for role, name, number in (
        ("leader", "陈建国", "13912340001"),
        ("staff", "李小梅", "13912340002"),
    ):
        form = page.get_by_test_id("duty-form")
        form.get_by_test_id("duty-area").select_option(TOWN)
        form.get_by_test_id("duty-role").select_option(role)
        form.get_by_test_id("duty-name").fill(name)
        form.get_by_test_id("duty-phone").fill(number)
        form.get_by_test_id("duty-save").click()
        expect(page.get_by_test_id("duty-grid")).to_contain_text(name)
    expect(page.get_by_test_id("duty-tonight")).to_contain_text("带班领导 陈建国")
    expect(page.get_by_test_id("duty-tonight")).to_contain_text("李小梅")
    expect(page.locator(".duty-grid td.tonight .duty-shift.now").first).to_contain_text("陈建国")
    # a second leader for the same night is refused, naming the first
    form = page.get_by_test_id("duty-form")
    form.get_by_test_id("duty-role").select_option("leader")
    form.get_by_test_id("duty-name").fill("王五")
    form.get_by_test_id("duty-phone").fill("13912340003")
    form.get_by_test_id("duty-save").click()
    expect(page.get_by_test_id("duty-error")).to_contain_text("陈建国")
    page.goto(f"{server}/duty?area={TOWN}")
    page.screenshot(path=str(artifacts / "duty-roster.png"), full_page=True)

    sign_in(phone, server, role_username(Role.village_worker))
    phone.goto(f"{server}/duty?area={VILLAGE}")
    expect(phone.get_by_test_id("duty-tonight")).to_contain_text("陈建国")
    expect(phone.get_by_test_id("duty-form")).to_have_count(0)
    phone.get_by_test_id("handover-text").fill("三组周玉兰血氧偏低，夜间再电话随访。")
    phone.get_by_test_id("handover-save").click()
    expect(phone.get_by_test_id("handovers")).to_contain_text("周玉兰")
    no_sideways_scroll(phone)
    phone.screenshot(path=str(artifacts / "duty-roster-phone.png"), full_page=True)
