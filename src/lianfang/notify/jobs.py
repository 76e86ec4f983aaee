"""The notification outbox's job: send what is due, retrying with growing waits."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from lianfang import jobs
from lianfang.notify import service


def deliver(session: Session, run: jobs.Run) -> int:
    """Send the notification deliveries that are due (e-mail, webhooks, WeCom and DingTalk
    robots); failed ones wait 1, 2, 4, … minutes and are given up after the last attempt."""
    return service.deliver(session)


DELIVER = jobs.register("notify.deliver", timedelta(seconds=30), deliver)
