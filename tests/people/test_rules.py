"""ID numbers, masking, the grading rules and the four guarantees, without a database."""

from __future__ import annotations

import random
from datetime import date

import numpy as np
import pyarrow as pa
import pytest

from lianfang import pii
from lianfang.i18n import Text, _
from lianfang.people import grading, guarantees, identity, records
from lianfang.people.choices import (
    Capability,
    Condition,
    DiseaseState,
    Grade,
    GradeMethod,
    Sex,
    Vaccination,
)
from tests.factories import id_number

NONE, STABLE, UNSTABLE = DiseaseState.none, DiseaseState.stable, DiseaseState.unstable
FULL, PART, NO = Vaccination.full, Vaccination.incomplete, Vaccination.none


def both(text: Text | None) -> tuple[str, str]:
    """A message in Chinese and in English."""
    assert text is not None
    return text.in_language("zh"), text.in_language("en")


def test_gb11643_check_digit_of_a_published_example() -> None:
    # The standard's own example: 11010519491231002X.
    assert identity.check_digit("11010519491231002") == "X"
    assert identity.id_problem("11010519491231002X") is None
    assert both(identity.id_problem("110105194912310021")) == (
        "校验码不符",
        "the check digit does not match",
    )


def test_id_problems_name_what_is_wrong() -> None:
    assert both(identity.id_problem("1101051949123100"))[1].startswith("must be 18")
    body = "32062319410230001"  # 30 February
    assert both(identity.id_problem(body + identity.check_digit(body))) == (
        "出生日期无效",
        "the birth date in it is not a real date",
    )


def test_birth_dates_in_ids_lie_between_1900_and_today() -> None:
    today = date(2023, 1, 5)
    late, early = id_number("20300101", 1), id_number("00010101", 1)
    assert both(identity.id_problem(late, today)) == (
        "出生日期 2030-01-01 在未来",
        "the birth date 2030-01-01 is in the future",
    )
    assert both(identity.id_problem(early, today)) == (
        "出生日期 0001-01-01 早于 1900-01-01",
        "the birth date 0001-01-01 is before 1900-01-01",
    )
    edges = [id_number("19000101", 1), id_number("20230105", 1), id_number("18991231", 1),
             id_number("20230106", 1)]  # fmt: skip
    assert [identity.id_problem(n, today) is None for n in edges] == [True, True, False, False]
    read = identity.read_ids(pa.array([late, early, *edges]), today)
    assert read.valid.tolist() == [False, False, True, True, False, False]
    assert np.isnat(read.born[[0, 1, 4, 5]]).all()


def test_column_check_of_ids_agrees_with_the_scalar_one() -> None:
    rng = random.Random(7)
    born = [
        f"{rng.randrange(1900, 2030)}{rng.randrange(0, 14):02d}{rng.randrange(0, 33):02d}"
        for _ in range(3000)
    ]
    numbers = [id_number(day, rng.randrange(1000)) for day in born]
    numbers += [n[:-1] + rng.choice("0123456789X") for n in numbers[:500]]  # check digit
    numbers += [id_number("20000229", 5), id_number("19000229", 5), id_number("20240229", 5)]
    numbers += [
        "",
        "abc",
        "3206231941030500x1",
        "32062319410305002",
        "三二〇六二三一九四一〇三〇五〇〇二X",
    ]
    read = identity.read_ids(pa.array(numbers))
    for index, number in enumerate(numbers):
        assert read.valid[index] == (identity.id_problem(number) is None), number
        if read.valid[index]:
            assert read.born[index].item() == identity.birth_date(number)
            assert read.male[index] == (identity.sex_of(number) is Sex.male)
    assert read.valid.sum() > 1000
    assert (~read.valid).sum() > 1000
    valid = [n for n, ok in zip(numbers, read.valid, strict=True) if ok]
    by_key = [numbers[i] for i in np.argsort(read.order, kind="stable") if read.valid[i]]
    assert by_key == sorted(valid)  # the order key sorts numbers as their text does
    assert (read.order[~read.valid] == -1).all()


def test_ages_and_age_classes_of_columns_agree_with_the_scalar_ones() -> None:
    born = [date(1940, 2, 29), date(1941, 3, 5), date(1958, 12, 31), date(2012, 6, 1)]
    days = [date(2023, 2, 28), date(2023, 3, 1), date(2023, 3, 5), date(2024, 12, 31)]
    for day in days:
        ages = records.ages_on(np.array(born, dtype="datetime64[D]"), day)
        assert ages.tolist() == [identity.age_on(b, day) for b in born]
    ages = np.arange(0, 110)
    assert records.age_class_codes(ages).tolist() == [records.age_class(int(a)) for a in ages]


