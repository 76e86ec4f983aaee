"""Columns of many rows kept as codes: each row's index into the column's distinct values.

Imports of a city's people hold columns of millions of rows with a few distinct values each
(grades, villages, dates); parsing, deriving and converting each distinct value once, then
expanding, keeps them fast.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc


@dataclass(frozen=True)
class Coded:
    """A column as each row's index into its distinct values, and those values."""

    rows: npt.NDArray[np.intp]
    values: npt.NDArray[np.object_]

    @classmethod
    def of(cls, values: Sequence[Hashable]) -> Coded:
        """The codes of a column of hashable values (encoded in C when they are all text, or
        all whole numbers, with or without None)."""
        kinds = set(map(type, values))
        if kinds <= {str, type(None)} or kinds <= {int, type(None)}:
            encoded = pc.dictionary_encode(pa.array(values))
            indices = encoded.indices.fill_null(0)
            rows = np.asarray(indices.to_numpy(zero_copy_only=False), dtype=np.intp)
            distinct = encoded.dictionary.to_pylist()
            if encoded.null_count:  # None has no entry of its own in an Arrow dictionary
                rows = np.where(
                    encoded.is_null().to_numpy(zero_copy_only=False), len(distinct), rows
                )
                distinct.append(None)
            return cls(rows, objects(distinct))
        first: dict[Any, int] = {}
        rows = np.fromiter(
            (first.setdefault(v, len(first)) for v in values), dtype=np.intp, count=len(values)
        )
        return cls(rows, objects(list(first)))

    @classmethod
    def constant(cls, value: Any, size: int) -> Coded:
        """A column holding one value in every row."""
        return cls(np.zeros(size, dtype=np.intp), objects([value]))

    @property
    def size(self) -> int:
        """How many rows."""
        return len(self.rows)

    def expanded(self) -> list[Any]:
        """Every row's value."""
        return self.values[self.rows].tolist()  # type: ignore[no-any-return]

    def mapped(self, convert: Callable[[Any], Any]) -> Coded:
        """The column with each distinct value converted (once)."""
        return Coded(self.rows, objects([convert(v) for v in self.values]))

    def taken(self, chosen: npt.NDArray[np.intp]) -> Coded:
        """The chosen rows."""
        return Coded(self.rows[chosen], self.values)

    def compact(self) -> Coded:
        """The same column with each value listed once (derived columns repeat values)."""
        try:
            first: dict[Any, int] = {}
            renumber = np.array([first.setdefault(v, len(first)) for v in self.values.tolist()],
                                dtype=np.intp)  # fmt: skip
        except TypeError:  # unhashable values (maps shared by identity) stay as they are
            return self
        return Coded(renumber[self.rows] if len(renumber) else self.rows, objects(list(first)))

    def single(self) -> bool:
        """True when every row (at least one) holds the same value."""
        if self.size == 0:
            return False
        first = self.values[self.rows[0]]
        same = np.array([v is first or v == first for v in self.values.tolist()], dtype=bool)
        return bool(same.all() or same[self.rows].all())


def objects(values: Sequence[Any]) -> npt.NDArray[np.object_]:
    """Values in a NumPy object array, each kept whole (sets and tuples are not unpacked)."""
    out = np.empty(len(values), dtype=object)
    for index, value in enumerate(values):
        out[index] = value
    return out


@dataclass(frozen=True)
class Groups:
    """Rows grouped by their combination of values in some coded columns."""

    rows: npt.NDArray[np.intp]  # each row's group
    first: npt.NDArray[np.intp]  # the first row of each group
    sizes: npt.NDArray[np.intp]  # how many rows each group holds


def grouped(columns: Sequence[Coded], size: int) -> Groups:
    """Group ``size`` rows by their values in the columns (all rows in one group if none)."""
    key = np.zeros(size, dtype=np.int64)
    span = 1
    for column in (c.compact() for c in columns):
        width = max(len(column.values), 1)
        if span * width >= 1 << 62:  # renumber the groups so far before the key overflows
            key = np.unique(key, return_inverse=True)[1].ravel().astype(np.int64)
            span = int(key.max()) + 1 if size else 1
        key = key * width + column.rows
        span *= width
    _, first, rows, sizes = np.unique(
        key, return_index=True, return_inverse=True, return_counts=True
    )
    return Groups(rows.ravel(), first, sizes)
