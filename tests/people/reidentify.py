"""How many valid ID numbers fit what a masked output shows of one person: the attacker's count.

A number is valid when its check character is right, its first 6 digits are a county-level code
that exists, its birth date is a real day that gives the shown age today (and is the shown birth
date, if one is shown, and not after any date shown of that person, such as a vaccination), and
its sequence's last digit agrees with the shown sex. Masked characters ('*') may be anything; shown
ones must match. The count is exact: it sums over the check-digit residues of area, date and
sequence instead of listing the numbers.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from lianfang.people.identity import CHECK_DIGITS, WEIGHTS, age_on

AREA, DATE, SEQUENCE = slice(0, 6), slice(6, 14), slice(14, 17)


@dataclass(frozen=True)
class Shown:
    """What an output shows of one person."""

    id_number: str  # with '*' where masked
    male: bool
    age: int | None = None
    birth_date: date | None = None
    not_before: date | None = None  # the earliest other date shown of the person


def _residue(digits: str, weights: slice) -> int:
    return sum(int(d) * int(w) for d, w in zip(digits, WEIGHTS[weights], strict=True)) % 11


def _fits(text: str, pattern: str) -> bool:
    return all(p in ("*", t) for t, p in zip(text, pattern, strict=True))


def _dates(shown: Shown, today: date) -> list[str]:
    if shown.birth_date is not None:
        days = [shown.birth_date]
    elif shown.age is not None:
        first = date(today.year - shown.age - 2, 1, 1)  # a margin; age_on decides
        days = [first + timedelta(days=n) for n in range(4 * 366)]
        days = [d for d in days if age_on(d, today) == shown.age]
    else:
        first = date(today.year - 120, 1, 1)
        days = [first + timedelta(days=n) for n in range((today - first).days + 1)]
    days = [d for d in days if d.year >= 1900]  # the registry refuses earlier births
    if shown.not_before is not None:
        days = [d for d in days if d <= shown.not_before]
    written = (d.strftime("%Y%m%d") for d in days)
    return [d for d in written if _fits(d, shown.id_number[DATE])]


@lru_cache(maxsize=64)
def _sequences(pattern: str, male: bool) -> Counter[int]:
    found = (f"{n:03d}" for n in range(1000))
    return Counter(
        _residue(s, SEQUENCE) for s in found if int(s[2]) % 2 == male and _fits(s, pattern)
    )


def consistent_numbers(shown: Shown, today: date, counties: frozenset[str]) -> int:
    """How many valid ID numbers agree with everything shown."""
    pattern = shown.id_number
    assert len(pattern) == 18, pattern
    areas = Counter(_residue(a, AREA) for a in counties if _fits(a, pattern[AREA]))
    dates = Counter(_residue(d, DATE) for d in _dates(shown, today))
    sequences = _sequences(pattern[SEQUENCE], shown.male)
    total = 0
    for a, n_a in areas.items():
        for d, n_d in dates.items():
            for s, n_s in sequences.items():
                if pattern[17] in ("*", CHECK_DIGITS[(a + d + s) % 11]):
                    total += n_a * n_d * n_s
    return total
