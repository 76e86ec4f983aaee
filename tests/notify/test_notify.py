"""Notifications: in-app rows for named users, channels chosen by area and level, an outbox that
the job delivers with retries and growing waits (never in the request), channels kept to their
area's scope, and secrets never shown."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from lianfang import jobs, timeutil
from lianfang.alerts.choices import Severity
from lianfang.auth.choices import Role
from lianfang.auth.models import AuditEvent, User
from lianfang.auth.scope import Actor
from lianfang.config import Settings
from lianfang.errors import NotFoundError, PermissionDenied
from lianfang.notify import service
from lianfang.notify.choices import ChannelKind, DeliveryStatus
from lianfang.notify.models import Delivery, Notification
from tests.conftest import bearer
from tests.factories import COUNTY, OTHER_COUNTY_TOWN, TOWN, VILLAGE, role_username
from tests.notify.receivers import Http, http_receiver, smtp_server


def actor_of(session: Session, role: Role) -> Actor:
    user = session.scalars(select(User).where(User.username == role_username(role))).one()
    return Actor(user_id=user.id, username=user.username, role=role, area_code=user.area_code)


@pytest.fixture
def factory(session: Session) -> sessionmaker[Session]:
    """Sessions on the test's connection (each job transaction a savepoint, rolled back)."""
    return sessionmaker(bind=session.connection(), join_transaction_mode="create_savepoint",
                        expire_on_commit=False)  # fmt: skip


@pytest.fixture
def robot() -> Iterator[Http]:
    with http_receiver() as receiver:
        yield receiver


def channel(session: Session, area: str, url: str, level: Severity = Severity.medium) -> int:
    admin = actor_of(session, Role.admin)
    made = service.create_channel(session=session, actor=admin, data=service.ChannelIn(
        name="如东县指挥部群", area_code=area, kind=ChannelKind.wecom, target=url,
        min_level=level, enabled=True,
    ))  # fmt: skip
    return made.id


def test_notify_tells_users_and_queues_only_the_channels_that_want_it(
    session: Session, robot: Http
) -> None:
    county = channel(session, COUNTY, robot.url + "/county", Severity.medium)
    channel(session, OTHER_COUNTY_TOWN, robot.url + "/elsewhere", Severity.low)  # another county
    quiet = channel(session, COUNTY, robot.url + "/high-only", Severity.high)
    village = actor_of(session, Role.village_worker)
    assert village.user_id is not None
    queued = service.notify(
        session=session, users=[village.user_id, village.user_id], area_code=VILLAGE,
        level=Severity.medium, topic="task.reminder", title="任务今日到期", link="/tasks/1",
    )  # fmt: skip
    assert queued == 1  # the county's channel; not the other county's, not the high-only one
    (delivery,) = session.scalars(select(Delivery).where(Delivery.area_code == VILLAGE))
    assert delivery.channel_id == county
    assert delivery.channel_id != quiet
    assert delivery.status is DeliveryStatus.pending
    assert robot.got == []  # nothing sent in the caller's transaction
    inbox = service.inbox(session=session, actor=village)
    assert [n.title for n in inbox.items] == ["任务今日到期"]  # once, though named twice
    assert inbox.unread == 1


def test_a_user_reads_and_marks_only_their_own(session: Session) -> None:
    village, town = actor_of(session, Role.village_worker), actor_of(session, Role.town_operator)
    assert village.user_id is not None
    assert town.user_id is not None
    for title in ("一", "二"):
        service.notify(session=session, users=[village.user_id], area_code=VILLAGE,
                       level=Severity.low, topic="test", title=title)  # fmt: skip
    service.notify(session=session, users=[town.user_id], area_code=TOWN, level=Severity.low,
                   topic="test", title="镇")  # fmt: skip
    theirs = service.inbox(session=session, actor=town).items[0].id
    with pytest.raises(NotFoundError):
        service.mark_read(session=session, actor=village, ids=[theirs])
    first = service.inbox(session=session, actor=village).items[-1].id
    assert service.mark_read(session=session, actor=village, ids=[first]) == 1
    assert service.unread_count(session=session, actor=village) == 1
    assert service.mark_read(session=session, actor=village) == 1
    assert service.unread_count(session=session, actor=village) == 0
    assert service.unread_count(session=session, actor=town) == 1


