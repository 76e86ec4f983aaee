"""One clock: the day the world is in, by precedence; the machine's clock for the system."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from lianfang import timeutil
from lianfang.api.app import create_app
from lianfang.config import Settings
from lianfang.demo import service as demo_service
from lianfang.demo import story


@pytest.fixture
def restore() -> Iterator[None]:
    """Put back the tests' pinned clock after a test that changes it."""
    before = timeutil.current()
    yield
    timeutil.use(before)


def test_the_setting_wins_over_the_demo_database_which_wins_over_the_real_date() -> None:
    setting, demo = date(2023, 2, 1), date(2023, 1, 5)
    assert timeutil.choose(setting, demo) == timeutil.Clock(setting, "setting")
    assert timeutil.choose(None, demo) == timeutil.Clock(demo, "demo")
    assert timeutil.choose(None, None) == timeutil.REAL


def test_a_pinned_day_keeps_the_real_time_of_day(restore: None) -> None:
    timeutil.use(timeutil.Clock(date(2023, 1, 5), "test"))
    assert timeutil.today() == date(2023, 1, 5)
    moment = timeutil.now()
    assert moment.tzinfo is not None
    assert timeutil.local(moment).date() == date(2023, 1, 5)
    real = datetime.now(timeutil.LOCAL_TZ)
    gap = abs(timeutil.local(moment).replace(tzinfo=None) - real.replace(
        year=2023, month=1, day=5, tzinfo=None))  # fmt: skip
    assert gap < timedelta(minutes=1)
    assert abs(timeutil.utcnow() - datetime.now(UTC)) < timedelta(minutes=1)  # the machine's


def test_the_real_clock_is_the_real_date(restore: None) -> None:
    timeutil.use(timeutil.REAL)
    assert timeutil.today() == datetime.now(timeutil.LOCAL_TZ).date()
    assert abs(timeutil.now() - datetime.now(UTC)) < timedelta(minutes=1)


def test_midnight_is_nantongs() -> None:
    assert timeutil.start_of(date(2023, 1, 5)) == datetime(2023, 1, 4, 16, tzinfo=UTC)


def test_the_server_runs_on_its_demo_databases_day_unless_the_setting_says(
    engine: Engine, restore: None
) -> None:
    assert demo_service.clock_for(engine=engine, setting=None) == timeutil.Clock(
        story.TODAY, "demo"
    )  # the test database is a demo world built around story.TODAY
    timeutil.use(timeutil.REAL)
    create_app(Settings(database_url="sqlite://"), engine)
    assert timeutil.current() == timeutil.Clock(story.TODAY, "demo")
    create_app(Settings(database_url="sqlite://", today=date(2023, 1, 20)), engine)
    assert timeutil.today() == date(2023, 1, 20)
    assert timeutil.current().source == "setting"


def test_lianfang_today_is_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no lianfang.toml
    monkeypatch.setenv("LIANFANG_TODAY", "2023-01-09")
    assert Settings().today == date(2023, 1, 9)
    monkeypatch.setenv("LIANFANG_TODAY", "9 Jan")
    with pytest.raises(ValueError, match="today"):
        Settings()
