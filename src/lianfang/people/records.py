"""From a person's typed inputs to every stored column: disease state, grade, guarantee flags."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from lianfang import timeutil
from lianfang.people import grading, guarantees, identity
from lianfang.people.choices import Condition, DiseaseState, Grade, GradeMethod
from lianfang.people.sheet import CONDITION_KEY

INPUT_KEYS = (
    "name", "phone", "area_code", "address", "living", "conditions", "vaccine_doses",
    "last_dose_on", "arrived_on", "groups", "followup_opt_in", "responsible_id", "kit_grade",
    "kit_on", "hospital", "hospital_capabilities",
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
) -> dict[str, Any]:
    """Every derived column of a person from their inputs (``INPUT_KEYS``) and record."""
    born = identity.birth_date(id_number)
    assert born is not None  # the sheet checked it
    age = identity.age_on(born, today)
    disease = disease_of(inputs["conditions"])
    ruled = grading.TABLE[
        grading.table_index_of(
            grading.age_band(age), disease, grading.vaccination_of(inputs["vaccine_doses"])
        )
    ]
    grade = override.grade if override else ruled.grade
    last_contact = timeutil.local(last_contact_at).date() if last_contact_at else None
    needed = guarantees.needed_capabilities(grade, inputs["conditions"], age)
    return {
        "sex": identity.sex_of(id_number),
        "birth_date": born,
        "disease": disease,
        "rule_grade": ruled.grade,
        "grade": grade,
        "grade_method": GradeMethod.manual if override else ruled.method,
        "graded_on": today,
        "override_reason": override.reason if override else None,
        "due_on": guarantees.due_on(grade, inputs["followup_opt_in"], last_contact, registered_on),
        "medicine_ok": guarantees.medicine_ok(grade, inputs["kit_grade"]),
        "treatment_ok": guarantees.treatment_ok(
            inputs["hospital"], inputs["hospital_capabilities"], needed
        ),
    }
