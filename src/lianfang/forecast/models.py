"""Stored forecast runs and fits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, text
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
    format_version: Mapped[int | None] = mapped_column(Integer)
    """The engine's run format (``lianfang.forecast.engine.RUN_FORMAT``) that computed the
    stored result; None for runs stored before formats were recorded."""
    package_version: Mapped[str | None] = mapped_column(String(32))
    """The lianfang version that queued the run."""


class ForecastAdoption(Base):
    """A run or fit a commander marked as an area's planning forecast: the one resources,
    planning and the briefing read for that area. Adopting another one ends this one
    (``replaced_at``, ``replaced_by``) and keeps it as history; at most one per area is current
    (a partial unique index)."""

    __tablename__ = "forecast_adoption"
    __table_args__ = (
        Index(
            "uq_forecast_adoption_current",
            "area_code",
            unique=True,
            sqlite_where=text("replaced_at IS NULL"),
            postgresql_where=text("replaced_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    area_code: Mapped[str] = mapped_column(String(12), ForeignKey("area.code"), index=True)
    run_id: Mapped[int] = mapped_column(Integer, ForeignKey("forecast_run.id"), index=True)
    scenario: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Which of the run's scenarios is the plan (its index; a fit has one)."""
    adopted_by: Mapped[str] = mapped_column(String(64))
    adopted_at: Mapped[datetime] = mapped_column(default=utcnow)
    replaced_at: Mapped[datetime | None]
    replaced_by: Mapped[str | None] = mapped_column(String(64))
