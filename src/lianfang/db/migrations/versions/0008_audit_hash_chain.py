"""audit_event: a hash chain over its rows; refuse an INSERT reusing an id (SQLite), TRUNCATE
(PostgreSQL)

The UPDATE and DELETE triggers held, but on SQLite ``INSERT OR REPLACE INTO audit_event (id, …)``
replaced rows with the count unchanged, and on PostgreSQL ``TRUNCATE`` emptied the log. A
trigger now refuses each. Someone who can turn triggers off (the table's owner, a superuser,
``session_replication_role = replica``) can still change rows, so each row also carries the
hash of the row before it and a hash over its own content and that link: ``lianfang audit
verify`` finds the first row where the chain breaks. Existing rows are chained here, in id
order, with the function of ``lianfang.auth.chain`` (copied, so that this migration means the
same thing whatever that module becomes).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS = "0" * 64
COLUMNS = "id, at, user_id, username, action, entity_type, entity_id, area_code, ip, detail"
SQLITE_REUSE = (
    "CREATE TRIGGER audit_event_no_reused_id BEFORE INSERT ON audit_event "
    "WHEN EXISTS (SELECT 1 FROM audit_event WHERE id = NEW.id) "
    "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: id already used'); END"
)
SQLITE_NO_UPDATE = (
    "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
    "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END"
)


def _digest(prev_hash: str, row: Any) -> str:
    _, at, user_id, username, action, entity_type, entity_id, area_code, ip, detail = row
    if isinstance(at, str):  # SQLite: naive UTC text
        at = datetime.fromisoformat(at)
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    fields = [
        at.isoformat(timespec="microseconds"), user_id, username, action, entity_type,
        entity_id, area_code, ip, detail, prev_hash,
    ]  # fmt: skip
    canonical = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _chain_existing_rows() -> None:
    bind = op.get_bind()
    prev, links = GENESIS, []
    for row in bind.execute(sa.text(f"SELECT {COLUMNS} FROM audit_event ORDER BY id")):
        digest = _digest(prev, row)
        links.append({"id": row[0], "prev_hash": prev, "hash": digest})
        prev = digest
    if links:
        bind.execute(
            sa.text("UPDATE audit_event SET prev_hash = :prev_hash, hash = :hash WHERE id = :id"),
            links,
        )


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # ADD COLUMN keeps the table (a rebuild would drop its triggers); the default only
        # fills the rows chained just below.
        for name in ("prev_hash", "hash"):
            op.execute(f"ALTER TABLE audit_event ADD COLUMN {name} VARCHAR(64) NOT NULL DEFAULT ''")
        op.execute("DROP TRIGGER audit_event_no_update")
        _chain_existing_rows()
        op.execute(SQLITE_NO_UPDATE)
        op.execute(SQLITE_REUSE)
        return
    op.add_column("audit_event", sa.Column("prev_hash", sa.String(64), nullable=True))
    op.add_column("audit_event", sa.Column("hash", sa.String(64), nullable=True))
    op.execute("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only")
    _chain_existing_rows()
    op.execute("ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only")
    op.alter_column("audit_event", "prev_hash", nullable=False)
    op.alter_column("audit_event", "hash", nullable=False)
    op.execute(
        "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER audit_event_no_reused_id")
        op.execute("ALTER TABLE audit_event DROP COLUMN hash")
        op.execute("ALTER TABLE audit_event DROP COLUMN prev_hash")
        return
    op.execute("DROP TRIGGER audit_event_no_truncate ON audit_event")
    op.drop_column("audit_event", "hash")
    op.drop_column("audit_event", "prev_hash")
