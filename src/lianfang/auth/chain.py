"""The audit log's hash chain: each row carries the hash of the row before it and a hash over
its own content and that link, so that changing, removing or inserting a row by hand breaks the
chain at that row.

``hash = SHA-256(canonical JSON of [at, user_id, username, action, entity_type, entity_id,
area_code, ip, detail, prev_hash])``; the first row's ``prev_hash`` is ``GENESIS``. ``at`` is
written as ISO 8601 in UTC with microseconds. Migration 0008 back-filled older rows with this
same function; a change to it needs a migration that re-chains the log.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from lianfang.auth.models import AuditEvent

GENESIS = "0" * 64
CHAIN_LOCK = 0x6C69616E66616E67 >> 1  # "lianfang", as a positive bigint advisory-lock key
"""The PostgreSQL advisory lock that serialises appends (SQLite's write lock already does)."""
VERIFY_BATCH = 5000


def digest(
    *, prev_hash: str, at: datetime, user_id: int | None, username: str, action: str,
    entity_type: str, entity_id: str | None, area_code: str | None, ip: str | None,
    detail: str | None,
) -> str:  # fmt: skip
    """The hash of one row's content and its link to the row before."""
    fields = [
        at.astimezone(UTC).isoformat(timespec="microseconds"), user_id, username, action,
        entity_type, entity_id, area_code, ip, detail, prev_hash,
    ]  # fmt: skip
    return sha256_hex(json.dumps(fields, ensure_ascii=False, separators=(",", ":")))


def sha256_hex(canonical: str) -> str:
    """The hex SHA-256 of a canonical text."""
    return hashlib.sha256(canonical.encode()).hexdigest()


def fragment(value: object) -> str:
    """One element of the canonical JSON array, as ``digest`` writes it."""
    if isinstance(value, str) and value.isdigit() and value.isascii():
        return f'"{value}"'  # an id: nothing to escape
    return json.dumps(value, ensure_ascii=False)


def canonical_head(*, at: datetime, user_id: int | None, username: str) -> str:
    """The start of the canonical JSON of rows that share a time and an author."""
    when = at.astimezone(UTC).isoformat(timespec="microseconds")
    return f"[{fragment(when)},{fragment(user_id)},{fragment(username)},"


def lock_tail(session: Session) -> str:
    """Take the right to append (until the transaction ends) and return the last row's hash.

    Pending changes are written first, so that the lock is the transaction's last: a
    transaction holding it takes no row lock after it, and none waits for it holding one that
    the holder needs (write the audit row after the change it records)."""
    session.flush()
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK})
    last = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    return last or GENESIS


@dataclass(frozen=True)
class Break:
    """The first row at which the chain does not hold, and what differs there."""

    row_id: int
    zh: str
    en: str


@dataclass(frozen=True)
class Verdict:
    """What a walk along the whole chain found."""

    rows: int
    last_id: int | None
    head: str
    broken: Break | None


COLUMNS = (
    AuditEvent.id, AuditEvent.at, AuditEvent.user_id, AuditEvent.username, AuditEvent.action,
    AuditEvent.entity_type, AuditEvent.entity_id, AuditEvent.area_code, AuditEvent.ip,
    AuditEvent.detail, AuditEvent.prev_hash, AuditEvent.hash,
)  # fmt: skip


def verify(session: Session) -> Verdict:
    """Walk the log in id order, recomputing every link; stop at the first that fails."""
    rows = session.execute(
        select(*COLUMNS).order_by(AuditEvent.id).execution_options(yield_per=VERIFY_BATCH)
    )
    return walk(rows)


def walk(rows: Iterable[Any]) -> Verdict:
    """Check rows given in id order (rows with the attributes of ``COLUMNS``)."""
    expected, last_id, count = GENESIS, None, 0
    for row in rows:
        if row.prev_hash != expected:
            broken = _unlinked(row.id, last_id, row.prev_hash, expected)
            return Verdict(count, last_id, expected, broken)
        computed = digest(
            prev_hash=expected, at=row.at, user_id=row.user_id, username=row.username,
            action=str(row.action), entity_type=row.entity_type, entity_id=row.entity_id,
            area_code=row.area_code, ip=row.ip, detail=row.detail,
        )  # fmt: skip
        if computed != row.hash:
            return Verdict(count, last_id, expected, _changed(row.id, row.hash, computed))
        expected, last_id, count = computed, row.id, count + 1
    return Verdict(count, last_id, expected, None)


def _changed(row_id: int, stored: str, computed: str) -> Break:
    return Break(
        row_id,
        f"第 {row_id} 行的内容与其哈希不符（存 {_short(stored)}，算得 {_short(computed)}）："
        "该行写入后被改动过",
        f"row {row_id}: its content does not match its hash (stored {_short(stored)}, "
        f"computed {_short(computed)}): the row was changed after it was written",
    )


def _unlinked(row_id: int, last_id: int | None, prev_hash: object, expected: str) -> Break:
    before = f"第 {last_id} 行" if last_id is not None else "链首"
    before_en = f"row {last_id}" if last_id is not None else "the start of the chain"
    return Break(
        row_id,
        f"第 {row_id} 行记的前一行哈希 {_short(prev_hash)} 与{before}的哈希 {_short(expected)} "
        "不符：其前有行被删除、插入或改动",
        f"row {row_id}: its prev_hash {_short(prev_hash)} is not the hash of {before_en} "
        f"({_short(expected)}): a row before it was removed, inserted or changed",
    )


def _short(value: object) -> str:
    return str(value)[:12] + "…" if value else "—"
