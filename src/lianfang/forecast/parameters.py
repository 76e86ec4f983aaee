"""Disease parameters for Omicron BA.5 in China, winter 2022–23, each with meaning, unit and source.

Age bands throughout: 0–14, 15–59, 60–64, 65–79, 80+ (index 0–4), the bands the areas carry.
Values are central estimates; where a figure is an assumption it says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

AGE_BANDS = ("0-14", "15-59", "60-64", "65-79", "80+")
N_AGES = len(AGE_BANDS)

FloatArray = NDArray[np.float64]


def _ages(*values: float) -> tuple[float, ...]:
    if len(values) != N_AGES:
        raise ValueError(f"need {N_AGES} values, one per age band")
    return tuple(values)


# Contacts per day that a person of age band a (row) has with people of band b (column), all
# settings. Aggregated to our five bands from the synthetic matrix for China of Prem, Cook & Jit,
# PLoS Comput Biol 2017 (updated 2021); symmetrised against the actual population at run time.
CHINA_CONTACTS = (
    (6.0, 4.5, 0.4, 0.5, 0.2),
    (1.7, 9.0, 0.8, 0.8, 0.2),
    (1.0, 5.0, 1.8, 1.2, 0.3),
    (1.0, 4.0, 1.0, 2.0, 0.5),
    (0.8, 3.0, 0.6, 1.2, 1.0),
)


def _doc(meaning: str, unit: str, source: str) -> dict[str, str]:
    return {"meaning": meaning, "unit": unit, "source": source}


@dataclass(frozen=True)
class DiseaseParameters:
    """Natural history, severity and immunity; every field documents itself (``describe()``)."""

    r0: float = field(
        default=3.0,
        metadata=_doc(
            "basic reproduction number in a fully susceptible, unmitigated population, before "
            "immunity",
            "secondary infections",
            "Rt ≈ 3–3.5 early in China's Dec 2022 wave (Leung et al., Nat Med 2023); fitted when "
            "data are given",
        ),
    )
    latent_days: float = field(
        default=2.0,
        metadata=_doc(
            "mean time from infection to infectiousness (E). The model has no pre-symptomatic "
            "stage: symptoms, for those who get them, are counted at the end of E, when "
            "infectiousness starts, so the model's incubation period is its latent period. "
            "latent_days + infectious_days is the model's mean generation interval (5 d), at "
            "any step",
            "days",
            "Omicron incubation period 3.2 d (Backer et al., Eurosurveillance 2022); a latent "
            "period about a day shorter than incubation is usual for SARS-CoV-2, which the model "
            "does not represent (see docs/forecast.md)",
        ),
    )
    infectious_days: float = field(
        default=3.0,
        metadata=_doc(
            "mean infectious period (A and I)",
            "days",
            "chosen with latent_days so the mean generation interval is 5 d: between the "
            "realised household generation time of Omicron, 3.59 d, and its intrinsic one, "
            "6.84 d (Manica et al., Lancet Reg Health Eur 2022); the realised interval shortens "
            "as susceptibles are depleted, which the model does itself",
        ),
    )
    asymptomatic_infectiousness: float = field(
        default=0.5,
        metadata=_doc(
            "infectiousness of an asymptomatic relative to a symptomatic case",
            "ratio",
            "Buitrago-Garcia et al., PLoS Med 2020/2022 (0.35–0.65)",
        ),
    )
    asymptomatic_fraction: tuple[float, ...] = field(
        default=_ages(0.50, 0.35, 0.30, 0.25, 0.20),
        metadata=_doc(
            "share of infections that never develop symptoms, by age",
            "probability",
            "Omicron pooled 32% (Shang et al., JAMA Netw Open 2022), higher in children",
        ),
    )
    fever_clinic_given_symptomatic: tuple[float, ...] = field(
        default=_ages(0.10, 0.08, 0.12, 0.20, 0.30),
        metadata=_doc(
            "share of symptomatic cases who visit a fever clinic, by age",
            "probability",
            "assumption matched to fever-clinic volumes reported by NHC China, Dec 2022",
        ),
    )
    hospital_given_infection: tuple[float, ...] = field(
        default=_ages(0.002, 0.004, 0.02, 0.05, 0.15),
        metadata=_doc(
            "infection–hospitalisation ratio among the unvaccinated, by age",
            "probability",
            "Hong Kong BA.2 wave 2022 (Mefsin et al., EID 2022; HK CHP data)",
        ),
    )
    icu_given_hospital: tuple[float, ...] = field(
        default=_ages(0.05, 0.08, 0.12, 0.15, 0.12),
        metadata=_doc(
            "share of admissions needing intensive care, by age",
            "probability",
            "Hong Kong 2022 (HA critical-care reports); assumption for 0–14",
        ),
    )
    death_given_infection: tuple[float, ...] = field(
        default=_ages(0.00002, 0.0002, 0.003, 0.012, 0.05),
        metadata=_doc(
            "infection–fatality ratio among the unvaccinated, by age",
            "probability",
            "Hong Kong BA.2 2022, unvaccinated (McMenamin et al., Lancet ID 2022)",
        ),
    )
    vaccinated: tuple[float, ...] = field(
        default=_ages(0.85, 0.92, 0.90, 0.80, 0.45),
        metadata=_doc(
            "share fully vaccinated (primary series or booster), by age, Dec 2022",
            "share",
            "NHC China press conferences Nov–Dec 2022 (80+: ~66% any dose, ~40% booster)",
        ),
    )
    ve_infection: float = field(
        default=0.15,
        metadata=_doc(
            "protection of vaccination against infection (waned)",
            "relative reduction",
            "CoronaVac/BNT162b2 vs Omicron infection, waned (McMenamin et al., Lancet ID 2022)",
        ),
    )
    ve_severe: float = field(
        default=0.75,
        metadata=_doc(
            "protection of vaccination against hospitalisation and death",
            "relative reduction",
            "3-dose CoronaVac in 60+: 0.7–0.9 (McMenamin et al., Lancet ID 2022)",
        ),
    )
    prior_immunity: tuple[float, ...] = field(
        default=_ages(0.0, 0.0, 0.0, 0.0, 0.0),
        metadata=_doc(
            "share immune from earlier infection at the start, by age",
            "share",
            "≈0 in mainland China before Dec 2022 (zero-COVID); set when starting mid-wave",
        ),
    )
    onset_to_visit_days: float = field(
        default=1.0,
        metadata=_doc(
            "mean delay from symptom onset to a fever-clinic visit", "days", "assumption"
        ),
    )
    onset_to_admission_days: float = field(
        default=5.0,
        metadata=_doc(
            "mean delay from symptom onset to hospital admission",
            "days",
            "Hong Kong 2022 (Mefsin et al., EID 2022)",
        ),
    )
    hospital_stay_days: float = field(
        default=8.0,
        metadata=_doc("mean length of a general-ward stay", "days", "Hong Kong HA 2022"),
    )
    icu_stay_days: float = field(
        default=10.0, metadata=_doc("mean length of an ICU stay", "days", "Hong Kong HA 2022")
    )
    onset_to_death_days: float = field(
        default=12.0,
        metadata=_doc("mean delay from symptom onset to death", "days", "Hong Kong 2022"),
    )
    village_share: float = field(
        default=0.70,
        metadata=_doc(
            "share of contacts made within one's own village or community",
            "share",
            "assumption (rural China: household and neighbourhood dominate)",
        ),
    )
    town_share: float = field(
        default=0.22,
        metadata=_doc(
            "share of contacts made in one's town (markets, schools, town seat)",
            "share",
            "assumption",
        ),
    )
    market_every_days: int = field(
        default=5,
        metadata=_doc(
            "rural market-day period (集市); 0 turns market days off",
            "days",
            "custom in northern Jiangsu: every 5 days",
        ),
    )
    market_day_factor: float = field(
        default=1.5,
        metadata=_doc(
            "town-level contacts on a market day relative to other days", "ratio", "assumption"
        ),
    )

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            values = value if isinstance(value, tuple) else (value,)
            if isinstance(value, tuple) and len(value) != N_AGES:
                raise ValueError(f"{f.name}: need {N_AGES} values, one per age band")
            if any((not np.isfinite(v)) or v < 0 for v in values):
                raise ValueError(f"{f.name}: values must be finite and non-negative")
            if f.metadata.get("unit") in ("probability", "share") and any(v > 1 for v in values):
                raise ValueError(f"{f.name}: a {f.metadata['unit']} must lie in [0, 1]")
        if self.village_share + self.town_share > 1:
            raise ValueError("village_share + town_share must not exceed 1")
        if self.latent_days <= 0 or self.infectious_days <= 0:
            raise ValueError("latent_days and infectious_days must be positive")

    @property
    def county_share(self) -> float:
        """Share of contacts made elsewhere in the county (the rest)."""
        return 1.0 - self.village_share - self.town_share

    def array(self, name: str) -> FloatArray:
        """An age-band parameter as an array."""
        return np.asarray(getattr(self, name), dtype=np.float64)

    def with_values(self, **changes: Any) -> DiseaseParameters:
        """A copy with some values changed (lists become tuples)."""
        clean = {k: tuple(v) if isinstance(v, list) else v for k, v in changes.items()}
        return replace(self, **clean)  # type: ignore[arg-type]  # checked in __post_init__

    @classmethod
    def describe(cls) -> list[dict[str, Any]]:
        """Every parameter with its default, meaning, unit and source."""
        default = cls()
        return [
            {"name": f.name, "default": getattr(default, f.name), **f.metadata} for f in fields(cls)
        ]

    def as_dict(self) -> dict[str, Any]:
        """The values, JSON-ready."""
        return {
            f.name: (
                list(getattr(self, f.name))
                if isinstance(getattr(self, f.name), tuple)
                else getattr(self, f.name)
            )
            for f in fields(self)
        }
