"""Coded columns: encoding, expanding, compacting and grouping agree with plain Python."""

from __future__ import annotations

from collections import Counter
from datetime import date

import numpy as np

from lianfang.columns import Coded, grouped


def test_coded_columns_expand_to_what_they_encode() -> None:
    for values in (["a", None, "b", "a", None], [3, None, 3, 5], [date(2023, 1, 1), None], []):
        assert Coded.of(values).expanded() == values  # type: ignore[arg-type]
    mapped = Coded.of(["a", "b", "a"]).mapped(str.upper)
    assert mapped.expanded() == ["A", "B", "A"]
    assert Coded.constant(7, 3).expanded() == [7, 7, 7]
    assert Coded.constant(7, 3).single()
    assert not Coded.of([1, 2]).single()


def test_compact_lists_each_value_once() -> None:
    repeated = Coded(np.array([0, 1, 2, 1]), np.array([5, 6, 5], dtype=object))
    compact = repeated.compact()
    assert compact.expanded() == repeated.expanded()
    assert sorted(compact.values.tolist()) == [5, 6]


def test_groups_are_the_distinct_combinations() -> None:
    rng = np.random.default_rng(1)
    columns = [rng.integers(0, k, 500).tolist() for k in (3, 7, 2)]
    groups = grouped([Coded.of(c) for c in columns], 500)
    combos = list(zip(*columns, strict=True))
    assert len(groups.first) == len(set(combos))
    for row, group in enumerate(groups.rows.tolist()):
        assert combos[groups.first[group]] == combos[row]
    assert Counter(groups.rows.tolist()) == dict(enumerate(groups.sizes.tolist()))


def test_grouping_wide_keys_renumbers_before_overflowing() -> None:
    rng = np.random.default_rng(2)
    width = 1 << 20  # five such columns would need 2^100 keys
    columns = [
        Coded(rng.integers(0, 4, 300), np.arange(width, dtype=object).astype(object))
        for _ in range(5)
    ]
    combos = list(zip(*(c.rows.tolist() for c in columns), strict=True))
    groups = grouped(columns, 300)
    assert len(groups.first) == len(set(combos))
