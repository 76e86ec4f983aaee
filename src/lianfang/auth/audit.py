"""The append-only audit log: written in the same transaction as the change it records, each
row chained to the one before it (``lianfang.auth.chain``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from hashlib import sha256
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.auth import chain
from lianfang.auth.choices import AuditAction, Permission
from lianfang.auth.models import AuditEvent
from lianfang.auth.scope import Actor
from lianfang.columns import Coded
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
    if len(entries) < BULK_ROWS:
        for entry in entries:
            event = AuditEvent(**_row(actor, entry, now, prev))
            session.add(event)
            prev = event.hash
        session.flush()
        return len(entries)
    session.flush()  # the ORM's pending rows first: ids follow the chain's order
    columns = _chained_columns(actor, entries, now, prev)
    return insert_columns(session, AuditEvent.__table__, columns)  # type: ignore[arg-type]


def _chained_columns(actor: Actor, entries: Sequence[Entry], now: Any, prev: str) -> dict[str, Any]:
    """Many events as columns, hashed as ``chain.digest`` hashes one: the same canonical JSON,
    built from fragments made once per kind of entry (a city's import appends 1.75M rows)."""
    head = chain.canonical_head(at=now, user_id=actor.user_id, username=actor.username)
    ip = chain.fragment(actor.ip)
    kinds: dict[tuple[Any, ...], tuple[str, str | None, str, str | None]] = {}
    details, areas, links, hashes = [], [], [], []
    for entry in entries:
        key = (entry.action, entry.entity_type, id(entry.detail), entry.area_code)
        kind = kinds.get(key)
        if kind is None:
            detail, area = _detail(entry.detail), entry.area_code or actor.area_code
            before = (
                f"{head}{chain.fragment(entry.action.value)},{chain.fragment(entry.entity_type)},"
            )
            after = f",{chain.fragment(area)},{ip},{chain.fragment(detail)},"
            kind = kinds[key] = (before, detail, after, area)
        before, detail, after, area = kind
        links.append(prev)
        eid = entry.entity_id
        named = f'"{eid}"' if eid and eid.isdigit() and eid.isascii() else chain.fragment(eid)
        prev = sha256(f'{before}{named}{after}"{prev}"]'.encode()).hexdigest()
        hashes.append(prev)
        details.append(detail)
        areas.append(area)
    size = len(entries)
    return {
        "at": Coded.constant(now, size), "user_id": Coded.constant(actor.user_id, size),
        "username": Coded.constant(actor.username, size),
        "action": [e.action.value for e in entries],
        "entity_type": [e.entity_type for e in entries],
        "entity_id": [e.entity_id for e in entries], "area_code": areas,
        "ip": Coded.constant(actor.ip, size), "detail": details, "prev_hash": links,
        "hash": hashes,
    }  # fmt: skip


def _detail(detail: dict[str, Any] | None) -> str | None:
    return json.dumps(detail, ensure_ascii=False, default=str) if detail else None


def _row(actor: Actor, entry: Entry, at: Any, prev_hash: str) -> dict[str, Any]:
    """An event's columns, its hash included."""
    detail = _detail(entry.detail)
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
