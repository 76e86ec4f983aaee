"""Request and answer bodies of the notification API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from lianfang.alerts.choices import Severity
from lianfang.ids import RecordId
from lianfang.notify.choices import ChannelKind, DeliveryStatus
from lianfang.notify.models import Delivery, Notification, NotifyChannel
from lianfang.notify.service import ChannelIn, Inbox
from lianfang.schemas import WriteSchema


class NotificationRead(BaseModel):
    """One of the signed-in user's notifications."""

    id: int
    area_code: str | None
    level: Severity
    topic: str
    title: str
    body: str
    link: str | None
    created_at: datetime
    read_at: datetime | None

    @classmethod
    def of(cls, row: Notification) -> NotificationRead:
        return cls(
            id=row.id, area_code=row.area_code, level=row.level, topic=row.topic, title=row.title,
            body=row.body, link=row.link, created_at=row.created_at, read_at=row.read_at,
        )  # fmt: skip


class NotificationPage(BaseModel):
    items: list[NotificationRead]
    unread: int
    total: int

    @classmethod
    def of(cls, inbox: Inbox) -> NotificationPage:
        return cls(
            items=[NotificationRead.of(n) for n in inbox.items],
            unread=inbox.unread,
            total=inbox.total,
        )


class MarkRead(WriteSchema):
    """Which notifications to mark read: these ids, or all of yours when left out."""

    ids: list[RecordId] | None = Field(None, max_length=1000)


class Marked(BaseModel):
    changed: int


class ChannelCreate(WriteSchema):
    """A channel of an area: everything at least as urgent as ``min_level`` in the area or below
    is sent there. Off until ``enabled``."""

    name: str = Field(min_length=1, max_length=100)
    area_code: str = Field(min_length=2, max_length=12, description="area code (any form)")
    kind: ChannelKind
    target: str = Field(
        min_length=3, max_length=500, description="e-mail addresses (comma separated) or a URL"
    )
    secret: str | None = Field(
        None, max_length=200, description="DingTalk's signing secret, or a webhook's HMAC key"
    )
    min_level: Severity = Severity.high
    enabled: bool = False

    def data(self) -> ChannelIn:
        return ChannelIn(**self.model_dump())


class ChannelUpdate(WriteSchema):
    """A change to a channel: only the fields given; an empty ``secret`` removes it."""

    name: str | None = Field(None, min_length=1, max_length=100)
    area_code: str | None = Field(None, min_length=2, max_length=12)
    kind: ChannelKind | None = None
    target: str | None = Field(None, min_length=3, max_length=500)
    secret: str | None = Field(None, max_length=200)
    min_level: Severity | None = None
    enabled: bool | None = None

    def data(self) -> ChannelIn:
        return ChannelIn(**self.model_dump(exclude_unset=True))


class ChannelTest(WriteSchema):
    """A test message for a channel (its text may be given)."""

    text: str | None = Field(None, max_length=500)


class ChannelRead(BaseModel):
    """A channel; its secret is never shown, only whether it has one."""

    id: int
    area_code: str
    name: str
    kind: ChannelKind
    target: str
    signed: bool
    min_level: Severity
    enabled: bool
    created_at: datetime

    @classmethod
    def of(cls, row: NotifyChannel) -> ChannelRead:
        return cls(
            id=row.id, area_code=row.area_code, name=row.name, kind=row.kind, target=row.target,
            signed=row.secret is not None, min_level=row.min_level, enabled=row.enabled,
            created_at=row.created_at,
        )  # fmt: skip


class DeliveryRead(BaseModel):
    """A message in the outbox: waiting (with its next attempt), sent, or given up."""

    id: int
    channel_id: int
    area_code: str
    level: Severity
    topic: str
    title: str
    status: DeliveryStatus
    attempts: int
    next_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None

    @classmethod
    def of(cls, row: Delivery) -> DeliveryRead:
        return cls(
            id=row.id, channel_id=row.channel_id, area_code=row.area_code, level=row.level,
            topic=row.topic, title=row.title, status=row.status, attempts=row.attempts,
            next_at=row.next_at, last_error=row.last_error, created_at=row.created_at,
            sent_at=row.sent_at,
        )  # fmt: skip
