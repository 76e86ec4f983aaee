"""Notifications: tell named users in the application, and queue messages for the channels of
the areas concerned; the channels themselves (who may set them, where they send).

``notify`` never touches the network: it writes the user's in-app rows and one outbox row per
channel that wants the message, in the caller's transaction. The ``notify.deliver`` job sends
them (``deliver``), so a request that raises an alert is never slowed or failed by a mail
server or a robot that is down."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.alerts.choices import Severity
from lianfang.areas import codes
from lianfang.areas.models import Area
from lianfang.auth import audit
from lianfang.auth.choices import AuditAction, Permission
from lianfang.auth.scope import Actor
from lianfang.config import Settings, get_settings
from lianfang.db.engine import begin_write
from lianfang.errors import InvalidInputError, NotFoundError
from lianfang.i18n import _
from lianfang.notify import senders
from lianfang.notify.choices import ChannelKind, DeliveryStatus
from lianfang.notify.models import Delivery, Notification, NotifyChannel
from lianfang.pii import scrub

TITLE_MAX, BODY_MAX, LINK_MAX = 200, 4000, 300
BATCH = 50
"""Deliveries one run of the job sends at most (the rest wait for the next run)."""
FIRST_WAIT = timedelta(minutes=1)
LONGEST_WAIT = timedelta(hours=1)


# --- raising ---------------------------------------------------------------------------------


def notify(
    *,
    session: Session,
    users: Iterable[int],
    area_code: str,
    level: Severity,
    topic: str,
    title: str,
    body: str = "",
    link: str | None = None,
) -> int:
    """Tell these users in the application, and queue the message for every enabled channel of
    the area or an area above it that wants this level. Returns the outbox rows queued."""
    title, body = title[:TITLE_MAX], body[:BODY_MAX]
    link = link[:LINK_MAX] if link else None
    for user_id in sorted(set(users)):
        session.add(
            Notification(
                user_id=user_id, area_code=area_code, level=level, topic=topic[:40],
                title=title, body=body, link=link,
            )
        )  # fmt: skip
    queued = 0
    for channel in _channels_for(session, area_code, level):
        session.add(
            Delivery(
                channel_id=channel.id, area_code=area_code, level=level, topic=topic[:40],
                title=title, body=body, link=link, status=DeliveryStatus.pending,
                next_at=timeutil.utcnow(),
            )
        )  # fmt: skip
        queued += 1
    session.flush()
    return queued


def _channels_for(session: Session, area_code: str, level: Severity) -> list[NotifyChannel]:
    enabled = session.scalars(select(NotifyChannel).where(NotifyChannel.enabled.is_(True)))
    return [
        c
        for c in enabled
        if codes.contains(c.area_code, area_code) and level.rank <= c.min_level.rank
    ]


# --- a user's own notifications --------------------------------------------------------------


@dataclass(frozen=True)
class Inbox:
    items: list[Notification]
    unread: int
    total: int


def inbox(
    *, session: Session, actor: Actor, unread_only: bool = False, limit: int = 50, offset: int = 0
) -> Inbox:
    """The signed-in user's notifications, newest first, and how many are unread."""
    mine = Notification.user_id == _user_id(actor)
    query = select(Notification).where(mine)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    items = list(
        session.scalars(
            query.order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
            .offset(offset)
        )
    )
    unread = session.scalar(
        select(func.count()).select_from(Notification).where(mine, Notification.read_at.is_(None))
    )
    total = session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(mine, *([Notification.read_at.is_(None)] if unread_only else []))
    )
    return Inbox(items, int(unread or 0), int(total or 0))


def unread_count(*, session: Session, actor: Actor) -> int:
    """How many of the user's notifications are unread (the badge in the page header)."""
    if actor.user_id is None:
        return 0
    return int(
        session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == actor.user_id, Notification.read_at.is_(None))
        )
        or 0
    )


def mark_read(*, session: Session, actor: Actor, ids: Sequence[int] | None = None) -> int:
    """Mark the user's notifications read (these, or all); how many changed. Another user's
    notification is not found."""
    conditions = [Notification.user_id == _user_id(actor), Notification.read_at.is_(None)]
    if ids is not None:
        wanted = set(ids)
        found = set(
            session.scalars(
                select(Notification.id).where(
                    Notification.id.in_(wanted), Notification.user_id == actor.user_id
                )
            )
        )
        if wanted - found:
            raise NotFoundError(_("no notification %(id)s of yours", id=min(wanted - found)))
        conditions.append(Notification.id.in_(wanted))
    changed = session.execute(
        update(Notification)
        .where(*conditions)
        .values(read_at=timeutil.now())
        .execution_options(synchronize_session=False)
    )
    return int(changed.rowcount)  # type: ignore[attr-defined]


def _user_id(actor: Actor) -> int:
    if actor.user_id is None:
        raise NotFoundError(_("notifications belong to a signed-in user"))
    return actor.user_id


