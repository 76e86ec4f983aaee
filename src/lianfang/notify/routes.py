"""API of notifications: the signed-in user's own, and the channels of areas in scope."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from lianfang.api.deps import CurrentActor, Offset, PathId, QueryId, Route, SessionDep
from lianfang.notify import service
from lianfang.notify.choices import DeliveryStatus
from lianfang.notify.schemas import (
    ChannelCreate,
    ChannelRead,
    ChannelTest,
    ChannelUpdate,
    DeliveryRead,
    Marked,
    MarkRead,
    NotificationPage,
)

router = APIRouter(tags=["notify 通知"], route_class=Route)


@router.get("/notifications", response_model=NotificationPage, summary="Your notifications")
def my_notifications(
    session: SessionDep,
    actor: CurrentActor,
    unread: Annotated[bool, Query(description="only unread ones")] = False,
    offset: Offset = 0,
    size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> NotificationPage:
    """Newest first, with how many are unread."""
    return NotificationPage.of(
        service.inbox(session=session, actor=actor, unread_only=unread, limit=size, offset=offset)
    )


@router.post("/notifications/read", response_model=Marked, summary="Mark notifications read")
def mark_read(body: MarkRead, session: SessionDep, actor: CurrentActor) -> Marked:
    """These ids (all yours when ``ids`` is left out); another user's id is not found."""
    changed = service.mark_read(session=session, actor=actor, ids=body.ids)
    session.commit()
    return Marked(changed=changed)


@router.get("/notify/channels", response_model=list[ChannelRead], summary="Notification channels")
def list_channels(session: SessionDep, actor: CurrentActor) -> list[ChannelRead]:
    """The channels of areas in your scope (secrets are never shown)."""
    return [ChannelRead.of(c) for c in service.channels(session=session, actor=actor)]


@router.post(
    "/notify/channels", response_model=ChannelRead, status_code=201, summary="Add a channel"
)
def create_channel(body: ChannelCreate, session: SessionDep, actor: CurrentActor) -> ChannelRead:
    """An e-mail, webhook, WeCom or DingTalk channel of an area in your scope (audited)."""
    channel = service.create_channel(session=session, actor=actor, data=body.data())
    session.commit()
    return ChannelRead.of(channel)


@router.patch(
    "/notify/channels/{channel_id}", response_model=ChannelRead, summary="Change a channel"
)
def update_channel(
    channel_id: PathId, body: ChannelUpdate, session: SessionDep, actor: CurrentActor
) -> ChannelRead:
    """Only the fields given change (audited; the secret never appears in the log)."""
    channel = service.update_channel(
        session=session, actor=actor, channel_id=channel_id, data=body.data()
    )
    session.commit()
    return ChannelRead.of(channel)


@router.delete("/notify/channels/{channel_id}", status_code=204, summary="Remove a channel")
def delete_channel(channel_id: PathId, session: SessionDep, actor: CurrentActor) -> Response:
    """The channel and its outbox (audited)."""
    service.delete_channel(session=session, actor=actor, channel_id=channel_id)
    session.commit()
    return Response(status_code=204)


@router.post(
    "/notify/channels/{channel_id}/test",
    response_model=DeliveryRead,
    status_code=202,
    summary="Send a test message",
)
def test_channel(
    channel_id: PathId, body: ChannelTest, session: SessionDep, actor: CurrentActor
) -> DeliveryRead:
    """Queued at once, sent by the delivery job within about a minute: follow it in the outbox."""
    delivery = service.send_test(
        session=session, actor=actor, channel_id=channel_id, text=body.text
    )
    session.commit()
    return DeliveryRead.of(delivery)


@router.get(
    "/notify/deliveries", response_model=list[DeliveryRead], summary="The notification outbox"
)
def list_deliveries(
    session: SessionDep,
    actor: CurrentActor,
    channel: QueryId = None,
    status: Annotated[DeliveryStatus | None, Query()] = None,
) -> list[DeliveryRead]:
    """Messages of channels in your scope, newest first: waiting, sent or given up, with the
    last error."""
    rows = service.deliveries(session=session, actor=actor, channel_id=channel, status=status)
    return [DeliveryRead.of(d) for d in rows]
