"""demo_world.today: the day a demo world was built around

A demo database remembers its day so that `lianfang serve` on it shows the world on that day
without any setting (see docs/settings.md, `today`). Builds made before the column existed keep
NULL: they were dated by the machine's clock.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("demo_world", schema=None) as batch_op:
        batch_op.add_column(sa.Column("today", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("demo_world", schema=None) as batch_op:
        batch_op.drop_column("today")
