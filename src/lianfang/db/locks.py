"""Serialising writers that rebuild the same derived rows, on PostgreSQL.

SQLite needs nothing here: its writers take the write lock at their start (``begin_write``),
one at a time. PostgreSQL lets writers run together; two that delete and re-insert one village's
roll-up rows at once would each keep their own insert (the second delete does not see the first
insert), doubling the village. Transaction-scoped advisory locks make the second wait.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.orm import Session

EVERYTHING = 1
"""The key a writer holds shared for a few records, and exclusive for many (a city import)."""

_EACH = text(
    "SELECT pg_advisory_xact_lock(k) FROM "
    "(SELECT unnest(CAST(:keys AS bigint[])) AS k ORDER BY k) AS ordered"
)


def hold(session: Session, keys: Iterable[int], *, many: bool = False) -> None:
    """Hold advisory locks on these keys (numbers > 1) until the transaction ends.

    Locks are taken in key order, so two writers cannot deadlock on them. With ``many`` a
    single exclusive lock stands for every key (the lock table has room for a few thousand);
    writers of a few keys hold that one shared, so the two kinds still exclude each other.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    if many:
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": EVERYTHING})
        return
    session.execute(text("SELECT pg_advisory_xact_lock_shared(:key)"), {"key": EVERYTHING})
    session.execute(_EACH, {"keys": sorted(set(keys))})


FORECAST_CLAIM = 1
"""Named locks (``hold_named``): the forecast queues of a host's server processes claiming."""


def hold_named(session: Session, name: int) -> None:
    """Hold the lock of one named activity until the transaction ends (PostgreSQL; SQLite's
    writers already run one at a time). Named locks use the two-key form, a key space of its
    own, so they never meet the record keys of ``hold``."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:name, 0)"), {"name": name})
