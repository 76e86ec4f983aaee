"""person: one index on (area, grade, due date) instead of (area, grade) and (area, due date)

Both served lists of an area's people: by grade, or overdue. One index whose entries also hold
the due date serves both (an overdue filter reads it from the index entries of the area), and
every change to a person, and every bulk load, maintains or builds one index instead of two.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_person_area_code_grade_due_on", "person", ["area_code", "grade", "due_on"])
    op.drop_index("ix_person_area_code_grade", table_name="person")
    op.drop_index("ix_person_area_code_due_on", table_name="person")


def downgrade() -> None:
    op.create_index("ix_person_area_code_due_on", "person", ["area_code", "due_on"])
    op.create_index("ix_person_area_code_grade", "person", ["area_code", "grade"])
    op.drop_index("ix_person_area_code_grade_due_on", table_name="person")
