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
        default=_ages(0.85, 0.92, 0.897, 0.897, 0.658),
        metadata=_doc(
            "share fully vaccinated (primary series completed, boosted or not), by age, at the "
            "start of the Dec 2022 wave",
            "share",
            "State Council joint prevention and control mechanism press conference, 29 Nov 2022 "
            "(Xia Gang, National Disease Control and Prevention Administration), figures to 28 "
            "Nov: aged 80+ 65.8% fully vaccinated (76.6% at least one dose; 14.456 million "
            "boosted, about 40%); aged 60+ 86.42% fully vaccinated, so 89.7% of those aged 60–79 "
            "(derived: 228.165 − 23.563 million fully vaccinated of 264.0 − 35.8 million), used "
            "for 60–64 and 65–79; 0–14 and 15–59: unverified assumption (whole population "
            "90.28% fully vaccinated)",
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
            "judgement between the Hong Kong BA.2 estimates for people aged 60+ (McMenamin et "
            "al., Lancet Infect Dis 2022; figures as reported by the vaccine's maker: CoronaVac "
            "2 doses 72% against severe disease and 77% against death, 3 doses 98%) and waning: "
            "most of mainland China's older people were vaccinated over six months before Dec "
            "2022, and protection of older adults waned after six months in Hong Kong (JAMA "
            "Netw Open 2023, case–control study of 164,151 adults). See docs/forecast.md",
        ),
    )
    prior_immunity: tuple[float, ...] = field(
        default=_ages(0.0, 0.0, 0.0, 0.0, 0.0),
        metadata=_doc(
            "share immune from earlier infection at the start, by age",
            "share",
            "≈0 in mainland China before Dec 2022 under zero-COVID: its largest earlier outbreak, "
            "Shanghai's BA.2 wave, infected 2.74 per 100 of Shanghai (Chen et al., Emerg "
            "Microbes Infect 2022); set when starting mid-wave",
        ),
    )
    onset_to_visit_days: float = field(
        default=1.0,
        metadata=_doc(
            "mean delay from symptom onset to a fever-clinic visit",
            "days",
            "mainland China measured a mean of 1.6 d from onset to first consultation outside "
            "Hubei in late Jan–early Feb 2020 (Zhang et al., Lancet Infect Dis 2020, 1,052 "
            "cases; 3.0 d earlier, before fever clinics screened everyone); in Dec 2022 "
            "fever-clinic visits of hospitals and urban community centres peaked on 22 Dec, the "
            "day positive tests did, and all fever clinics' on 23 Dec (China CDC, national "
            "report of 25 Jan 2023): a delay of about a day. No delay measured in the Dec 2022 "
            "wave itself could be read",
        ),
    )
    onset_to_admission_days: float = field(
        default=8.0,
        metadata=_doc(
            "mean delay from symptom onset (in the model, the start of infectiousness) to "
            "hospital admission, gamma with shape 2",
            "days",
            "calibrated, not measured: with it (and icu_stay_days 8) the severe-case census "
            "of the Nantong demo world peaks 13 days after fever-clinic visits, as it did in "
            "mainland China (China CDC, national report of 25 Jan 2023: visits peaked on 23 Dec "
            "2022, severe cases in hospital on 5 Jan 2023 at 128,000; 5 d gave 11 days, 7 d "
            "12). In line with England's Omicron BA.1 infection-to-hospitalisation mean of over "
            "11 d less a 3.67 d incubation (Ward et al., Epidemiol Infect 2022). No onset-to-"
            "admission delay for mainland China or Hong Kong, nor one by age, could be read",
        ),
    )
    hospital_stay_days: tuple[float, ...] = field(
        default=_ages(2.16, 3.0, 3.93, 7.61, 7.61),
        metadata=_doc(
            "mean length of a hospital stay (ward, ICU included), by age of the patient; the "
            "bed census convolves each band's admissions with its own exponential stay",
            "days",
            "mean ward stays without ICU of 2.16, 3.93 and 7.61 d at 0–39, 40–69 and 70+ "
            "(Tobin et al., BMC Infect Dis, doi:10.1186/s12879-022-07971-6: 19,574 patients, "
            "New South Wales' mixed Omicron–Delta epidemic, Dec 2021–Feb 2022): 0–14 takes "
            "0–39's, 60–64 40–69's, 65–79 and 80+ 70+'s; 15–59 (3.0) is an unverified "
            "interpolation between 0–39 and 40–69. No length of stay by age for mainland "
            "China's Dec 2022 wave or Hong Kong's fifth wave could be read; an older, less "
            "boosted population likely stays longer (see docs/forecast.md)",
        ),
    )
    icu_stay_days: tuple[float, ...] = field(
        default=_ages(8.0, 8.0, 8.0, 8.0, 8.0),
        metadata=_doc(
            "mean length of an ICU stay, by age of the patient",
            "days",
            "8 d (exponential) at every age, as in the model of mainland China's Omicron epidemic "
            "of Cai et al. (Modeling transmission of SARS-CoV-2 Omicron in China, Nat Med 2022; "
            "its published inputs leave ICU at 0.125 a day, to death or recovery, in all 14 age "
            "groups). Measured for Omicron elsewhere: a median of 5 d in unvaccinated critically "
            "ill adults (Los Angeles, Dec 2021–Jan 2022, BMJ Open Respir Res 2023). No ICU stay "
            "for mainland China's Dec 2022 wave or Hong Kong's fifth wave, nor one by age, could "
            "be read (was 10 d, cited as Hong Kong HA 2022 without a publication)",
        ),
    )
    onset_to_death_days: float = field(
        default=16.0,
        metadata=_doc(
            "mean delay from symptom onset (in the model, the start of infectiousness) to "
            "death, gamma with shape 2",
            "days",
            "calibrated, not measured: with it deaths in the Nantong demo world peak 12 days "
            "after fever-clinic visits, as in mainland China (China CDC, national report of 25 "
            "Jan 2023: visits peaked on 23 Dec 2022, deaths in hospital on 4 Jan 2023 at 4,273 "
            "a day; 12 d gave 10 days). Near the 15.71 d case-to-death mean fitted to the "
            "Omicron waves of six countries (Rodrigues & Helene, arXiv 2302.12790, 2023). No "
            "onset-to-death delay for mainland China or Hong Kong, nor one by age, could be read",
        ),
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
            if isinstance(f.default, tuple) and not isinstance(value, tuple):
                raise ValueError(f"{f.name}: need {N_AGES} values, one per age band")
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
        for name in ("hospital_stay_days", "icu_stay_days"):
            if min(getattr(self, name)) <= 0:
                raise ValueError(f"{name}: every stay must be positive")

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
