"""Stored forecast runs and fits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lianfang.choices import Choice
from lianfang.db.base import Base, choice_column
from lianfang.i18n import _
from lianfang.timeutil import utcnow


class RunKind(Choice):
    forecast = ("forecast", _("forecast"), "#5470c6")
    fit = ("fit", _("fit"), "#91cc75")


class RunStatus(Choice):
    queued = ("queued", _("queued"), "#909399")
    running = ("running", _("running"), "#e6a23c")
    done = ("done", _("done"), "#67c23a")
    failed = ("failed", _("failed"), "#f56c6c")


class ForecastRun(Base):
    """One forecast or fit for an area, with every input needed to reproduce it (parameters,
    scenarios, seed, the population it ran on) and, once done, its results."""

    __tablename__ = "forecast_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    area_code: Mapped[str] = mapped_column(String(12), ForeignKey("area.code"), index=True)
    kind: Mapped[RunKind] = mapped_column(choice_column(RunKind))
    status: Mapped[RunStatus] = mapped_column(choice_column(RunStatus), default=RunStatus.queued)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    inputs: Mapped[str] = mapped_column(Text)
    result: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    """The reason a run failed, as people read it: JSON, the message in each language."""
    worker: Mapped[str | None] = mapped_column(String(64))
    """The process computing it (host:pid), so that a server starting up can tell a run whose
    process is gone from one still being computed."""
    progress_detail: Mapped[str | None] = mapped_column(Text)
    """JSON: what is done so far (scenario i of n; members or days done of the total)."""
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
