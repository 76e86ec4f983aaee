"""The append-only audit log: written in the same transaction as the change it records."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lianfang.auth.choices import AuditAction, Permission
from lianfang.auth.models import AuditEvent
from lianfang.auth.scope import Actor


def record(
    *,
    session: Session,
    actor: Actor,
    action: AuditAction,
    entity_type: str,
    entity_id: str | None = None,
    area_code: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event; it commits or rolls back with the change it describes."""
    event = AuditEvent(
        user_id=actor.user_id,
        username=actor.username,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        area_code=area_code or actor.area_code,
        ip=actor.ip,
        detail=json.dumps(detail, ensure_ascii=False, default=str) if detail else None,
    )
    session.add(event)
    session.flush()
    return event


def list_events(
    *, session: Session, actor: Actor, limit: int = 100, offset: int = 0
) -> tuple[list[AuditEvent], int]:
    """Events within the actor's scope, newest first, and how many there are."""
    actor.require(Permission.audit_read)
    where = actor.area_filter(AuditEvent.area_code)
    total = session.scalar(select(func.count()).select_from(AuditEvent).where(where)) or 0
    rows = session.scalars(
        select(AuditEvent)
        .where(where)
        .order_by(AuditEvent.id.desc())
        .limit(max(1, min(limit, 500)))
        .offset(max(0, offset))
    ).all()
    return list(rows), total
