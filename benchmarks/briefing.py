"""The daily briefing and the situation overview at city scale (1.75 M key people).

Times the city's briefing as HTML (the read model and its page) and as an A4 PDF in-process,
and the overview's first paint in Debian's Chromium against `lianfang serve`.
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path
from time import perf_counter

from benchmarks.common import BACKENDS, Table
from benchmarks.people import CITY, _city_csv, demo_database, import_file
from benchmarks.serve_load import WORKERS, jobs_once, serving
from benchmarks.targets import limit
from lianfang.auth import service as auth
from lianfang.auth.choices import Role
from lianfang.auth.schemas import UserCreate
from lianfang.auth.scope import SYSTEM
from lianfang.briefing import read, render
from lianfang.db.engine import make_sessionmaker, transaction

RUNS = 5
PAINTS = 5
PASSWORD = "briefing-bench-pw"
CHROMIUM = "/usr/bin/chromium"


def _median(action: object, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = perf_counter()
        action()  # type: ignore[operator]
        times.append(perf_counter() - start)
    return statistics.median(times)


def paints(base: str, username: str, password: str, loads: int = PAINTS) -> list[float]:
    """Seconds from asking for the home page to the first contentful paint, and to the map
    drawn with its figures, as the city commander (signed in once beforehand)."""
    from playwright.sync_api import sync_playwright

    out: list[float] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        page = context.new_page()
        page.goto(f"{base}/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/", timeout=60_000)
        for _ in range(loads):
            page.goto("about:blank")
            page.goto(f"{base}/", timeout=60_000)
            page.wait_for_selector("[data-testid=overview-map][data-rendered]", timeout=60_000)
            paint = page.evaluate(
                "performance.getEntriesByName('first-contentful-paint')[0].startTime"
            )
            out.append(float(paint) / 1000)
        browser.close()
    return out


def run() -> Table:
    """The city's briefing as HTML and PDF, and the overview's first paint (SQLite)."""
    table = Table(
        title="The daily briefing and the situation overview of Nantong (1.75M key people)",
        columns=["Back end", "What", "Median (s)", "Target (s)"],
        notes=[
            "After the city-scale CSV import of the people benchmark (the demo world's facilities, "
            "capacity reports and stock included): `briefing.read.briefing` of Nantong (320600) "
            "with `render.document` (the page's HTML), and with `render.pdf` (WeasyPrint, A4, "
            f"Noto CJK embedded), median of {RUNS} runs after a first reading that stores the "
            "day's snapshot (not timed).",
            "First paint: one pass of the periodic jobs (`lianfang worker --once`: the alert "
            "rules' first pass over the city, which a running server made long ago), then "
            f"`lianfang serve` ({WORKERS} worker process) on the same database; "
            "Chromium signed in as a city commander opens `/` (the overview), and the figure "
            "is the browser's first-contentful-paint, median of "
            f"{PAINTS} loads; each load also waits for the map to be drawn with its figures.",
            "Targets from the issue: HTML ≤ 2 s, PDF ≤ 10 s, first paint ≤ 1 s.",
        ],
    )
    table.start()
    backend = BACKENDS[0]
    data, _count = _city_csv()
    with demo_database(backend) as database:
        import_file(database, data, "nantong-65plus.csv")
        factory = make_sessionmaker(database.engine)
        with transaction(factory) as session:
            read.briefing(session=session, actor=SYSTEM, code=CITY)
            auth.create_user(session=session, actor=SYSTEM, user_in=UserCreate(
                username="bench-commander", display_name="基准指挥", role=Role.city_commander,
                area_code=CITY, password=PASSWORD,
            ))  # fmt: skip

        def html() -> None:
            with factory() as session:
                render.document(read.briefing(session=session, actor=SYSTEM, code=CITY), "zh")

        def pdf() -> None:
            with factory() as session:
                render.pdf(read.briefing(session=session, actor=SYSTEM, code=CITY), "zh")

        for name, action, what in (
            ("briefing.html", html, "briefing as HTML"),
            ("briefing.pdf", pdf, "briefing as PDF"),
        ):
            seconds = _median(action, RUNS)
            table.figure(name, seconds)
            table.add(backend, what, f"{seconds:.2f}", f"{limit(name):.0f}")
        with tempfile.TemporaryDirectory() as scratch:
            jobs_once(database.url, Path(scratch))
        with tempfile.TemporaryDirectory() as scratch, serving(database.url, Path(scratch)) as up:
            paint = statistics.median(paints(up.base, "bench-commander", PASSWORD))
        table.figure("briefing.overview_paint", paint)
        table.add(backend, "overview first paint", f"{paint:.2f}",
                  f"{limit('briefing.overview_paint'):.0f}")  # fmt: skip
    return table
