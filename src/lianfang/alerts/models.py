"""Tables of the alert engine: alerts, their history and per-area thresholds."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lianfang.alerts.choices import AlertKind, AlertStatus, EventKind, Severity, Subject
from lianfang.db.base import Base, ChoiceSet, choice_column
from lianfang.people.choices import AlertReason
from lianfang.timeutil import now, utcnow


class Alert(Base):
    """Something a rule found that someone must act on — a person who needs referral, a village
    whose follow-ups are overdue, a facility short of stock, full or silent — open until it is
    handled. One open alert per subject and kind (``open_key``): a repeat updates it."""

    __tablename__ = "alert"
    __table_args__ = (
        Index("ix_alert_area_code_status", "area_code", "status"),
        Index("ix_alert_dedupe_key", "dedupe_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[AlertKind] = mapped_column(choice_column(AlertKind, 20))
    severity: Mapped[Severity] = mapped_column(choice_column(Severity, 8))
    status: Mapped[AlertStatus] = mapped_column(
        choice_column(AlertStatus, 8), default=AlertStatus.open
    )
    subject: Mapped[Subject] = mapped_column(choice_column(Subject, 10))
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), index=True
    )
    facility_id: Mapped[int | None] = mapped_column(
        ForeignKey("facility.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int | None] = mapped_column(ForeignKey("item.id", ondelete="CASCADE"))
    area_code: Mapped[str] = mapped_column(String(12))
    dedupe_key: Mapped[str] = mapped_column(String(100))
    # The dedupe key while the alert is open, NULL once closed: the unique index keeps one open
    # alert per subject and kind, and decides between two writers raising it at once.
    open_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    reasons: Mapped[frozenset[AlertReason]] = mapped_column(
        ChoiceSet(AlertReason, 100), default=frozenset
    )
    value: Mapped[float | None] = mapped_column(Float)  # the last reading that met the rule
    threshold: Mapped[float | None] = mapped_column(Float)  # the limit it was judged against
    follow_up_id: Mapped[int | None] = mapped_column(
        ForeignKey("follow_up.id", ondelete="SET NULL")
    )
    suggested_facility_id: Mapped[int | None] = mapped_column(
        ForeignKey("facility.id", ondelete="SET NULL")
    )
    suggestion: Mapped[str | None] = mapped_column(Text)  # JSON: beds free, km, reported_at
    task_id: Mapped[int | None] = mapped_column(ForeignKey("task.id", ondelete="SET NULL"))
    opened_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now)
    closed_at: Mapped[datetime | None] = mapped_column()
    closed_by: Mapped[str | None] = mapped_column(String(64))
    close_note: Mapped[str | None] = mapped_column(Text)


class AlertEvent(Base):
    """One step of an alert's history: opened, updated by a new reading, given a task, cleared
    by its rule or closed by someone with a note."""

    __tablename__ = "alert_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id", ondelete="CASCADE"), index=True)
    area_code: Mapped[str] = mapped_column(String(12))
    at: Mapped[datetime] = mapped_column(default=now)
    kind: Mapped[EventKind] = mapped_column(choice_column(EventKind, 10))
    severity: Mapped[Severity] = mapped_column(choice_column(Severity, 8))
    value: Mapped[float | None] = mapped_column(Float)
    username: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")


class AlertThreshold(Base):
    """A threshold set for an area (and everything below it) for one kind of alert, replacing
    the default of ``alerts.thresholds.DEFAULTS``; the nearest area above a subject wins."""

    __tablename__ = "alert_threshold"
    __table_args__ = (UniqueConstraint("area_code", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    area_code: Mapped[str] = mapped_column(String(12), ForeignKey("area.code"))
    kind: Mapped[AlertKind] = mapped_column(choice_column(AlertKind, 20))
    value: Mapped[float] = mapped_column(Float)
    username: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
