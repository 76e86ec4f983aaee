"""Each channel kind receives its makers' published format: checked by a real HTTP receiver on
loopback (WeCom and DingTalk group robots, a signed generic webhook) and a real SMTP server."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import pytest

from lianfang.notify import senders
from lianfang.notify.choices import ChannelKind
from tests.notify.receivers import http_receiver, smtp_server

MESSAGE = senders.Message(
    title="转诊提醒：血氧饱和度 91% < 93%", body="请立即联系定点医院安排转诊。", level="high",
    level_label="高", area_code="320623001001", area_name="掘港街道某村", topic="alert.referral",
    link="https://lianfang.example/people/7",
)  # fmt: skip
SMTP_OFF = senders.Smtp(None, 25, "lianfang@localhost", None, None, False, 5.0)


def test_a_wecom_robot_gets_markdown() -> None:
    with http_receiver() as robot:
        target = senders.Target(ChannelKind.wecom, robot.url + "/cgi-bin/webhook/send?key=k1", None)
        senders.send(target, MESSAGE, smtp=SMTP_OFF, timeout_s=5)
    (got,) = robot.got
    assert got.query == {"key": "k1"}
    assert got.headers["Content-Type"].startswith("application/json")
    body = got.json()
    assert body["msgtype"] == "markdown"
    content = body["markdown"]["content"]
    assert content.startswith("### 【高】转诊提醒：血氧饱和度 91% < 93%")
    assert "掘港街道某村" in content
    assert "[查看详情](https://lianfang.example/people/7)" in content


def test_a_dingtalk_robot_gets_markdown_and_a_signature_it_can_check() -> None:
    secret = "SEC0123456789abcdef"
    with http_receiver() as robot:
        target = senders.Target(
            ChannelKind.dingtalk, robot.url + "/robot/send?access_token=t", secret
        )
        senders.send(target, MESSAGE, smtp=SMTP_OFF, timeout_s=5)
    (got,) = robot.got
    assert got.query["access_token"] == "t"
    stamp = int(got.query["timestamp"])
    assert abs(stamp - time.time() * 1000) < 60_000  # DingTalk refuses stamps over an hour off
    expected = base64.b64encode(
        hmac.new(secret.encode(), f"{stamp}\n{secret}".encode(), hashlib.sha256).digest()
    ).decode()
    assert got.query["sign"] == expected  # as DingTalk recomputes it
    body = got.json()
    assert body["msgtype"] == "markdown"
    assert body["markdown"]["title"] == MESSAGE.title
    assert "请立即联系定点医院安排转诊。" in body["markdown"]["text"]


def test_a_generic_webhook_gets_json_signed_with_hmac() -> None:
    with http_receiver() as hook:
        target = senders.Target(ChannelKind.webhook, hook.url + "/hook", "s3cret")
        senders.send(target, MESSAGE, smtp=SMTP_OFF, timeout_s=5)
    (got,) = hook.got
    signature = got.headers[senders.SIGNATURE_HEADER]
    assert signature == "sha256=" + hmac.new(b"s3cret", got.body, hashlib.sha256).hexdigest()
    body = got.json()
    assert body == {
        "title": MESSAGE.title, "text": MESSAGE.body, "level": "high",
        "area_code": "320623001001", "area_name": "掘港街道某村", "topic": "alert.referral",
        "link": "https://lianfang.example/people/7",
    }  # fmt: skip


def test_refusals_and_silence_are_send_errors_with_a_reason() -> None:
    with http_receiver() as robot:
        robot.answers = [(200, {"errcode": 310000, "errmsg": "sign not match"}), (500, {})]
        target = senders.Target(ChannelKind.dingtalk, robot.url + "/robot/send", "x")
        with pytest.raises(senders.SendError, match="errcode 310000 sign not match"):
            senders.send(target, MESSAGE, smtp=SMTP_OFF, timeout_s=5)
        with pytest.raises(senders.SendError, match="HTTP 500"):
            senders.send(target, MESSAGE, smtp=SMTP_OFF, timeout_s=5)
    gone = senders.Target(ChannelKind.webhook, robot.url + "/hook", None)  # the server stopped
    with pytest.raises(senders.SendError, match="unreachable"):
        senders.send(gone, MESSAGE, smtp=SMTP_OFF, timeout_s=2)


def test_e_mail_goes_through_a_real_smtp_server() -> None:
    with smtp_server() as box:
        smtp = senders.Smtp("127.0.0.1", box.port, "zhihuibu@example.gov.cn", None, None, False, 5)
        target = senders.Target(
            ChannelKind.email, "duty@example.gov.cn; chief@example.gov.cn", None
        )
        senders.send(target, MESSAGE, smtp=smtp, timeout_s=5)
    (mail,) = box.messages
    assert box.recipients == [["duty@example.gov.cn", "chief@example.gov.cn"]]
    assert mail["Subject"] == "【高】转诊提醒：血氧饱和度 91% < 93%"
    assert mail["From"] == "zhihuibu@example.gov.cn"
    text = mail.get_content()
    assert "请立即联系定点医院安排转诊。" in text
    assert "https://lianfang.example/people/7" in text
    with pytest.raises(senders.SendError, match="smtp_host"):
        senders.send(target, MESSAGE, smtp=SMTP_OFF, timeout_s=5)
