"""The population the model runs on: villages × age bands, grouped into towns and counties."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from lianfang.forecast.parameters import N_AGES, FloatArray

IntArray = NDArray[np.int64]
HIGH_RISK_ELDERLY = 0.35
"""Share of people aged 65+ taken to be high risk (red grade) in a village whose key-population
registry is not loaded: the antiviral demand's and the antivirals measure's fallback
(assumption)."""
ELDERLY_BANDS = slice(3, 5)  # 65–79 and 80+


@dataclass(frozen=True, eq=False)
class Metapopulation:
    """Residents per village and age band, and which town and county each village lies in.

    ``town`` and ``county`` hold 0-based group indices per village; ``codes`` names villages.
    """

    codes: tuple[str, ...]
    residents: FloatArray
    town: IntArray
    county: IntArray
    seed_weight: FloatArray | None = None
    """Where the first infections appear (relative weight per village); default: residents."""
    high_risk: FloatArray | None = None
    """Red-grade people on each village's key-population registry; NaN where the village has
    no registry loaded (None: none has)."""

    def __post_init__(self) -> None:
        v = len(self.codes)
        if self.residents.shape != (v, N_AGES):
            raise ValueError(f"residents must be (villages, {N_AGES}), got {self.residents.shape}")
        if (self.residents < 0).any() or not np.isfinite(self.residents).all():
            raise ValueError("residents must be finite and non-negative")
        if self.seed_weight is not None and (
            self.seed_weight.shape != (v,) or (self.seed_weight < 0).any()
        ):
            raise ValueError("seed_weight must hold one non-negative weight per village")
        if self.high_risk is not None and (
            self.high_risk.shape != (v,) or (self.high_risk < 0).any()
        ):
            raise ValueError("high_risk must hold one non-negative count (or NaN) per village")
        for name in ("town", "county"):
            groups = getattr(self, name)
            if groups.shape != (v,) or (v and groups.min() < 0):
                raise ValueError(f"{name} must hold one non-negative index per village")

    @classmethod
    def from_arrays(
        cls,
        codes: Sequence[str],
        residents: NDArray[np.floating] | Sequence[Sequence[float]],
        town: Sequence[int] | None = None,
        county: Sequence[int] | None = None,
        seed_weight: Sequence[float] | None = None,
        high_risk: Sequence[float | None] | None = None,
    ) -> Metapopulation:
        """Build from plain arrays; without towns every village is its own town, without
        counties all villages share one."""
        n = len(codes)
        array = np.asarray(residents, dtype=np.float64)
        if array.size != n * N_AGES:
            raise ValueError(f"residents must be (villages, {N_AGES}), got shape {array.shape}")
        return cls(
            codes=tuple(codes),
            residents=array.reshape(n, N_AGES),
            town=np.asarray(town if town is not None else range(n), dtype=np.int64),
            county=np.asarray(county if county is not None else np.zeros(n), dtype=np.int64),
            seed_weight=None if seed_weight is None else np.asarray(seed_weight, dtype=np.float64),
            high_risk=None
            if high_risk is None
            else np.array([np.nan if x is None else x for x in high_risk], dtype=np.float64),
        )

    @classmethod
    def single(cls, residents: Sequence[float], code: str = "all") -> Metapopulation:
        """One well-mixed population."""
        return cls.from_arrays([code], [list(residents)], [0], [0])

    @property
    def villages(self) -> int:
        return len(self.codes)

    @property
    def towns(self) -> int:
        return int(self.town.max()) + 1 if self.villages else 0

    @property
    def counties(self) -> int:
        return int(self.county.max()) + 1 if self.villages else 0

    def seeding(self) -> FloatArray:
        """Relative weight of each village in the initial infections (sums to 1)."""
        weight = self.residents.sum(axis=1) if self.seed_weight is None else self.seed_weight
        total = weight.sum()
        return weight / total if total > 0 else np.full(self.villages, 1.0 / max(self.villages, 1))

    def high_risk_share(self) -> FloatArray:
        """Per village, the share of residents aged 65+ who are eligible for an antiviral: its
        red-grade people over its residents aged 65+ (at most 1) where the registry is loaded,
        else ``HIGH_RISK_ELDERLY``."""
        share = np.full(self.villages, HIGH_RISK_ELDERLY)
        if self.high_risk is None:
            return share
        elderly = self.residents[:, ELDERLY_BANDS].sum(axis=1)
        known = np.isfinite(self.high_risk)
        with np.errstate(divide="ignore", invalid="ignore"):
            counted = np.where(elderly > 0, self.high_risk / elderly, 0.0)
        share[known] = np.minimum(counted[known], 1.0)
        return share

    @property
    def total(self) -> float:
        return float(self.residents.sum())
