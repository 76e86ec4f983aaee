"""The append-only audit log: written in the same transaction as the change it records, each
row chained to the one before it (``lianfang.auth.chain``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.auth import chain
from lianfang.auth.choices import AuditAction, Permission
from lianfang.auth.models import AuditEvent
from lianfang.auth.scope import Actor
from lianfang.db.bulk import insert_columns
from lianfang.errors import PermissionDenied

BULK_ROWS = 1000  # from this many rows on, appended with the bulk writer, not the ORM


@dataclass(frozen=True)
class Entry:
    """One change to record: what was done to which record, in which area."""

    action: AuditAction
    entity_type: str
    entity_id: str | None = None
    area_code: str | None = None
    detail: dict[str, Any] | None = None


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
    entry = Entry(action, entity_type, entity_id, area_code, detail)
    event = AuditEvent(**_row(actor, entry, timeutil.utcnow(), chain.lock_tail(session)))
    session.add(event)
    session.flush()
    return event


def record_many(*, session: Session, actor: Actor, entries: Sequence[Entry]) -> int:
    """Append one event per entry (an import's people), in order; return how many."""
    if not entries:
        return 0
    now, prev = timeutil.utcnow(), chain.lock_tail(session)
    rows = []
    for entry in entries:
        row = _row(actor, entry, now, prev)
        rows.append(row)
        prev = row["hash"]
    if len(rows) < BULK_ROWS:
        session.add_all([AuditEvent(**row) for row in rows])
        session.flush()
        return len(rows)
    session.flush()  # the ORM's pending rows first: ids follow the chain's order
    columns = {key: [row[key] for row in rows] for key in rows[0]}
    columns["action"] = [action.value for action in columns["action"]]
    return insert_columns(session, AuditEvent.__table__, columns)  # type: ignore[arg-type]


def _row(actor: Actor, entry: Entry, at: Any, prev_hash: str) -> dict[str, Any]:
    """An event's columns, its hash included."""
    detail = json.dumps(entry.detail, ensure_ascii=False, default=str) if entry.detail else None
    row = {
        "at": at, "user_id": actor.user_id, "username": actor.username, "action": entry.action,
        "entity_type": entry.entity_type, "entity_id": entry.entity_id,
        "area_code": entry.area_code or actor.area_code, "ip": actor.ip, "detail": detail,
        "prev_hash": prev_hash,
    }  # fmt: skip
    row["hash"] = chain.digest(**{**row, "action": entry.action.value})
    return row


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


def verify(*, session: Session, actor: Actor) -> chain.Verdict:
    """Walk the whole chain (the whole log: only for an actor who sees every area)."""
    actor.require(Permission.audit_read)
    if actor.area_code is not None:
        raise PermissionDenied(
            "校验审计日志需要全部区域的权限", "verifying the audit log needs every area in scope"
        )
    return chain.verify(session)
