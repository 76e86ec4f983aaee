"""Tables of the briefing: the figures of an area as they stood on a day."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lianfang.db.base import Base
from lianfang.timeutil import utcnow


class BriefingSnapshot(Base):
    """The key figures of one area on one day of the world (coverage, overdue follow-ups,
    referral alerts, beds, stock below target, the forecast peak, tasks behind schedule), kept
    so that tomorrow's briefing can say what changed and a past day's briefing can be shown as
    it stood. Written by the first reading of the day; derived from the domains' own records
    (like the coverage roll-up), so not audited."""

    __tablename__ = "briefing_snapshot"

    area_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    figures: Mapped[str] = mapped_column(Text)  # JSON: the figures of ``briefing.read.Row``
    taken_at: Mapped[datetime] = mapped_column(default=utcnow)
