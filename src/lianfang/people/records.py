"""From a person's typed inputs to every stored column: disease state, grade, guarantee flags."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from lianfang import timeutil
from lianfang.people import grading, guarantees, identity
from lianfang.people.choices import Condition, DiseaseState, Grade, GradeMethod, Sex
from lianfang.people.sheet import CONDITION_KEY

INPUT_KEYS = (
    "name", "phone", "area_code", "address", "living", "conditions", "vaccine_doses",
    "last_dose_on", "arrived_on", "groups", "followup_opt_in", "responsible_id", "kit_grade",
    "kit_on", "hospital_id",
)  # fmt: skip
"""Columns a sheet or form sets; everything else on a person is derived or recorded."""


def conditions_of(values: dict[str, Any]) -> dict[Condition, DiseaseState]:
    """The conditions named in a row's per-condition cells."""
    out = {}
    for condition in Condition:
        state = values.get(CONDITION_KEY + condition.value, DiseaseState.none)
        if state is not DiseaseState.none:
            out[condition] = state
    return out


def disease_of(conditions: dict[Condition, DiseaseState]) -> DiseaseState:
    """All conditions taken together: unstable if any is, stable if any, else none."""
    states = set(conditions.values())
    if DiseaseState.unstable in states:
        return DiseaseState.unstable
    return DiseaseState.stable if states else DiseaseState.none


def age_class(age: int) -> int:
    """What a grade and its guarantees need of an age: the grading band (under 65, 65–79, 80
    and over) and whether a children's ward is needed. People of one class grade alike."""
    return grading.age_band(age) * 2 + (age < guarantees.CHILD_AGE)


def age_class_codes(ages: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """``age_class`` of many ages at once."""
    band = np.searchsorted(np.array(grading.BAND_STARTS), ages, side="right")
    return np.asarray(band * 2 + (ages < guarantees.CHILD_AGE), dtype=np.int64)


def ages_on(born: npt.NDArray[np.datetime64], day: date) -> npt.NDArray[np.int64]:
    """Ages in whole years on a day of many birth dates at once (as ``identity.age_on``)."""
    years = born.astype("datetime64[Y]").astype(np.int64) + 1970
    months = born.astype("datetime64[M]").astype(np.int64) % 12 + 1
    days = (born - born.astype("datetime64[M]")).astype(np.int64) + 1
    before = months * 100 + days > day.month * 100 + day.day
    return np.asarray(day.year - years - before, dtype=np.int64)


@dataclass(frozen=True)
class Override:
    """A manual grade that stands until it is removed."""

    grade: Grade
    reason: str


def derive(
    inputs: dict[str, Any],
    *,
    id_number: str,
    registered_on: date,
    last_contact_at: datetime | None,
    override: Override | None,
    today: date,
    hospitals: Mapping[int, guarantees.Hospital] | None = None,
) -> dict[str, Any]:
    """Every derived column of a person from their inputs (``INPUT_KEYS``) and record
    (``hospitals`` holds the designated hospital, when there is one)."""
    return Deriver(today, hospitals).derive(
        inputs, id_number=id_number, registered_on=registered_on,
        last_contact_at=last_contact_at, override=override,
    )  # fmt: skip


class Deriver:
    """``derive`` for many people on one day: the grade and flags, which depend on a few inputs
    (age, conditions, doses, kit, hospital, last contact), are computed once per distinct
    combination — which keeps city-scale imports fast. Every person still gets every column."""

    def __init__(
        self, today: date, hospitals: Mapping[int, guarantees.Hospital] | None = None
    ) -> None:
        self.today = today
        self.hospitals: Mapping[int, guarantees.Hospital] = hospitals or {}
        self.born: dict[str, tuple[date, int, Sex]] = {}
        self.graded: dict[tuple[Any, ...], dict[str, Any]] = {}

    def derive(
        self, inputs: dict[str, Any], *, id_number: str, registered_on: date,
        last_contact_at: datetime | None, override: Override | None,
    ) -> dict[str, Any]:  # fmt: skip
        """Like ``derive``."""
        return self.row(
            id_number, inputs["conditions"], inputs["vaccine_doses"], inputs["followup_opt_in"],
            inputs["kit_grade"], inputs["hospital_id"], registered_on, last_contact_at,
            override,
        )  # fmt: skip

    def row(
        self, id_number: str, conditions: dict[Condition, DiseaseState], doses: int,
        opted_in: bool, kit: Grade | None, hospital_id: int | None, registered_on: date,
        last_contact_at: datetime | None, override: Override | None,
    ) -> dict[str, Any]:  # fmt: skip
        """``derive`` from the inputs it depends on, given one by one."""
        born, _, sex = self.born_of(id_number)
        found = self.graded_row(
            id_number, conditions, doses, opted_in, kit, hospital_id, registered_on,
            last_contact_at, override,
        )  # fmt: skip
        return {"sex": sex, "birth_date": born} | found

    def graded_row(
        self, id_number: str, conditions: dict[Condition, DiseaseState], doses: int,
        opted_in: bool, kit: Grade | None, hospital_id: int | None, registered_on: date,
        last_contact_at: datetime | None, override: Override | None, age: int | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """The grade and guarantee columns (shared, not to be changed) of one person (``age``
        today, when known, saves reading it from the ID number)."""
        age = self.born_of(id_number)[1] if age is None else age
        last_contact = timeutil.local(last_contact_at).date() if last_contact_at else None
        key = (
            age_class(age), tuple(conditions.items()), doses, opted_in, kit, hospital_id,
            last_contact, registered_on, override,
        )  # fmt: skip
        found = self.graded.get(key)
        if found is None:
            found = self.graded[key] = self._grade(age, key, conditions)
        return found

    def born_of(self, id_number: str) -> tuple[date, int, Sex]:
        """Birth date, age today and sex written in an ID number (checked already)."""
        key = id_number[6:14] + id_number[16]
        found = self.born.get(key)
        if found is None:
            born = identity.birth_date(id_number)
            assert born is not None  # the sheet checked it
            found = self.born[key] = (born, identity.age_on(born, self.today),
                                      identity.sex_of(id_number))  # fmt: skip
        return found

    def _grade(
        self, age: int, key: tuple[Any, ...], conditions: dict[Condition, DiseaseState]
    ) -> dict[str, Any]:
        _, _, doses, opted_in, kit, hospital_id, last_contact, registered, override = key
        disease = disease_of(conditions)
        ruled = grading.TABLE[
            grading.table_index_of(grading.age_band(age), disease, grading.vaccination_of(doses))
        ]
        grade = override.grade if override else ruled.grade
        needed = guarantees.needed_capabilities(conditions, age)
        hospital = self.hospitals.get(hospital_id) if hospital_id is not None else None
        return {
            "disease": disease,
            "rule_grade": ruled.grade,
            "grade": grade,
            "grade_method": GradeMethod.manual if override else ruled.method,
            "graded_on": self.today,
            "override_reason": override.reason if override else None,
            "due_on": guarantees.due_on(grade, opted_in, last_contact, registered),
            "medicine_ok": guarantees.medicine_ok(grade, kit),
            "treatment_ok": guarantees.treatment_ok(hospital, needed),
        }
