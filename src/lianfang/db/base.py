"""The declarative base, with one naming convention for SQLite and PostgreSQL constraints."""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Enum, MetaData, String
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every back end (SQLite stores it naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store aware UTC times only")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
        return value.astimezone(UTC)  # type: ignore[no-any-return]


def choice_column(choice: type[enum.StrEnum], length: int = 16) -> Enum:
    """A portable column for a Choice: the value as VARCHAR, no native enum type (the same DDL
    on SQLite and PostgreSQL, and new members need no type migration)."""
    return Enum(
        choice,
        native_enum=False,
        length=length,
        values_callable=lambda members: [member.value for member in members],
    )


class Base(DeclarativeBase):
    """Base of every table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime}  # noqa: RUF012 (SQLAlchemy reads it)


class ChoiceSet(TypeDecorator[frozenset[Any]]):
    """A set of Choice members stored as their sorted values joined by commas ('' when empty):
    portable, readable in a sheet, and searchable with LIKE."""

    impl = String
    cache_ok = True

    def __init__(self, choice: type[enum.StrEnum], length: int = 200) -> None:
        super().__init__(length)
        self.choice = choice

    def process_bind_param(self, value: frozenset[Any] | None, dialect: Dialect) -> str:
        return join_choices(value or ())

    def process_result_value(self, value: Any, dialect: Dialect) -> frozenset[Any]:
        return _choice_set(self.choice, str(value or ""))


@functools.lru_cache(maxsize=4096)
def _choice_set(choice: type[enum.StrEnum], stored: str) -> frozenset[Any]:
    """A stored set of choices read back (once per distinct text: rows repeat a few)."""
    return frozenset(choice(v) for v in stored.split(",") if v)


def join_choices(values: Iterable[enum.StrEnum]) -> str:
    """The stored form of a set of choices."""
    return ",".join(sorted(str(v) for v in values))
