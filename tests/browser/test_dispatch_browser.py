"""The issue's browser tests of dispatch: a directive cascaded from the city to three villages
through the form, one village's task accepted, given a photo and completed on a phone, verified
by the town, the roll-up following; an overdue task escalated by the job to the level above's
list; a SpO2 of 91 recorded on a phone becoming a task on the village doctor's "my tasks" with
a suggested hospital."""

from __future__ import annotations

import struct
import zlib
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from lianfang import jobs, timeutil
from lianfang.auth.choices import Role
from lianfang.db.engine import make_engine, make_sessionmaker
from lianfang.dispatch import jobs as dispatch_jobs
from tests.browser.conftest import no_sideways_scroll, register_with_doctor, sign_in
from tests.factories import (
    OTHER_TOWN_VILLAGE,
    PASSWORD,
    TOWN,
    VILLAGE,
    VILLAGE_2,
    id_number,
    role_username,
)

pytestmark = pytest.mark.browser

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"


def png(width: int = 8, height: int = 8) -> bytes:
    """A small real PNG (a red square), as a phone's camera would give a JPEG."""
    row = b"\x00" + b"\xd9\x36\x3e" * width
    raw = zlib.compress(row * height)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def counts(page: Page) -> dict[str, str]:
    """The roll-up's figures above its table (done, late, not started, ...)."""
    total = page.get_by_test_id("rollup-total")
    return {
        key: total.get_by_test_id(f"count-{key}").locator("b").inner_text()
        for key in ("done", "late", "not_started")
    }


def test_cascade_to_three_villages_carry_one_out_on_a_phone_verify_it_and_see_the_roll_up(
    page: Page, phone: Page, server: str, artifacts: Path
) -> None:
    sign_in(page, server, role_username(Role.city_commander))
    page.get_by_test_id("nav-directives").click()
    page.get_by_test_id("new-directive").click()
    page.get_by_test_id("title").fill("重点人群健康服务全覆盖（测试）")
    page.get_by_test_id("text").fill("对65岁以上老人逐户随访，登记血氧，发放药包。")
    for box in page.get_by_test_id("targets").locator("input[type=checkbox]").all():
        box.uncheck()
    page.get_by_test_id("more-targets").fill(f"{VILLAGE}, {VILLAGE_2}, {OTHER_TOWN_VILLAGE}")
    page.get_by_test_id("to-level-village").check()
    page.get_by_test_id("issue").click()
    expect(page.get_by_test_id("saved")).to_contain_text("3 项任务")  # one per village
    assert counts(page) == {"done": "0", "late": "0", "not_started": "3"}
    directive_url = page.url.split("?")[0]
    page.get_by_test_id("drill").first.click()  # 如东县
    expect(page.get_by_test_id("rollup-path")).to_contain_text("如东县")
    page.get_by_test_id("rollup-table").get_by_role("link", name="掘港街道").click()
    expect(page.get_by_test_id("rollup-path")).to_contain_text("掘港街道")
    expect(page.get_by_test_id("rollup-row")).to_have_count(2)
    assert counts(page)["not_started"] == "2"
    village_link = page.locator(f'[data-area="{VILLAGE}"]').get_by_test_id("leaf-task")
    task_url = server + village_link.get_attribute("href")  # type: ignore[operator]

    # The village doctor, on a phone: accept, add a photo, mark done.
    sign_in(phone, server, role_username(Role.village_worker))
    expect(phone.get_by_test_id("open-tasks")).to_be_visible()
    phone.get_by_test_id("nav-my-tasks").click()
    card = phone.get_by_test_id("task-card").filter(has_text="重点人群健康服务全覆盖（测试）")
    expect(card).to_have_count(1)
    no_sideways_scroll(phone)
    card.click()
    assert phone.url == task_url
    phone.get_by_test_id("act-accept").click()
    expect(phone.get_by_test_id("task-status")).to_have_text("已接收")
    expect(phone.get_by_test_id("evidence-first")).to_be_visible()
    phone.get_by_test_id("evidence-note").fill("已随访 42 户，发放药包 40 份")
    phone.get_by_test_id("evidence-file").set_input_files(
        files=[{"name": "签收单.png", "mimeType": "image/png", "buffer": png()}]
    )
    phone.get_by_test_id("evidence-save").click()
    expect(phone.get_by_test_id("evidence-item")).to_contain_text("签收单.png")
    phone.get_by_test_id("act-complete").click()
    expect(phone.get_by_test_id("task-status")).to_have_text("已完成")
    expect(phone.get_by_test_id("act-verify")).to_have_count(0)  # not by the doer
    no_sideways_scroll(phone)
    phone.screenshot(path=str(artifacts / "task-done-phone.png"), full_page=True)

    # The town verifies; the roll-up follows at the town and at the city.
    page.context.clear_cookies()
    sign_in(page, server, role_username(Role.town_operator))
    page.goto(task_url)
    page.get_by_test_id("act-verify").click()
    expect(page.get_by_test_id("task-status")).to_have_text("已核验")
    page.goto(f"{directive_url}?area={TOWN[:9]}")
    assert counts(page)["done"] == "1"
    expect(page.locator(f'[data-area="{VILLAGE}"]').get_by_test_id("row-done")).to_have_text("1")
    page.context.clear_cookies()
    sign_in(page, server, role_username(Role.city_commander))
    page.goto(directive_url)
    assert counts(page) == {"done": "1", "late": "0", "not_started": "2"}
    page.screenshot(path=str(artifacts / "directive-desktop.png"), full_page=True)
    page.goto(f"{server}/directives")
    row = page.get_by_test_id("directive-row").filter(has_text="重点人群健康服务全覆盖（测试）")
    expect(row.get_by_test_id("count-done")).to_contain_text("1")


