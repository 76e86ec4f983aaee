"""Side effects around the registry: making a large export in a separate process, and the
referral alert (with its task) that a follow-up may raise."""

from __future__ import annotations

import multiprocessing

from sqlalchemy import select
from sqlalchemy.orm import Session

from lianfang.alerts import engine, rules
from lianfang.alerts.models import Alert
from lianfang.auth.scope import Actor
from lianfang.db import background
from lianfang.people import exporting, followups
from lianfang.people.models import FollowUp


def start(database_url: str, job_id: int) -> multiprocessing.process.BaseProcess:
    """Start making a queued export without blocking the caller (the web request)."""
    return background.start(exporting.run, database_url, job_id, f"export-{job_id}")


def record_follow_up(
    *, session: Session, actor: Actor, person_id: int, contact: followups.Contact
) -> tuple[FollowUp, Alert | None]:
    """Record a follow-up and, when it meets a referral trigger, open the person's referral
    alert — or bring their open one up to date — with a task for their responsible person that
    suggests the nearest capable hospital with a free bed. A resent follow-up (same client
    token) changes nothing and answers the alert it raised."""
    follow_up, new = followups.record(
        session=session, actor=actor, person_id=person_id, contact=contact
    )
    if not new:
        earlier = session.scalar(select(Alert).where(Alert.follow_up_id == follow_up.id))
        return follow_up, earlier
    finding = rules.referral(session=session, follow_up=follow_up)
    if finding is None:
        return follow_up, None
    outcome = engine.raise_many(
        session=session, actor=actor, findings=[finding], at=follow_up.contacted_at
    )
    engine.write_audit(session=session, actor=actor, outcome=outcome)
    return follow_up, outcome.alerts[0]
