"""Scenarios: what changes over time — measures, antivirals, oximetry, surge beds, the Spring
Festival return — and where the epidemic starts."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np

from lianfang.forecast.parameters import N_AGES, FloatArray


@dataclass(frozen=True)
class Measure:
    """A change in force from ``start`` to ``end`` (inclusive; None = to the end of the run).

    contact_factor : multiplies all contacts (0.8 = a 20% reduction).
    antiviral_coverage : share of the high-risk symptomatic cases aged 65+ (red grade on the
        registry, else 35% of them) treated early; treated cases
        are admitted and die ``antiviral_effect`` less often (nirmatrelvir: 0.89 in EPIC-HR,
        about 0.5 in practice — Hammond et al., NEJM 2022; Dryden-Peterson et al., 2023).
    oximetry_coverage : share of 65+ cases monitored with an oximeter at home; early referral
        cuts their deaths by ``oximetry_effect`` (assumption: 0.3).
    surge_beds : extra beds opened (reported against the census, not used by the dynamics).
    """

    name: str
    start: date
    end: date | None = None
    contact_factor: float = 1.0
    antiviral_coverage: float = 0.0
    antiviral_effect: float = 0.5
    oximetry_coverage: float = 0.0
    oximetry_effect: float = 0.3
    surge_beds: int = 0

    def __post_init__(self) -> None:
        for name in (
            "antiviral_coverage",
            "antiviral_effect",
            "oximetry_coverage",
            "oximetry_effect",
        ):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{self.name}: {name} must lie in [0, 1]")
        if self.contact_factor < 0:
            raise ValueError(f"{self.name}: contact_factor must be non-negative")
        if self.end is not None and self.end < self.start:
            raise ValueError(f"{self.name}: end is before start")

    def active(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class FestivalReturn:
    """Migrant workers returning from cities to villages before the Spring Festival.

    ``returnees_per_1000`` residents arrive spread evenly over ``start``…``end``, all aged 15–59,
    a share ``infected_share`` of them already infected (latent) on arrival.
    """

    start: date
    end: date
    returnees_per_1000: float = 60.0
    infected_share: float = 0.05

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("festival return: end is before start")
        if self.returnees_per_1000 < 0 or not 0 <= self.infected_share <= 1:
            raise ValueError("festival return: volume ≥ 0 and infected_share in [0, 1]")


@dataclass(frozen=True)
class Scenario:
    """A named set of measures on a calendar, with the epidemic's start."""

    name: str = "no extra measures"
    start: date = date(2022, 12, 1)
    seed_per_100k: float = 5.0
    measures: tuple[Measure, ...] = ()
    festival: FestivalReturn | None = None

    def calendar(self, days: int) -> list[date]:
        return [self.start + timedelta(days=d) for d in range(days)]

    def daily(self, days: int) -> DailyEffects:
        """The measures as day-by-day multipliers."""
        contact = np.ones(days)
        untreated = np.ones(days)
        fatal = np.ones((days, N_AGES))
        beds = np.zeros(days)
        for d, day in enumerate(self.calendar(days)):
            for m in self.measures:
                if not m.active(day):
                    continue
                contact[d] *= m.contact_factor
                untreated[d] *= 1.0 - m.antiviral_coverage * m.antiviral_effect
                fatal[d, 3:] *= 1.0 - m.oximetry_coverage * m.oximetry_effect
                beds[d] += m.surge_beds
        return DailyEffects(
            contact=contact, antiviral=1.0 - untreated, fatal=fatal, surge_beds=beds
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data that ``from_dict`` reads back (dates as ISO strings)."""
        data: dict[str, Any] = json.loads(json.dumps(asdict(self), default=str))
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scenario:
        """Read a scenario from JSON-like data (dates as ISO strings)."""
        festival = data.get("festival")
        return cls(
            name=str(data.get("name", "scenario")),
            start=date.fromisoformat(data.get("start", "2022-12-01")),
            seed_per_100k=float(data.get("seed_per_100k", 5.0)),
            measures=tuple(Measure(**_dates(m, "start", "end")) for m in data.get("measures", [])),
            festival=FestivalReturn(**_dates(festival, "start", "end")) if festival else None,
        )


def _dates(raw: dict[str, Any], *keys: str) -> dict[str, Any]:
    out = dict(raw)
    for key in keys:
        if out.get(key) is not None:
            out[key] = date.fromisoformat(out[key])
    return out


@dataclass(frozen=True)
class DailyEffects:
    """Per-day multipliers derived from a scenario."""

    contact: FloatArray
    antiviral: FloatArray
    """(days,) the share by which antivirals cut admissions, ICU and deaths of the eligible
    (high-risk 65+) symptomatic cases: 1 − Π(1 − coverage × effect) of the active measures.
    The engine applies it to each village's eligible share (``Metapopulation.high_risk_share``),
    so antivirals cut deaths too, through fewer severe cases."""
    fatal: FloatArray
    """(days, ages) what oximetry leaves of deaths."""
    surge_beds: FloatArray = field(repr=False)
