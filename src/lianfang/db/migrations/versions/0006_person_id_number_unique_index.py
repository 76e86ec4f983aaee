"""person ID numbers unique by an index, not a table constraint

A unique constraint in SQLite's table definition cannot be dropped for a bulk load, so every
one of a city's 1.75M new people paid for updating its index row by row; a unique index can be
dropped and made again after the load in one sort, still inside the load's transaction. The
table is rebuilt on SQLite (with foreign keys off for the migration, see env.py).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("person") as batch_op:
        batch_op.drop_constraint("uq_person_id_number", type_="unique")
    op.create_index("uq_person_id_number", "person", ["id_number"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_person_id_number", table_name="person")
    with op.batch_alter_table("person") as batch_op:
        batch_op.create_unique_constraint("uq_person_id_number", ["id_number"])
