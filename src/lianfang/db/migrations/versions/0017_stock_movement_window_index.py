"""stock_movement: an index that starts with the moment, for recent use

The reserve's days of supply sum the issues of the last 14 days below an area. With a year of
daily lines in the ledger, that read must cost what the window holds, not what the ledger
holds: this index puts ``moved_at`` first and carries the columns the sum needs (area, item,
facility, kind, quantity, the line it reverses), so PostgreSQL answers it from the index range.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ["moved_at", "area_code", "item_id", "facility_id", "kind", "quantity", "reverses_id"]


def upgrade() -> None:
    with op.batch_alter_table("stock_movement", schema=None) as batch_op:
        batch_op.create_index("ix_stock_movement_moved_at_area_code", COLUMNS, unique=False)


def downgrade() -> None:
    with op.batch_alter_table("stock_movement", schema=None) as batch_op:
        batch_op.drop_index("ix_stock_movement_moved_at_area_code")
