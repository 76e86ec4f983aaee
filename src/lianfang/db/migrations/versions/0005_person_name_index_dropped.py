"""person name index dropped: name search is by substring, which a B-tree cannot serve

Every row inserted paid for maintaining it (a sort of its own in bulk loads) and no query used it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_person_name", table_name="person")


def downgrade() -> None:
    op.create_index("ix_person_name", "person", ["name"], unique=False)
