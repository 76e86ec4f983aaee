"""Tables of notifications: a user's in-app messages, the channels an area sends to, and the
outbox of messages to deliver through them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lianfang.alerts.choices import Severity
from lianfang.db.base import Base, choice_column
from lianfang.notify.choices import ChannelKind, DeliveryStatus
from lianfang.timeutil import now, utcnow


class Notification(Base):
    """A message to one named user, shown in the application ("my notifications") until read:
    a task due, an escalation, an alert in their area."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_user_id_read_at", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    area_code: Mapped[str | None] = mapped_column(String(12))
    level: Mapped[Severity] = mapped_column(choice_column(Severity))
    topic: Mapped[str] = mapped_column(String(40))  # what raised it, e.g. "task.reminder"
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=now)
    read_at: Mapped[datetime | None] = mapped_column()


class NotifyChannel(Base):
    """A place outside the application that an area's headquarters wants told (a duty mailbox,
    the county's WeCom or DingTalk group, a webhook): everything at least as urgent as
    ``min_level`` that happens in the area or below. Off until enabled."""

    __tablename__ = "notify_channel"

    id: Mapped[int] = mapped_column(primary_key=True)
    area_code: Mapped[str] = mapped_column(String(12), ForeignKey("area.code"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[ChannelKind] = mapped_column(choice_column(ChannelKind))
    target: Mapped[str] = mapped_column(String(500))  # e-mail addresses, or the URL
    secret: Mapped[str | None] = mapped_column(String(200))  # signing secret (DingTalk, webhook)
    min_level: Mapped[Severity] = mapped_column(choice_column(Severity))
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Delivery(Base):
    """One message waiting for, or given, its channel: the outbox. The job sends what is due,
    retrying with growing waits, and gives up after the last attempt."""

    __tablename__ = "notify_delivery"
    __table_args__ = (Index("ix_notify_delivery_status_next_at", "status", "next_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(
        ForeignKey("notify_channel.id", ondelete="CASCADE"), index=True
    )
    area_code: Mapped[str] = mapped_column(String(12))
    level: Mapped[Severity] = mapped_column(choice_column(Severity))
    topic: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[DeliveryStatus] = mapped_column(choice_column(DeliveryStatus))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()
