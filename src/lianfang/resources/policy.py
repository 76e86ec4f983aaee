"""Reserve targets: the DESIGN.md rural-stock rule as defaults, and how an area's own target
replaces one. Pure: no database.

Rural stock (national and provincial notices of Dec 2022 – Jan 2023, DESIGN.md "Rural stock"):
primary facilities keep symptomatic drugs and antigen kits for 15–20% of the population they
serve; every village clinic holds 2 finger oximeters; every township health centre holds 1
oxygen concentrator. The default takes the lower bound, 15%: a facility below it is short;
``UPPER_SHARE`` is shown beside it as the top of the range.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from lianfang.resources.choices import PRIMARY, FacilityType, ItemCategory

LOWER_SHARE = 0.15
UPPER_SHARE = 0.20
OXIMETER = "oximeter"
CONCENTRATOR = "o2_concentrator"
PER_FACILITY: Mapping[tuple[FacilityType, str], int] = {
    (FacilityType.village_clinic, OXIMETER): 2,
    (FacilityType.township_centre, CONCENTRATOR): 1,
}


@dataclass(frozen=True)
class Rule:
    """A target: units per facility, or a share of the population served (times the item's
    units per person). ``source`` is the area code that set it, or "" for the default."""

    per_facility: int | None = None
    population_share: float | None = None
    source: str = ""

    def units(self, served: int, per_person: float) -> int:
        """The target in units for a facility serving ``served`` people."""
        if self.per_facility is not None:
            return self.per_facility
        if self.population_share is not None:
            return math.ceil(served * self.population_share * per_person)
        return 0


def default(kind: FacilityType, item_code: str, category: ItemCategory) -> Rule | None:
    """The DESIGN.md default for one item at one type of facility (None: no target).

    >>> default(FacilityType.village_clinic, OXIMETER, ItemCategory.equipment).per_facility
    2
    >>> default(FacilityType.township_centre, "ibuprofen", ItemCategory.antipyretic).units(1000, 1)
    150
    >>> default(FacilityType.pharmacy, "ibuprofen", ItemCategory.antipyretic) is None
    True
    """
    fixed = PER_FACILITY.get((kind, item_code))
    if fixed is not None:
        return Rule(per_facility=fixed)
    if kind in PRIMARY and category.symptomatic:
        return Rule(population_share=LOWER_SHARE)
    return None


def choose(area_code: str, overrides: Mapping[str, Rule], fallback: Rule | None) -> Rule | None:
    """The rule for a facility in ``area_code``: the override set for the nearest area above it
    (or at it), else the default. ``overrides`` maps 12-digit area codes to rules.

    >>> rules = {"320600000000": Rule(per_facility=3, source="320600000000"),
    ...          "320623000000": Rule(per_facility=5, source="320623000000")}
    >>> choose("320623101001", rules, None).per_facility
    5
    >>> choose("320612101001", rules, None).per_facility
    3
    """
    for length in (12, 9, 6, 4, 2):
        rule = overrides.get(area_code[:length].ljust(12, "0"))
        if rule is not None:
            return rule
    return fallback


def shortfall(balance: int, target: int) -> int:
    """Units missing to reach the target (0 when at or above it)."""
    return max(0, target - balance)


def days_of_supply(balance: int, per_day: float | None) -> float | None:
    """How many days the balance lasts at ``per_day`` units a day (None: no use seen).

    >>> days_of_supply(30, 2.0)
    15.0
    >>> days_of_supply(30, None) is None
    True
    """
    if per_day is None or per_day <= 0:
        return None
    return balance / per_day
