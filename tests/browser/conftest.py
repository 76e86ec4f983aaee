"""A real server on a free port and Debian's Chromium driven by Playwright."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from lianfang.api.app import create_app
from lianfang.config import Settings
from tests.conftest import seeded_engine
from tests.factories import PASSWORD
from tests.serving import serving

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def server_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The URL of the SQLite file the browser tests' server serves (for a test that runs a
    periodic job on it, as a server's job runner would)."""
    return f"sqlite:///{tmp_path_factory.mktemp('browser') / 'browser.db'}"


@pytest.fixture(scope="session")
def server(server_db: str) -> Iterator[str]:
    """The application on a seeded SQLite file, served by uvicorn in a thread."""
    if not Path(CHROMIUM).exists():
        pytest.fail("browser tests need Debian's chromium: apt-get install chromium fonts-noto-cjk")
    url = server_db
    engine = seeded_engine(url)
    with serving(create_app(Settings(database_url=url), engine)) as base:
        yield base
    engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    opened = context.new_page()
    yield opened
    context.close()


def sign_in(page: Page, server: str, username: str) -> None:
    """Fill in the sign-in form as a person would."""
    page.goto(f"{server}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{server}/")


PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    """A page in a phone-sized context (390 px, touch)."""
    context = browser.new_context(
        viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True, device_scale_factor=1
    )
    opened = context.new_page()
    yield opened
    context.close()


def no_sideways_scroll(page: Page) -> None:
    """Fail when the page is wider than its viewport."""
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the page is {width[0]} px wide in a {width[1]} px viewport"


PEOPLE_HEADER = "姓名,身份证号,村(居)代码,冠心病,疫苗剂次,负责人\n"


def register_with_doctor(page: Page, server: str, row: str, doctor: str, village: str) -> None:
    """Import one person (a CSV row under PEOPLE_HEADER) as the district operator, and link
    their responsible doctor to the village worker's account (through the API, as a town's
    system would), so that their alerts' tasks reach that account."""
    from playwright.sync_api import expect

    from lianfang.auth.choices import Role
    from tests.factories import role_username

    sign_in(page, server, role_username(Role.district_operator))
    page.goto(f"{server}/people/import")
    page.get_by_test_id("import-file").set_input_files(
        files=[{"name": "a.csv", "mimeType": "text/csv",
                "buffer": (PEOPLE_HEADER + row).encode()}]
    )  # fmt: skip
    page.get_by_role("button", name="上传").click()
    expect(page.get_by_test_id("import-result")).to_be_visible()
    token = page.request.post(
        f"{server}/api/auth/token",
        data={"username": role_username(Role.district_operator), "password": PASSWORD},
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    found = page.request.get(
        f"{server}/api/people/responsibles?area={village}", headers=headers
    ).json()
    responsible = next(r for r in found if r["name"] == doctor)
    linked = page.request.put(
        f"{server}/api/people/responsibles/{responsible['id']}/user",
        data={"username": role_username(Role.village_worker)}, headers=headers,
    )  # fmt: skip
    assert linked.ok, linked.text()