# --- channels --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelIn:
    """What a channel is made or changed with (None: keep, on a change)."""

    name: str | None = None
    area_code: str | None = None
    kind: ChannelKind | None = None
    target: str | None = None
    secret: str | None = None
    min_level: Severity | None = None
    enabled: bool | None = None


def channels(*, session: Session, actor: Actor) -> list[NotifyChannel]:
    """The channels of areas in the actor's scope."""
    actor.require(Permission.notify_manage)
    return list(
        session.scalars(
            select(NotifyChannel)
            .where(actor.area_filter(NotifyChannel.area_code))
            .order_by(NotifyChannel.area_code, NotifyChannel.id)
        )
    )


def get_channel(*, session: Session, actor: Actor, channel_id: int) -> NotifyChannel:
    actor.require(Permission.notify_manage)
    channel = session.get(NotifyChannel, channel_id)
    if channel is None or not actor.reaches(channel.area_code):
        raise NotFoundError(_("no notification channel %(id)s", id=channel_id))
    return channel


def create_channel(*, session: Session, actor: Actor, data: ChannelIn) -> NotifyChannel:
    """A new channel of an area in scope; off unless ``enabled``."""
    actor.require(Permission.notify_manage)
    if data.name is None or data.area_code is None or data.kind is None or data.target is None:
        raise InvalidInputError(_("a channel needs a name, an area, a kind and a target"))
    code = codes.normalise(data.area_code)
    actor.require_area(code)
    if session.get(Area, code) is None:
        raise NotFoundError(_("no area %(code)s", code=data.area_code))
    channel = NotifyChannel(
        area_code=code, name=data.name.strip(), kind=data.kind, target=data.target.strip(),
        secret=(data.secret or None), min_level=data.min_level or Severity.high,
        enabled=bool(data.enabled), created_by=actor.user_id,
    )  # fmt: skip
    _check(channel)
    session.add(channel)
    session.flush()
    audit.record(
        session=session, actor=actor, action=AuditAction.create, entity_type="notify_channel",
        entity_id=str(channel.id), area_code=code, detail=_described(channel),
    )  # fmt: skip
    return channel


def update_channel(
    *, session: Session, actor: Actor, channel_id: int, data: ChannelIn
) -> NotifyChannel:
    """Change a channel (its area stays within scope)."""
    channel = get_channel(session=session, actor=actor, channel_id=channel_id)
    if data.area_code is not None:
        code = codes.normalise(data.area_code)
        actor.require_area(code)
        if session.get(Area, code) is None:
            raise NotFoundError(_("no area %(code)s", code=data.area_code))
        channel.area_code = code
    for name in ("name", "target"):
        value = getattr(data, name)
        if value is not None:
            setattr(channel, name, value.strip())
    if data.kind is not None:
        channel.kind = data.kind
    if data.secret is not None:
        channel.secret = data.secret or None
    if data.min_level is not None:
        channel.min_level = data.min_level
    if data.enabled is not None:
        channel.enabled = data.enabled
    _check(channel)
    session.flush()
    audit.record(
        session=session, actor=actor, action=AuditAction.update, entity_type="notify_channel",
        entity_id=str(channel.id), area_code=channel.area_code, detail=_described(channel),
    )  # fmt: skip
    return channel


def delete_channel(*, session: Session, actor: Actor, channel_id: int) -> None:
    """Remove a channel and its outbox."""
    channel = get_channel(session=session, actor=actor, channel_id=channel_id)
    code = channel.area_code
    session.delete(channel)
    session.flush()
    audit.record(
        session=session, actor=actor, action=AuditAction.delete, entity_type="notify_channel",
        entity_id=str(channel_id), area_code=code,
    )  # fmt: skip


def send_test(
    *, session: Session, actor: Actor, channel_id: int, text: str | None = None
) -> Delivery:
    """Queue a test message for a channel (enabled or not), sent by the next run of the job."""
    channel = get_channel(session=session, actor=actor, channel_id=channel_id)
    body = text or str(_("If you can read this, the channel %(name)s works.", name=channel.name))
    delivery = Delivery(
        channel_id=channel.id, area_code=channel.area_code, level=channel.min_level,
        topic="test", title=str(_("Test message from lianfang")), body=body[:BODY_MAX],
        status=DeliveryStatus.pending, next_at=timeutil.utcnow(),
    )  # fmt: skip
    session.add(delivery)
    session.flush()
    return delivery


def deliveries(
    *,
    session: Session,
    actor: Actor,
    channel_id: int | None = None,
    status: DeliveryStatus | None = None,
    limit: int = 100,
) -> list[Delivery]:
    """The outbox of channels in scope, newest first."""
    actor.require(Permission.notify_manage)
    query = (
        select(Delivery)
        .join(NotifyChannel, NotifyChannel.id == Delivery.channel_id)
        .where(actor.area_filter(NotifyChannel.area_code))
    )
    if channel_id is not None:
        query = query.where(Delivery.channel_id == channel_id)
    if status is not None:
        query = query.where(Delivery.status == status)
    return list(session.scalars(query.order_by(Delivery.id.desc()).limit(limit)))


