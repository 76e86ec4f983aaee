"""What a refused write conflicted with, named by table and columns, never by value.

A uniqueness race (two requests registering one ID number at once) ends in an IntegrityError from
the database, on SQLite and PostgreSQL alike. ``conflict`` turns it into the ``ConflictError``
(409) that the API and the CLI answer, naming the table and columns from the constraint, and
leaving out the values the database puts in its own message (they can be ID numbers or phones).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from sqlalchemy.exc import IntegrityError

from lianfang.errors import ConflictError
from lianfang.i18n import _

_SQLITE = re.compile(r"(UNIQUE|NOT NULL|CHECK|FOREIGN KEY) constraint failed(?::\s*(.*))?")
_PG_KIND = {"23505": "UNIQUE", "23503": "FOREIGN KEY", "23502": "NOT NULL", "23514": "CHECK"}
_WHAT = {
    "UNIQUE": _("a record with the same value already exists"),
    "FOREIGN KEY": _(
        "it refers to a record that does not exist, or one that others still refer to"
    ),
    "NOT NULL": _("a required value is missing"),
    "CHECK": _("a value breaks the table's rule"),
}


@dataclass(frozen=True)
class Refusal:
    """The rule a write broke: its kind, and the table and columns it concerns (when known)."""

    kind: str  # UNIQUE, FOREIGN KEY, NOT NULL, CHECK, or "" when the database did not say
    table: str = ""
    columns: tuple[str, ...] = ()

    @property
    def where(self) -> str:
        """``table (column, ...)``, or the table alone."""
        if not self.table:
            return ""
        return f"{self.table} ({', '.join(self.columns)})" if self.columns else self.table


@cache
def _constraints() -> dict[str, tuple[str, tuple[str, ...]]]:
    """Every named constraint and unique index of the schema: name → (table, columns)."""
    from lianfang.db import models  # noqa: F401  (registers every table)
    from lianfang.db.base import Base

    found: dict[str, tuple[str, tuple[str, ...]]] = {}
    for table in Base.metadata.tables.values():
        for constraint in table.constraints:
            if isinstance(constraint.name, str):
                columns = tuple(c.name for c in getattr(constraint, "columns", ()))
                found[constraint.name] = (table.name, columns)
        for index in table.indexes:
            if index.unique and isinstance(index.name, str):
                found[index.name] = (table.name, tuple(c.name for c in index.columns))
    return found


def _from_sqlite(message: str) -> Refusal:
    match = _SQLITE.search(message)
    if match is None:
        return Refusal("")
    kind, detail = match.group(1), (match.group(2) or "").strip()
    if kind in ("UNIQUE", "NOT NULL") and detail:
        pairs = [part.strip().split(".", 1) for part in detail.split(",")]
        if all(len(pair) == 2 for pair in pairs):
            return Refusal(kind, pairs[0][0], tuple(pair[1] for pair in pairs))
    if detail in _constraints():
        table, columns = _constraints()[detail]
        return Refusal(kind, table, columns)
    return Refusal(kind)


def _from_postgres(orig: BaseException) -> Refusal:
    kind = _PG_KIND.get(getattr(orig, "sqlstate", None) or "", "")
    diag = getattr(orig, "diag", None)
    name = getattr(diag, "constraint_name", None)
    table = getattr(diag, "table_name", None) or ""
    if name and name in _constraints():
        table, columns = _constraints()[name]
        return Refusal(kind, table, columns)
    column = getattr(diag, "column_name", None)
    return Refusal(kind, table, (column,) if column else ())


def refusal(exc: IntegrityError) -> Refusal:
    """The rule an IntegrityError reports, read from the driver's fields, not its values."""
    orig = exc.orig
    if orig is None:
        return Refusal("")
    if getattr(orig, "sqlstate", None) is not None:
        return _from_postgres(orig)
    return _from_sqlite(str(orig))


def conflict(exc: IntegrityError) -> ConflictError:
    """The 409 for a write the database refused, naming table and columns, never values."""
    found = refusal(exc)
    what = _WHAT.get(found.kind) or _("the database refused the change")
    if found.where:
        return ConflictError(_("%(what)s: %(where)s", what=what, where=found.where))
    return ConflictError(what)


def unique_columns(exc: IntegrityError) -> tuple[str, tuple[str, ...]] | None:
    """(table, columns) of the uniqueness rule an IntegrityError broke, else None."""
    found = refusal(exc)
    return (found.table, found.columns) if found.kind == "UNIQUE" else None
