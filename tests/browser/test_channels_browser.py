"""The notification channel page in Chromium: the district operator goes from the notifications
to the channels, adds a webhook channel pointing at a real receiver on loopback, presses "send a
test" and sees it delivered (the receiver got it), then removes it after confirming; the page
at 390 px without sideways scrolling."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from lianfang.auth.choices import Role
from tests.browser.conftest import no_sideways_scroll, sign_in
from tests.factories import role_username
from tests.notify.receivers import http_receiver

pytestmark = pytest.mark.browser
DOCS = Path(__file__).resolve().parents[2] / "docs" / "img"


def test_add_a_webhook_and_send_a_test(
    page: Page, phone: Page, server: str, artifacts: Path
) -> None:
    with http_receiver() as robot:
        sign_in(page, server, role_username(Role.district_operator))
        page.goto(f"{server}/notifications")
        page.get_by_test_id("channels-link").click()
        expect(page.get_by_test_id("channels-title")).to_contain_text("通知通道")
        form = page.get_by_test_id("channel-form")
        form.get_by_test_id("name").fill("县应急指挥平台")
        form.get_by_test_id("kind").select_option("webhook")
        form.get_by_test_id("target").fill("ftp://wrong")
        form.get_by_test_id("save-channel").click()
        expect(page.get_by_test_id("target-error")).to_contain_text("http")
        form = page.get_by_test_id("channel-form")
        form.get_by_test_id("target").fill(f"{robot.url}/lianfang")
        form.get_by_test_id("secret").fill("hmac-key-1")
        form.get_by_test_id("enabled").check()
        form.get_by_test_id("save-channel").click()
        row = page.get_by_test_id("channel-row").filter(has_text="县应急指挥平台")
        expect(row).to_contain_text("已加签")
        row.get_by_test_id("test-channel").click()
        expect(page.get_by_test_id("test-result")).to_contain_text("已送达")
        assert [r.path for r in robot.got] == ["/lianfang"]
        assert "X-Lianfang-Signature" in robot.got[0].headers  # signed with the secret
        expect(page.get_by_test_id("outbox")).to_contain_text("已送达")
        page.screenshot(path=str(artifacts / "notify-channels.png"), full_page=True)
        page.screenshot(path=str(DOCS / "notify-channels.png"), full_page=True)

        sign_in(phone, server, role_username(Role.district_operator))
        phone.goto(f"{server}/notifications/channels")
        expect(phone.get_by_test_id("channel-row").first).to_be_visible()
        no_sideways_scroll(phone)
        phone.screenshot(path=str(artifacts / "notify-channels-phone.png"), full_page=True)
        phone.screenshot(path=str(DOCS / "notify-channels-phone.png"), full_page=True)

        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_test_id("channel-row").filter(has_text="县应急指挥平台").get_by_test_id(
            "remove-channel"
        ).click()
        expect(page.get_by_test_id("channel-row").filter(has_text="县应急指挥平台")).to_have_count(
            0
        )