def _check(channel: NotifyChannel) -> None:
    """A target its kind can use: e-mail addresses, or an http(s) URL."""
    if not channel.name:
        raise InvalidInputError(_("a channel needs a name"), fields={"name": _("required")})
    if channel.kind is ChannelKind.email:
        bad = [a for a in senders.addresses(channel.target) if "@" not in a.strip("@")]
        if bad or not senders.addresses(channel.target):
            raise InvalidInputError(
                _("not an e-mail address: %(value)s", value=bad[0] if bad else channel.target),
                fields={"target": _("e-mail addresses, separated by commas")},
            )
        return
    if not channel.target.startswith(("http://", "https://")):
        raise InvalidInputError(
            _("a %(kind)s channel sends to an http(s) URL", kind=channel.kind.label()),
            fields={"target": _("an http:// or https:// address")},
        )


def _described(channel: NotifyChannel) -> dict[str, object]:
    """A channel for the audit log: never its secret."""
    return {
        "name": channel.name, "kind": channel.kind.value, "target": channel.target,
        "min_level": channel.min_level.value, "enabled": channel.enabled,
        "signed": channel.secret is not None,
    }  # fmt: skip


# --- delivering ------------------------------------------------------------------------------


def wait_after(attempts: int) -> timedelta:
    """How long a failed delivery waits before its next attempt: 1, 2, 4, … minutes, at most an
    hour."""
    doubled: timedelta = FIRST_WAIT * 2 ** max(attempts - 1, 0)
    return min(doubled, LONGEST_WAIT)


def deliver(
    session: Session,
    *,
    limit: int = BATCH,
    settings: Settings | None = None,
    only: Sequence[int] | None = None,
) -> int:
    """Send the deliveries that are due (``only`` these, when given: a test message sent at
    once): claim them (so no other run takes them while they are in flight), commit, send each
    holding no database connection, then record each outcome in a writing transaction. Returns
    how many were sent."""
    settings = settings or get_settings()
    moment = timeutil.utcnow()
    query = select(Delivery).where(
        Delivery.status == DeliveryStatus.pending, Delivery.next_at <= moment
    )
    if only is not None:
        query = query.where(Delivery.id.in_(list(only)))
    due = list(session.scalars(query.order_by(Delivery.next_at, Delivery.id).limit(limit)))
    if not due:
        return 0
    in_flight = moment + timedelta(seconds=2 * settings.notify_timeout_s * len(due) + 60)
    work: list[tuple[int, senders.Target, senders.Message]] = []
    names = _area_names(session, {d.area_code for d in due})
    for delivery in due:
        channel = session.get(NotifyChannel, delivery.channel_id)
        if channel is None:
            continue
        delivery.attempts += 1
        delivery.next_at = in_flight
        work.append((delivery.id, _target(channel), _message(delivery, names, settings.public_url)))
    session.commit()  # claimed: the sending below holds no connection
    smtp = senders.Smtp(
        host=settings.smtp_host, port=settings.smtp_port, sender=settings.smtp_from,
        username=settings.smtp_username, password=settings.smtp_password,
        starttls=settings.smtp_starttls, timeout_s=settings.notify_timeout_s,
    )  # fmt: skip
    outcomes: list[tuple[int, str | None]] = []
    for delivery_id, target, message in work:
        try:
            senders.send(target, message, smtp=smtp, timeout_s=settings.notify_timeout_s)
            outcomes.append((delivery_id, None))
        except senders.SendError as exc:
            outcomes.append((delivery_id, scrub(str(exc))[:500]))
    begin_write(session)
    sent = 0
    for delivery_id, error in outcomes:
        done = session.get(Delivery, delivery_id)
        if done is None:  # its channel was deleted meanwhile
            continue
        _record(done, error, settings.notify_attempts)
        sent += error is None
    return sent


def _record(delivery: Delivery, error: str | None, attempts: int) -> None:
    moment = timeutil.utcnow()
    delivery.last_error = error
    if error is None:
        delivery.status, delivery.sent_at = DeliveryStatus.sent, moment
    elif delivery.attempts >= attempts:
        delivery.status = DeliveryStatus.failed
    else:
        delivery.next_at = moment + wait_after(delivery.attempts)


def _target(channel: NotifyChannel) -> senders.Target:
    return senders.Target(channel.kind, channel.target, channel.secret)


def _message(delivery: Delivery, names: dict[str, str], public_url: str | None) -> senders.Message:
    link = delivery.link
    if link and link.startswith("/"):
        link = public_url.rstrip("/") + link if public_url else None
    return senders.Message(
        title=delivery.title, body=delivery.body, level=delivery.level.value,
        level_label=delivery.level.label("zh"), area_code=delivery.area_code,
        area_name=names.get(delivery.area_code, delivery.area_code), topic=delivery.topic,
        link=link,
    )  # fmt: skip


def _area_names(session: Session, wanted: set[str]) -> dict[str, str]:
    rows = session.execute(select(Area.code, Area.name).where(Area.code.in_(wanted)))
    return {code: name for code, name in rows}