def test_sex_birth_and_age_from_the_id() -> None:
    number = id_number("19410305", 2)
    assert identity.birth_date(number) == date(1941, 3, 5)
    assert identity.sex_of(number) is Sex.female
    assert identity.sex_of(id_number("19410305", 3)) is Sex.male
    assert identity.age_on(date(1941, 3, 5), date(2023, 3, 4)) == 81
    assert identity.age_on(date(1941, 3, 5), date(2023, 3, 5)) == 82


def test_masking_shows_the_area_and_check_character_and_phone_ends() -> None:
    assert identity.mask_id("11010519491231002X") == "110105***********X"
    assert identity.mask_phone("13812345678") == "138****5678"
    assert identity.is_masked("138****5678")


def test_scrub_masks_numbers_in_any_text() -> None:
    text = (
        "Key (id_number)=(11010519491231002x) already exists; phone 13812345678, "
        "landline 0513-85123456, area 320623001001, run 20260101120000123456789"
    )
    assert pii.scrub(text) == (
        "Key (id_number)=(110105***********x) already exists; phone 138****5678, "
        "landline 051****3456, area 320623001001, run 20260101120000123456789"
    )


@pytest.mark.parametrize(
    ("phone", "ok"),
    [("13812345678", True), ("0513-83512345", True), ("051383512345", True), ("12812345678", False),
     ("1381234567", False), ("13812345678x", False)],
)  # fmt: skip
def test_phone_formats(phone: str, ok: bool) -> None:
    assert identity.phone_ok(identity.normalise_phone(phone)) is ok


@pytest.mark.parametrize(
    ("band", "disease", "vaccination", "grade", "method"),
    [
        (0, NONE, NO, Grade.green, GradeMethod.rule),       # <80, no disease
        (1, NONE, NO, Grade.green, GradeMethod.rule),
        (1, STABLE, FULL, Grade.green, GradeMethod.rule),   # <80, stable, fully vaccinated
        (0, UNSTABLE, FULL, Grade.yellow, GradeMethod.rule),
        (1, STABLE, PART, Grade.yellow, GradeMethod.rule),
        (2, NONE, FULL, Grade.yellow, GradeMethod.rule),
        (2, STABLE, FULL, Grade.yellow, GradeMethod.rule),
        (0, UNSTABLE, PART, Grade.red, GradeMethod.rule),
        (1, UNSTABLE, FULL, Grade.red, GradeMethod.rule),
        (2, NONE, PART, Grade.red, GradeMethod.rule),
        (0, STABLE, PART, Grade.yellow, GradeMethod.score),  # no rule: 0 + 1 + 1 = 2
        (0, STABLE, NO, Grade.yellow, GradeMethod.score),    # 0 + 1 + 2 = 3
        (2, UNSTABLE, FULL, Grade.red, GradeMethod.score),   # 2 + 2 + 0 = 4
    ],
)  # fmt: skip
def test_grade_rules_then_score(
    band: int, disease: DiseaseState, vaccination: Vaccination, grade: Grade, method: GradeMethod
) -> None:
    graded = grading.grade(band, disease, vaccination)
    assert (graded.grade, graded.method) == (grade, method)
    assert graded.zh
    assert graded.en


# The rules of DESIGN.md written out by hand for all 27 combinations: grade, then "r" when a
# rule places the person or the score when none does. Columns: fully vaccinated, incomplete,
# none.
BY_HAND = {
    (0, NONE): ("green r", "green r", "green r"),  # < 80, no disease
    (0, STABLE): ("green r", "yellow 2", "yellow 3"),  # < 80, stable, full; else no rule
    (0, UNSTABLE): ("yellow r", "red r", "red r"),  # < 65, unstable: full yellow, else red
    (1, NONE): ("green r", "green r", "green r"),
    (1, STABLE): ("green r", "yellow r", "yellow r"),  # 65–79, stable, not full: yellow
    (1, UNSTABLE): ("red r", "red r", "red r"),  # 65–79, unstable: red
    (2, NONE): ("yellow r", "red r", "red r"),  # ≥ 80: full yellow, else red
    (2, STABLE): ("yellow r", "red r", "red r"),
    (2, UNSTABLE): ("red 4", "red r", "red r"),  # ≥ 80, unstable, full: no rule, 2 + 2 + 0
}


