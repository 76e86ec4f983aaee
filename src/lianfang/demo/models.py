"""The record of demo-world builds."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from lianfang.db.base import Base
from lianfang.timeutil import utcnow


class DemoWorld(Base):
    """One build of the demo world: which city, with which seed and scale, when and by whom.

    Its presence tells every page that the figures are invented; domains that generate people
    read ``scale`` (demo: a sample; city: every resident aged 65+). ``built_at`` is when the
    build ran (the machine's clock); ``today`` is the day its world is in."""

    __tablename__ = "demo_world"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    area_code: Mapped[str] = mapped_column(String(12), ForeignKey("area.code"), index=True)
    seed: Mapped[int] = mapped_column(Integer)
    scale: Mapped[str] = mapped_column(String(16))
    built_at: Mapped[datetime] = mapped_column(default=utcnow)
    built_by: Mapped[str] = mapped_column(String(64))
    today: Mapped[date | None] = mapped_column(Date, nullable=True)
    """The day the world was built around: the clock of a server on this database (None for
    builds made before the one clock; they were dated by the machine's)."""
