"""Risk grade of a key person: the rules of the Dec 2022 notices first, a score as fallback.

Rules (first match wins; age in whole years on the day of grading):

=========  ==================================================================
green      age < 80 and no underlying disease; age < 80, stable and fully vaccinated
yellow     age < 65, unstable, fully vaccinated; 65–79, stable, not fully vaccinated;
           age ≥ 80, no or stable disease, fully vaccinated
red        age < 65, unstable, not fully vaccinated; 65–79, unstable; age ≥ 80, not fully
           vaccinated
=========  ==================================================================

Score (when no rule places someone): age (<65: 0, 65–79: 1, ≥80: 2) + disease (none 0,
stable 1, unstable 2) + vaccination (full 0, incomplete 1, none 2); 0–1 green, 2–3 yellow,
4–6 red.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from lianfang.i18n import Text, _
from lianfang.people.choices import DiseaseState, Grade, GradeMethod, Vaccination

FULL_DOSES = 3
"""Doses that count as fully vaccinated: the primary series plus the booster the Nov 2022
campaign for the elderly asked for (全程接种并加强免疫)."""

AGE_BANDS = ("<65", "65–79", "≥80")
BAND_STARTS = (65, 80)  # the ages at which the second and third bands begin
DISEASES = (DiseaseState.none, DiseaseState.stable, DiseaseState.unstable)
VACCINATIONS = (Vaccination.full, Vaccination.incomplete, Vaccination.none)
GRADES = (Grade.red, Grade.yellow, Grade.green)


@dataclass(frozen=True)
class Grading:
    """A grade with how it was reached and why."""

    grade: Grade
    method: GradeMethod
    text: Text

    @property
    def zh(self) -> str:
        """Why, in Chinese."""
        return self.text.in_language("zh")

    @property
    def en(self) -> str:
        """Why, in English."""
        return self.text.in_language("en")


def age_band(age: int) -> int:
    """0 for under 65, 1 for 65–79, 2 for 80 and over."""
    return sum(age >= start for start in BAND_STARTS)


def vaccination_of(doses: int) -> Vaccination:
    """Vaccination status from the number of doses received."""
    return (
        Vaccination.full
        if doses >= FULL_DOSES
        else Vaccination.none
        if doses == 0
        else (Vaccination.incomplete)
    )


def _rule(band: int, disease: DiseaseState, vaccination: Vaccination) -> Grade | None:
    full = vaccination is Vaccination.full
    if band < 2 and (disease is DiseaseState.none or (disease is DiseaseState.stable and full)):
        return Grade.green
    if band == 0 and disease is DiseaseState.unstable:
        return Grade.yellow if full else Grade.red
    if band == 1:
        return Grade.red if disease is DiseaseState.unstable else Grade.yellow
    if band == 2 and not full:
        return Grade.red
    if band == 2 and disease is not DiseaseState.unstable:
        return Grade.yellow
    return None


def score(band: int, disease: DiseaseState, vaccination: Vaccination) -> int:
    """The fallback score, 0–6."""
    return band + DISEASES.index(disease) + VACCINATIONS.index(vaccination)


def grade(band: int, disease: DiseaseState, vaccination: Vaccination) -> Grading:
    """The grade of one person by the rules, or by the score when no rule applies."""
    facts = _(
        "age %(band)s, disease %(disease)s, %(vaccination)s",
        band=AGE_BANDS[band],
        disease=disease.text,
        vaccination=vaccination.text,
    )
    ruled = _rule(band, disease, vaccination)
    if ruled is not None:
        return Grading(ruled, GradeMethod.rule, _("rule: %(facts)s", facts=facts))
    points = score(band, disease, vaccination)
    graded = Grade.green if points <= 1 else Grade.yellow if points <= 3 else Grade.red
    return Grading(
        graded, GradeMethod.score, _("score %(points)s: %(facts)s", points=points, facts=facts)
    )


TABLE: tuple[Grading, ...] = tuple(
    grade(b, d, v) for b in range(3) for d in DISEASES for v in VACCINATIONS
)
"""Every combination, indexed by ``band * 9 + disease * 3 + vaccination``."""


def table_index(
    bands: npt.NDArray[np.int64],
    diseases: npt.NDArray[np.int64],
    vaccinations: npt.NDArray[np.int64],
) -> npt.NDArray[np.int64]:
    """Indices into ``TABLE`` for many people at once."""
    return bands * 9 + diseases * 3 + vaccinations


def table_index_of(band: int, disease: DiseaseState, vaccination: Vaccination) -> int:
    """The index into ``TABLE`` of one combination."""
    return band * 9 + DISEASES.index(disease) * 3 + VACCINATIONS.index(vaccination)
