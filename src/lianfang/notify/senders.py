"""What each kind of channel receives, and sending it: e-mail over SMTP, a generic JSON webhook
(signed with HMAC-SHA256 when the channel has a secret), and the group robots of WeCom (企业微信)
and DingTalk (钉钉), whose message formats and signing their makers publish.

``request_for`` builds the HTTP request a channel gets (pure, so tests read exactly what is sent);
``send`` performs it, or the SMTP conversation, and raises ``SendError`` with a reason a person
can read when the far side refuses or cannot be reached."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import smtplib
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from lianfang.notify.choices import ChannelKind

SIGNATURE_HEADER = "X-Lianfang-Signature"
"""The generic webhook's signature: ``sha256=`` + hex HMAC-SHA256 of the body with the secret."""


@dataclass(frozen=True)
class Message:
    """What is sent, whatever the channel."""

    title: str
    body: str
    level: str  # high, medium, low
    level_label: str  # 高, 中, 低
    area_code: str
    area_name: str
    topic: str
    link: str | None  # absolute when the server's public address is known


@dataclass(frozen=True)
class Target:
    """A channel as the sender needs it."""

    kind: ChannelKind
    target: str
    secret: str | None


@dataclass(frozen=True)
class Smtp:
    """Where e-mail goes (settings ``smtp_*``)."""

    host: str | None
    port: int
    sender: str
    username: str | None
    password: str | None
    starttls: bool
    timeout_s: float


@dataclass(frozen=True)
class HttpRequest:
    url: str
    body: bytes
    headers: dict[str, str]


class SendError(Exception):
    """The far side refused the message or could not be reached (the reason, for the outbox)."""


def text_of(message: Message) -> str:
    """The plain text of a message (e-mail body, robot markdown without markup)."""
    lines = [f"【{message.level_label}】{message.title}", f"{message.area_name}", message.body]
    if message.link:
        lines.append(message.link)
    return "\n".join(line for line in lines if line)


def markdown_of(message: Message) -> str:
    """The message as the robots' markdown: a heading, the area, the text, a link."""
    parts = [f"### 【{message.level_label}】{message.title}", f"> {message.area_name}"]
    if message.body:
        parts.append(message.body)
    if message.link:
        parts.append(f"[查看详情]({message.link})")
    return "\n\n".join(parts)


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's robot signature: Base64 of HMAC-SHA256 over ``timestamp + "\\n" + secret``
    keyed with the secret, URL-encoded."""
    digest = hmac.new(
        secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest).decode())


def webhook_signature(secret: str, body: bytes) -> str:
    """The generic webhook's signature header value."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def request_for(target: Target, message: Message, *, now_ms: int | None = None) -> HttpRequest:
    """The HTTP request a webhook, WeCom or DingTalk channel gets for a message."""
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if target.kind is ChannelKind.wecom:
        payload: dict[str, object] = {
            "msgtype": "markdown",
            "markdown": {"content": markdown_of(message)},
        }
        return HttpRequest(target.target, _json(payload), headers)
    if target.kind is ChannelKind.dingtalk:
        url = target.target
        if target.secret:
            stamp = int(time.time() * 1000) if now_ms is None else now_ms
            joiner = "&" if "?" in url else "?"
            url = f"{url}{joiner}timestamp={stamp}&sign={dingtalk_sign(target.secret, stamp)}"
        payload = {
            "msgtype": "markdown",
            "markdown": {"title": message.title, "text": markdown_of(message)},
        }
        return HttpRequest(url, _json(payload), headers)
    if target.kind is ChannelKind.webhook:
        payload = {
            "title": message.title,
            "text": message.body,
            "level": message.level,
            "area_code": message.area_code,
            "area_name": message.area_name,
            "topic": message.topic,
            "link": message.link,
        }
        body = _json(payload)
        if target.secret:
            headers[SIGNATURE_HEADER] = webhook_signature(target.secret, body)
        return HttpRequest(target.target, body, headers)
    raise ValueError(f"{target.kind} is not sent over HTTP")


def send(target: Target, message: Message, *, smtp: Smtp, timeout_s: float) -> None:
    """Deliver one message; ``SendError`` says why it could not be."""
    if target.kind is ChannelKind.email:
        _send_mail(target, message, smtp)
        return
    request = request_for(target, message)
    _post(request, timeout_s, robot=target.kind in (ChannelKind.wecom, ChannelKind.dingtalk))


def addresses(target: str) -> list[str]:
    """The e-mail addresses of an e-mail channel's target (comma or semicolon separated)."""
    return [a.strip() for a in target.replace(";", ",").split(",") if a.strip()]


def _json(payload: dict[str, object]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def _post(request: HttpRequest, timeout_s: float, *, robot: bool) -> None:
    http = urllib.request.Request(
        request.url, data=request.body, headers=request.headers, method="POST"
    )
    try:
        with urllib.request.urlopen(http, timeout=timeout_s) as answer:
            raw = answer.read(65536)
    except urllib.error.HTTPError as exc:
        raise SendError(f"HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise SendError(f"unreachable: {reason}") from None
    if robot:  # both robots answer 200 with {"errcode": 0} on success, another code on refusal
        try:
            answer_json = json.loads(raw or b"{}")
        except ValueError:
            raise SendError("the robot's answer is not JSON") from None
        code = answer_json.get("errcode", 0) if isinstance(answer_json, dict) else 0
        if code:
            raise SendError(f"refused: errcode {code} {answer_json.get('errmsg', '')}".strip())


def _send_mail(target: Target, message: Message, smtp: Smtp) -> None:
    if not smtp.host:
        raise SendError("no SMTP server is set (smtp_host)")
    to = addresses(target.target)
    if not to:
        raise SendError("the channel names no e-mail address")
    mail = EmailMessage()
    mail["Subject"] = f"【{message.level_label}】{message.title}"
    mail["From"] = smtp.sender
    mail["To"] = ", ".join(to)
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = make_msgid(domain="lianfang")
    mail.set_content(text_of(message))
    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_s) as server:
            if smtp.starttls:
                server.starttls(context=ssl.create_default_context())
            if smtp.username:
                server.login(smtp.username, smtp.password or "")
            server.send_message(mail)
    except smtplib.SMTPException as exc:
        raise SendError(f"SMTP: {exc}") from None
    except OSError as exc:
        raise SendError(f"SMTP unreachable: {exc}") from None
