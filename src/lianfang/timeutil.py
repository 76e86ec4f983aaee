"""Time: stored as aware UTC, shown in Asia/Shanghai; one clock for the day the world is in.

Two clocks, for two kinds of time:

- ``today()`` and ``now()`` are the day and moment *the world is in*: when a contact was made,
  a kit delivered, an alert raised, whether a check-in is overdue. In production that is the
  real date. A demo or an exercise pins a day (``LIANFANG_TODAY``, or the day a demo database
  was built around); the time of day stays the real one.
- ``utcnow()`` is the machine's clock, for what the system itself did: sign-ins and token
  expiry, the audit trail, forecast runs, import reports, area loads.

Which day is pinned is decided once at start-up (``use``), by ``choose``: the setting, else the
demo database's day, else the real date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Clock:
    """The pinned day (None: the real date) and where it came from."""

    day: date | None
    source: str  # "setting" (LIANFANG_TODAY), "demo" (the demo database), "real", or a test's


REAL = Clock(None, "real")
_clock: Clock | None = None  # None: not decided yet; the setting is read on first use


def choose(setting: date | None, demo: date | None) -> Clock:
    """The clock by precedence: the setting, else the demo database's day, else the real date."""
    if setting is not None:
        return Clock(setting, "setting")
    if demo is not None:
        return Clock(demo, "demo")
    return REAL


def use(clock: Clock) -> Clock:
    """Make ``clock`` the process's clock; returns the one it replaces (for tests to restore)."""
    global _clock
    before = current()
    _clock = clock
    return before


def current() -> Clock:
    """The clock in use: decided at start-up, else the setting alone."""
    if _clock is None:
        from lianfang.config import get_settings  # settings are read once, on first use

        return choose(get_settings().today, None)
    return _clock


def utcnow() -> datetime:
    """The machine's current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def today() -> date:
    """The day the world is in (Asia/Shanghai): the pinned day, else the real date."""
    return current().day or datetime.now(LOCAL_TZ).date()


def now() -> datetime:
    """The moment the world is in, aware UTC: today() at the real time of day in Nantong."""
    real = datetime.now(LOCAL_TZ)
    day = current().day
    if day is None:
        return real.astimezone(UTC)
    return datetime.combine(day, real.time(), tzinfo=LOCAL_TZ).astimezone(UTC)


def start_of(day: date) -> datetime:
    """Midnight at the start of a day in Nantong, aware UTC."""
    return datetime.combine(day, datetime.min.time(), tzinfo=LOCAL_TZ).astimezone(UTC)


def local(moment: datetime) -> datetime:
    """The moment in Asia/Shanghai."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: every stored time is aware UTC")
    return moment.astimezone(LOCAL_TZ)


def format_local(moment: datetime | None, language: str = "zh") -> str:
    """A moment as people in Nantong read it."""
    if moment is None:
        return "—"
    when = local(moment)
    if language == "zh":
        return f"{when.year}年{when.month}月{when.day}日 {when:%H:%M}"
    return when.strftime("%Y-%m-%d %H:%M")