def test_the_job_delivers_retries_with_growing_waits_and_gives_up(
    session: Session, factory: sessionmaker[Session], robot: Http
) -> None:
    made = channel(session, COUNTY, robot.url + "/send", Severity.low)
    service.notify(session=session, users=[], area_code=VILLAGE, level=Severity.high,
                   topic="alert.referral", title="转诊提醒")  # fmt: skip
    session.commit()
    robot.answers = [(500, {}), (200, {"errcode": 45009, "errmsg": "api freq out of limit"})]
    settings = Settings(database_url="sqlite://", notify_attempts=3)

    def due_now() -> None:
        session.execute(update(Delivery).values(next_at=timeutil.utcnow() - timedelta(seconds=1)))
        session.commit()

    with factory() as job_session:
        assert service.deliver(job_session, settings=settings) == 0
        job_session.commit()
    (delivery,) = session.scalars(select(Delivery).where(Delivery.channel_id == made))
    session.refresh(delivery)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.pending, 1)
    assert delivery.last_error == "HTTP 500 Internal Server Error"
    wait = delivery.next_at - timeutil.utcnow()
    assert timedelta(seconds=50) < wait <= timedelta(minutes=1)  # the first wait: a minute
    with factory() as job_session:  # not due yet: nothing is sent again
        assert service.deliver(job_session, settings=settings) == 0
        job_session.commit()
    assert len(robot.got) == 1
    due_now()
    with factory() as job_session:
        service.deliver(job_session, settings=settings)
        job_session.commit()
    session.refresh(delivery)
    assert delivery.attempts == 2
    assert "errcode 45009" in (delivery.last_error or "")
    assert timedelta(minutes=1) < delivery.next_at - timeutil.utcnow() <= timedelta(minutes=2)
    due_now()
    with factory() as job_session:  # the third and last attempt succeeds
        assert service.deliver(job_session, settings=settings) == 1
        job_session.commit()
    session.refresh(delivery)
    assert (delivery.status, delivery.attempts, delivery.last_error) == (
        DeliveryStatus.sent, 3, None,
    )  # fmt: skip
    assert [g.path for g in robot.got] == ["/send"] * 3
    assert service.wait_after(1) == timedelta(minutes=1)
    assert service.wait_after(4) == timedelta(minutes=8)
    assert service.wait_after(20) == timedelta(hours=1)


def test_a_delivery_is_given_up_after_the_last_attempt(
    session: Session, factory: sessionmaker[Session]
) -> None:
    with http_receiver() as gone:
        url = gone.url
    made = channel(session, COUNTY, url + "/send", Severity.low)
    service.notify(session=session, users=[], area_code=VILLAGE, level=Severity.low, topic="t",
                   title="无人接收")  # fmt: skip
    session.commit()
    with factory() as job_session:
        service.deliver(
            job_session,
            settings=Settings(database_url="sqlite://", notify_attempts=1, notify_timeout_s=2),
        )
        job_session.commit()
    (delivery,) = session.scalars(select(Delivery).where(Delivery.channel_id == made))
    session.refresh(delivery)
    assert delivery.status is DeliveryStatus.failed
    assert "unreachable" in (delivery.last_error or "")


def test_the_registered_job_sends_e_mail(
    session: Session, factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    from lianfang.config import get_settings

    with smtp_server() as box:
        monkeypatch.setenv("LIANFANG_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("LIANFANG_SMTP_PORT", str(box.port))
        get_settings.cache_clear()
        try:
            admin = actor_of(session, Role.admin)
            service.create_channel(session=session, actor=admin, data=service.ChannelIn(
                name="值班邮箱", area_code=COUNTY, kind=ChannelKind.email,
                target="duty@example.gov.cn", min_level=Severity.high, enabled=True,
            ))  # fmt: skip
            service.notify(session=session, users=[], area_code=VILLAGE, level=Severity.high,
                           topic="alert.referral", title="转诊提醒：血氧 91%")  # fmt: skip
            session.commit()
            outcome = jobs.run_due(factory, names=["notify.deliver"], force=True)
        finally:
            get_settings.cache_clear()
    assert outcome.failed == {}
    assert outcome.ran == {"notify.deliver": 1}
    (mail,) = box.messages
    assert mail["Subject"] == "【高】转诊提醒：血氧 91%"


def test_channels_stay_in_scope_and_their_secret_out_of_sight(
    session: Session, robot: Http
) -> None:
    district = actor_of(session, Role.district_operator)
    made = service.create_channel(session=session, actor=district, data=service.ChannelIn(
        name="县钉钉群", area_code=COUNTY, kind=ChannelKind.dingtalk, target=robot.url,
        secret="SECxyz", min_level=Severity.medium,
    ))  # fmt: skip
    assert made.enabled is False  # off until enabled
    with pytest.raises(PermissionDenied):
        service.create_channel(session=session, actor=district, data=service.ChannelIn(
            name="别县", area_code=OTHER_COUNTY_TOWN, kind=ChannelKind.wecom, target=robot.url,
        ))  # fmt: skip
    with pytest.raises(PermissionDenied):
        service.channels(session=session, actor=actor_of(session, Role.village_worker))
    with pytest.raises(Exception, match="http"):
        service.update_channel(session=session, actor=district, channel_id=made.id,
                               data=service.ChannelIn(target="ftp://x"))  # fmt: skip
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.entity_type == "notify_channel",
                                 AuditEvent.entity_id == str(made.id))
    ).all()  # fmt: skip
    assert events
    assert all("SECxyz" not in (e.detail or "") for e in events)


