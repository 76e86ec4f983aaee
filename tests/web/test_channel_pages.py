"""The notification channel page: add a webhook channel, its secret never rendered back (a blank
field keeps it), send a test to a real receiver and see it delivered, errors beside the fields,
remove; who may see it (not a town operator) and scope (another county's channel is not found)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from lianfang.alerts.choices import Severity
from lianfang.auth.choices import Role
from lianfang.auth.scope import SYSTEM
from lianfang.notify import service as notify
from lianfang.notify.choices import ChannelKind
from lianfang.notify.models import NotifyChannel
from tests.factories import COUNTY, OTHER_COUNTY_TOWN
from tests.notify.receivers import Http, http_receiver
from tests.web.test_pages import sign_in
from tests.web.test_people_pages import csrf_of

PAGE = "/notifications/channels"
SECRET = "SEC-very-secret-key-42"


@pytest.fixture
def robot() -> Iterator[Http]:
    with http_receiver() as receiver:
        yield receiver


def save(client: TestClient, **fields: str) -> object:
    page = client.get(PAGE).text
    data = {"csrf_token": csrf_of(page), "name": "县指挥部接收端", "area_code": COUNTY[:6],
            "kind": "webhook", "target": "", "secret": "", "min_level": "high"}  # fmt: skip
    data |= fields
    return client.post(PAGE, data=data)


def test_add_keep_the_secret_test_and_remove(
    client: TestClient, session: Session, robot: Http
) -> None:
    sign_in(client, Role.district_operator)
    added = save(client, target=robot.url + "/hook", secret=SECRET, enabled="1")
    assert added.status_code == 200, added.text  # type: ignore[attr-defined]
    channel = session.scalar(select(NotifyChannel).where(NotifyChannel.name == "县指挥部接收端"))
    assert channel is not None
    assert (channel.kind, channel.secret, channel.enabled) == (ChannelKind.webhook, SECRET, True)
    page = client.get(PAGE).text
    assert "县指挥部接收端" in page
    assert SECRET not in page
    edit = client.get(f"{PAGE}?edit={channel.id}").text
    assert SECRET not in edit
    assert "留空则保持不变" in edit
    changed = save(client, channel_id=str(channel.id), target=robot.url + "/hook",
                   min_level="medium", name="县指挥部接收端")  # fmt: skip  # no secret, not enabled
    assert changed.status_code == 200  # type: ignore[attr-defined]
    session.refresh(channel)
    assert (channel.secret, channel.min_level, channel.enabled) == (SECRET, Severity.medium, False)
    tested = client.post(f"{PAGE}/{channel.id}/test", data={"csrf_token": csrf_of(page)})
    assert tested.status_code == 200
    result = tested.text.split('data-testid="test-result"')[1].split("</p>")[0]
    assert "已送达" in result
    assert len(robot.got) == 1
    assert robot.got[0].path == "/hook"
    outbox = tested.text.split('data-testid="outbox"')[1]
    assert 'data-status="sent"' in outbox
    removed = client.post(f"{PAGE}/{channel.id}/delete", data={"csrf_token": csrf_of(page)})
    assert removed.status_code == 200
    assert session.get(NotifyChannel, channel.id) is None


def test_a_failed_test_shows_the_error_and_the_next_try(
    client: TestClient, session: Session, robot: Http
) -> None:
    sign_in(client, Role.district_operator)
    save(client, target=robot.url + "/down")
    channel = session.scalar(select(NotifyChannel).where(NotifyChannel.name == "县指挥部接收端"))
    assert channel is not None
    robot.answers.append((500, {"errcode": 1}))
    page = client.get(PAGE).text
    tested = client.post(f"{PAGE}/{channel.id}/test", data={"csrf_token": csrf_of(page)})
    result = tested.text.split('data-testid="test-result"')[1].split("</p>")[0]
    assert "重试中" in result
    assert "500" in result
    row = tested.text.split('data-testid="delivery-row"')[1].split("</tr>")[0]
    assert re.search(r"<td data-label=\"下次重试\">[^<]*\d{2}:\d{2}</td>", row)  # the next try


def test_errors_are_shown_beside_their_fields_and_values_kept(client: TestClient) -> None:
    sign_in(client, Role.district_operator)
    refused = save(client, name="", target="ftp://example.org", secret=SECRET)
    assert refused.status_code == 422  # type: ignore[attr-defined]
    text = refused.text  # type: ignore[attr-defined]
    assert 'data-testid="name-error"' in text
    assert SECRET not in text  # a secret is never sent back, even in a refused form
    refused = save(client, target="ftp://example.org")
    text = refused.text  # type: ignore[attr-defined]
    assert refused.status_code == 422  # type: ignore[attr-defined]
    assert 'data-testid="target-error"' in text
    assert "http://" in text.split('data-testid="target-error"')[1].split("</span>")[0]
    assert 'value="ftp://example.org"' in text
    refused = save(client, area_code="abc", target="https://example.org/x")
    assert 'data-testid="area_code-error"' in refused.text  # type: ignore[attr-defined]


def test_only_those_who_manage_see_it_and_only_their_areas(
    client: TestClient, session: Session
) -> None:
    other = notify.create_channel(session=session, actor=SYSTEM, data=notify.ChannelIn(
        name="通州区机器人", area_code=OTHER_COUNTY_TOWN, kind=ChannelKind.dingtalk,
        target="https://oapi.dingtalk.com/robot/send?access_token=x"))  # fmt: skip
    sign_in(client, Role.town_operator)
    assert client.get(PAGE).status_code == 403
    assert 'data-testid="channels-link"' not in client.get("/notifications").text
    client.cookies.clear()
    sign_in(client, Role.district_operator)
    assert 'data-testid="channels-link"' in client.get("/notifications").text
    page = client.get(PAGE)
    assert page.status_code == 200
    assert "通州区机器人" not in page.text
    assert client.get(f"{PAGE}?edit={other.id}").status_code == 404
    gone = client.post(f"{PAGE}/{other.id}/delete", data={"csrf_token": csrf_of(page.text)})
    assert gone.status_code == 404
    outside = save(client, area_code=OTHER_COUNTY_TOWN, target="https://example.org/x")
    assert outside.status_code in (403, 422)  # type: ignore[attr-defined]
    assert session.get(NotifyChannel, other.id) is not None
