"""Time: stored as aware UTC, shown in Asia/Shanghai."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


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


def today() -> date:
    """Today's date in Asia/Shanghai."""
    return datetime.now(LOCAL_TZ).date()