def test_an_overdue_task_escalates_to_the_level_above(
    page: Page, server: str, server_db: str, artifacts: Path
) -> None:
    token = page.request.post(
        f"{server}/api/auth/token",
        data={"username": role_username(Role.city_commander), "password": PASSWORD},
    ).json()["access_token"]
    made = page.request.post(f"{server}/api/directives", data={
        "area": "3206", "title": "药品储备动态清零短缺（测试）", "to_level": "village",
        "deadline": str(timeutil.today() + timedelta(days=1)), "targets": [VILLAGE_2],
    }, headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert made.ok, made.text()
    directive_id = made.json()["directive"]["id"]
    before = timeutil.use(timeutil.Clock(timeutil.today() + timedelta(days=3), "test"))
    try:
        engine = make_engine(server_db)
        ran = jobs.run_due(
            make_sessionmaker(engine), names=[dispatch_jobs.ESCALATE.name], force=True
        )
        engine.dispose()
        assert not ran.failed
        assert ran.ran[dispatch_jobs.ESCALATE.name] >= 1
        sign_in(page, server, role_username(Role.town_operator))
        page.get_by_test_id("nav-my-tasks").click()
        overdue = page.get_by_test_id("group-overdue")
        card = overdue.get_by_test_id("task-card").filter(has_text="药品储备动态清零短缺（测试）")
        expect(card).to_have_count(1)
        expect(card).to_contain_text("已上报给您")
        expect(card.get_by_test_id("card-deadline")).to_contain_text("逾期 2 天")
        card.click()
        expect(page.get_by_test_id("escalated")).to_be_visible()
        expect(page.get_by_test_id("task-history")).to_contain_text("已上报上一级")
        page.goto(f"{server}/directives/{directive_id}?area={TOWN[:9]}")
        row = page.locator(f'[data-area="{VILLAGE_2}"]')
        expect(row.get_by_test_id("escalated")).to_be_visible()
        expect(row.get_by_test_id("row-late")).to_have_text("1")
        page.goto(f"{server}/directives?state=behind")
        expect(page.get_by_test_id("directive-row").filter(has_text="药品储备")).to_have_count(1)
        page.screenshot(path=str(artifacts / "directives-behind-desktop.png"), full_page=True)
    finally:
        timeutil.use(before)


NAME, DOCTOR = "任务测甲", "任务周医生"


def test_a_spo2_of_91_on_a_phone_becomes_a_task_on_my_tasks_with_a_suggested_hospital(
    page: Page, phone: Page, server: str, artifacts: Path
) -> None:
    row = f"{NAME},{id_number('19410808', 51)},{VILLAGE},不稳定,0,{DOCTOR}\n"
    register_with_doctor(page, server, row, DOCTOR, VILLAGE)
    sign_in(phone, server, role_username(Role.village_worker))
    phone.goto(f"{server}/people?q={NAME}")
    phone.get_by_test_id("person-card").get_by_role("link", name=NAME).click()
    form = phone.get_by_test_id("follow-up-form")
    form.get_by_label("上门").check()
    form.get_by_test_id("spo2").fill("91")
    form.get_by_test_id("follow-up-save").click()
    expect(phone.get_by_test_id("alert-raised")).to_be_visible()
    phone.get_by_test_id("nav-my-tasks").click()
    card = phone.get_by_test_id("task-card").filter(has_text=NAME)
    expect(card).to_have_count(1)
    expect(card.get_by_test_id("card-why")).to_contain_text("91% < 93%")
    suggestion = card.get_by_test_id("card-suggestion")
    expect(suggestion).to_contain_text("建议转诊医院")
    expect(suggestion).to_contain_text("空床")
    expect(suggestion).to_contain_text("小时前上报")
    no_sideways_scroll(phone)
    phone.screenshot(path=str(artifacts / "my-tasks-phone.png"), full_page=True)
    card.click()
    expect(phone.get_by_test_id("task-suggestion")).to_contain_text("空床")
    expect(phone.get_by_test_id("task-owner")).to_contain_text(
        "测试" + role_username(Role.village_worker)
    )
    no_sideways_scroll(phone)
    phone.screenshot(path=str(artifacts / "alert-task-phone.png"), full_page=True)
