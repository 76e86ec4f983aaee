"""forecast_run.worker and progress_detail: who computes a run, and how far it is

A server starting up fails the runs whose process (host:pid in `worker`) no longer exists,
instead of leaving them "running" for ever; `progress_detail` holds what the worker reports
(scenario i of n, members or days done), shown on the forecast page and in the API.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("forecast_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("worker", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("progress_detail", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("forecast_run", schema=None) as batch_op:
        batch_op.drop_column("progress_detail")
        batch_op.drop_column("worker")
