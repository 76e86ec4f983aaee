"""briefing_snapshot: the key figures of an area as they stood on a day

The situation overview and the daily briefing say what changed since yesterday, and a past
day's briefing is shown as it stood: the first reading of each day stores the figures of the
area and of each area below it.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import lianfang.db.base

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "briefing_snapshot",
        sa.Column("area_code", sa.String(length=12), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("figures", sa.Text(), nullable=False),
        sa.Column("taken_at", lianfang.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("area_code", "day", name=op.f("pk_briefing_snapshot")),
    )


def downgrade() -> None:
    op.drop_table("briefing_snapshot")