def test_the_api(client: TestClient, session: Session, robot: Http) -> None:
    district = bearer(client, Role.district_operator)
    made = client.post("/api/notify/channels", headers=district, json={
        "name": "县企业微信群", "area_code": "320623", "kind": "wecom",
        "target": robot.url + "/cgi-bin/webhook/send?key=k", "min_level": "medium",
        "enabled": True, "secret": "not-shown",
    })  # fmt: skip
    assert made.status_code == 201, made.text
    assert made.json()["signed"] is True
    assert "secret" not in made.json()
    listed = client.get("/api/notify/channels", headers=district).json()
    assert [c["id"] for c in listed] == [made.json()["id"]]
    assert client.get("/api/notify/channels", headers=bearer(client, Role.town_operator)
                      ).status_code == 403  # fmt: skip
    tested = client.post(f"/api/notify/channels/{made.json()['id']}/test", headers=district,
                         json={"text": "测试"})  # fmt: skip
    assert tested.status_code == 202
    assert tested.json()["status"] == "pending"
    assert robot.got == []  # queued, not sent in the request
    outbox = client.get("/api/notify/deliveries", headers=district).json()
    assert [d["id"] for d in outbox] == [tested.json()["id"]]
    village = actor_of(session, Role.village_worker)
    assert village.user_id is not None
    service.notify(session=session, users=[village.user_id], area_code=VILLAGE, level=Severity.high,
                   topic="task.reminder", title="任务今日到期")  # fmt: skip
    mine = bearer(client, Role.village_worker)
    page = client.get("/api/notifications", headers=mine).json()
    assert (page["unread"], page["total"], page["items"][0]["title"]) == (1, 1, "任务今日到期")
    marked = client.post("/api/notifications/read", headers=mine, json={})
    assert marked.json() == {"changed": 1}
    assert client.get("/api/notifications?unread=true", headers=mine).json()["total"] == 0
    assert client.delete(f"/api/notify/channels/{made.json()['id']}",
                         headers=district).status_code == 204  # fmt: skip
    assert session.scalars(select(Notification)).first() is not None


def test_the_page_shows_the_badge_and_marks_all_read(client: TestClient, session: Session) -> None:
    from tests.web.test_pages import sign_in

    village = actor_of(session, Role.village_worker)
    assert village.user_id is not None
    service.notify(
        session=session, users=[village.user_id], area_code=VILLAGE, level=Severity.low,
        topic="task.reminder", title="任务今日到期：摸排重点人群", link="/tasks/9",
    )  # fmt: skip
    sign_in(client, Role.village_worker)
    home = client.get("/notifications")
    assert home.status_code == 200
    assert 'data-testid="unread">1<' in home.text
    assert '<a href="/tasks/9">任务今日到期：摸排重点人群</a>' in home.text
    token = home.text.split('name="csrf_token" value="')[1].split('"')[0]
    done = client.post("/notifications/read", data={"csrf_token": token}, follow_redirects=True)
    assert done.status_code == 200
    assert 'data-testid="unread"' not in done.text
    assert "0 条未读" in done.text
    refused = client.post("/notifications/read", data={"csrf_token": "wrong"})
    assert refused.status_code == 403
