"""Official 12-digit division codes and their short forms (32, 3206, 320612, 320612101, ...)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, true
from sqlalchemy.orm import QueryableAttribute

from lianfang.areas.choices import AreaLevel
from lianfang.errors import InvalidInputError
from lianfang.i18n import _

SHORT_LENGTHS = {
    2: AreaLevel.province,
    4: AreaLevel.city,
    6: AreaLevel.county,
    9: AreaLevel.town,
    12: AreaLevel.village,
}
LEVEL_LENGTHS = {level: length for length, level in SHORT_LENGTHS.items()}


def _invalid(raw: str) -> InvalidInputError:
    return InvalidInputError(
        _("area code '%(raw)s' is malformed: expected 2, 4, 6, 9 or 12 digits", raw=raw),
    )


def level_of(code: str) -> AreaLevel:
    """The level of a 12-digit code, read from its trailing zeros."""
    for length in (2, 4, 6, 9):
        if code[length:].strip("0") == "":
            return SHORT_LENGTHS[length]
    return AreaLevel.village


def normalise(raw: str) -> str:
    """The 12-digit form of a code given in any of its accepted forms."""
    code = raw.strip()
    if not code.isascii() or not code.isdigit() or len(code) not in SHORT_LENGTHS:
        raise _invalid(raw)
    full = code.ljust(12, "0")
    if len(code) < 12 and level_of(full) is not SHORT_LENGTHS[len(code)]:
        expected, actual = SHORT_LENGTHS[len(code)], level_of(full)
        raise InvalidInputError(
            _(
                "area code '%(raw)s' is wrong: a %(n_code)s-digit code names a %(expected)s, "
                "but this one reads as the %(actual)s code %(short)s",
                raw=raw,
                n_code=len(code),
                expected=expected.text,
                actual=actual.text,
                short=short(full),
            ),
        )
    if full[:2] == "00":
        raise _invalid(raw)
    return full


def short(code: str) -> str:
    """The short form of a 12-digit code: the digits that identify it at its level."""
    return code[: LEVEL_LENGTHS[level_of(code)]]


def parent_of(code: str) -> str | None:
    """The 12-digit code of the parent division, None for a province."""
    level = level_of(code)
    lengths = [2, 4, 6, 9, 12]
    index = lengths.index(LEVEL_LENGTHS[level])
    if index == 0:
        return None
    return code[: lengths[index - 1]].ljust(12, "0")


def contains(ancestor: str, code: str) -> bool:
    """True when ``code`` is ``ancestor`` or lies below it."""
    return code.startswith(short(ancestor))


def in_subtree(
    column: QueryableAttribute[str] | QueryableAttribute[str | None], prefix: str
) -> ColumnElement[bool]:
    """SQL: the 12-digit code in ``column`` lies at or below the area with this short prefix.

    A range on the code rather than LIKE, so both SQLite and PostgreSQL answer it from the
    primary-key index whatever the collation."""
    if not prefix:
        return true()
    return column.between(prefix.ljust(12, "0"), prefix.ljust(12, "9"))