def test_the_table_holds_the_rules_written_out_by_hand() -> None:
    assert len(grading.TABLE) == 27
    for (band, disease), row in BY_HAND.items():
        for vaccination, expected in zip((FULL, PART, NO), row, strict=True):
            graded = grading.TABLE[grading.table_index_of(band, disease, vaccination)]
            colour, how = expected.split()
            assert graded.grade is Grade(colour), (band, disease, vaccination)
            if how == "r":
                assert graded.method is GradeMethod.rule, (band, disease, vaccination)
            else:
                assert graded.method is GradeMethod.score, (band, disease, vaccination)
                assert graded.en.startswith(f"score {how}:"), graded.en
    bands, diseases, vaccinations = (np.array([2, 0]), np.array([2, 1]), np.array([0, 2]))
    indices = grading.table_index(bands, diseases, vaccinations)
    assert [grading.TABLE[i].grade for i in indices] == [Grade.red, Grade.yellow]


def test_vaccination_from_doses() -> None:
    assert [grading.vaccination_of(n) for n in (0, 1, 2, 3, 4)] == [NO, PART, PART, FULL, FULL]


def test_check_in_intervals_and_due_dates() -> None:
    registered = date(2023, 1, 2)
    assert guarantees.due_on(Grade.red, False, None, registered) == date(2023, 1, 3)
    assert guarantees.due_on(Grade.yellow, False, date(2023, 1, 5), registered) == date(2023, 1, 8)
    assert guarantees.due_on(Grade.green, False, None, registered) is None
    assert guarantees.due_on(Grade.green, True, None, registered) == date(2023, 1, 9)


# The rule of docs/people.md, written out by hand: (conditions, age) → what the designated
# hospital must be able to do. The grade asks for nothing by itself (no intensive care for red).
NEEDS_BY_HAND = [
    ({}, 70, {"general"}),
    ({Condition.kidney: UNSTABLE}, 82, {"general", "dialysis"}),
    ({Condition.pregnancy: UNSTABLE}, 30, {"general", "obstetrics"}),
    ({}, 13, {"general", "paediatrics"}),
    ({}, 14, {"general"}),
    ({Condition.kidney: UNSTABLE, Condition.pregnancy: UNSTABLE}, 13,
     {"general", "dialysis", "obstetrics", "paediatrics"}),
    ({Condition.copd: UNSTABLE, Condition.coronary: UNSTABLE}, 85, {"general"}),
]  # fmt: skip


@pytest.mark.parametrize(("conditions", "age", "needed"), NEEDS_BY_HAND)
def test_needed_capabilities_follow_the_notices(
    conditions: dict[Condition, DiseaseState], age: int, needed: set[str]
) -> None:
    assert {c.value for c in guarantees.needed_capabilities(conditions, age)} == needed


def _hospital(capabilities: frozenset[Capability], usable: bool = True) -> guarantees.Hospital:
    status = _("open") if usable else _("outbreak")
    return guarantees.Hospital(1, "县医院", capabilities, usable, status)


def test_treatment_needs_an_open_hospital_that_can_do_it() -> None:
    needed = guarantees.needed_capabilities({Condition.kidney: UNSTABLE}, 82)
    assert guarantees.kit_covers(Grade.red, Grade.yellow)
    assert not guarantees.kit_covers(Grade.yellow, Grade.red)
    assert guarantees.treatment_ok(_hospital(frozenset(Capability)), needed)
    assert not guarantees.treatment_ok(_hospital(frozenset({Capability.general})), needed)
    assert not guarantees.treatment_ok(_hospital(frozenset(Capability), usable=False), needed)
    assert not guarantees.treatment_ok(None, needed)
    facts = guarantees.Facts(
        grade=Grade.red, opted_in=False, responsible=None, last_contact=None, due=None,
        kit=None, kit_on=None, hospital=_hospital(frozenset(Capability), usable=False),
        needed=needed,
    )  # fmt: skip
    state = guarantees.states(facts, date(2023, 1, 5))[3]
    assert not state.met
    assert "does not count" in state.en


def test_states_say_why() -> None:
    facts = guarantees.Facts(
        grade=Grade.red, opted_in=False, responsible=None, last_contact=date(2023, 1, 1),
        due=date(2023, 1, 2), kit=Grade.yellow, kit_on=date(2022, 12, 30), hospital=None,
        needed=frozenset({Capability.general}),
    )  # fmt: skip
    states = guarantees.states(facts, date(2023, 1, 5))
    assert [s.met for s in states] == [False, False, False, False]
    assert "逾期 3 天" in states[1].zh
    assert "red kit needed" in states[2].en
