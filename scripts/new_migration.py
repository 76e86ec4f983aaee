"""Write a new Alembic revision from the difference between the models and the newest migration.

Usage: python scripts/new_migration.py "what changed"   (or: make migration m="what changed")
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from alembic import command

from lianfang.db.engine import make_engine
from lianfang.db.migrate import alembic_config, head_revision, upgrade


def main(message: str) -> None:
    """Upgrade a scratch SQLite database to head, then autogenerate the next revision."""
    with tempfile.TemporaryDirectory() as scratch:
        engine = make_engine(f"sqlite:///{Path(scratch) / 'scratch.db'}")
        upgrade(engine)
        head = head_revision(engine) or "0000"
        command.revision(
            alembic_config(engine),
            message=message,
            autogenerate=True,
            rev_id=f"{int(head) + 1:04d}",
        )
        engine.dispose()


if __name__ == "__main__":
    if len(sys.argv) != 2 or not sys.argv[1].strip():
        sys.exit('usage: python scripts/new_migration.py "what changed"')
    main(sys.argv[1])
