"""Sheet imports: all rows checked, all-or-nothing, upsert by ID, history."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lianfang.auth.scope import SYSTEM
from lianfang.errors import ImportFileError
from lianfang.io import sheets
from lianfang.people import coverage
from lianfang.people.choices import DiseaseState, Grade, GradeMethod
from lianfang.people.importing import import_table
from lianfang.people.models import CoverageCell, GradeChange, Person, PersonChange
from lianfang.people.sheet import SPEC
from tests.factories import VILLAGE, VILLAGE_2, id_number

HEADER = "姓名,身份证号,联系电话,村(居)代码,冠心病,疫苗剂次,负责人\n"


def table(body: str, name: str = "people.csv") -> sheets.Table:
    return sheets.read((HEADER + body).encode(), name, SPEC)


def test_import_creates_grades_and_reimport_changes_nothing(session: Session) -> None:
    zhou = id_number("19410305", 2)
    body = f"周玉兰,{zhou},13812345678,{VILLAGE},不稳定,1,王医生\n"
    result = import_table(session=session, actor=SYSTEM, table=table(body))
    assert (result.created, result.updated) == (1, 0)
    person = session.scalar(select(Person).where(Person.id_number == zhou))
    assert person is not None
    assert person.grade is Grade.red
    assert person.grade_method is GradeMethod.rule
    assert person.disease is DiseaseState.unstable
    assert person.responsible_id is not None
    again = import_table(session=session, actor=SYSTEM, table=table(body))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)


def test_changed_row_updates_and_keeps_history(session: Session) -> None:
    number = id_number("19500101", 3)
    import_table(
        session=session, actor=SYSTEM, table=table(f"李建国,{number},,{VILLAGE},稳定,1,\n")
    )
    result = import_table(
        session=session, actor=SYSTEM, table=table(f"李建国,{number},,{VILLAGE},稳定,3,\n")
    )
    assert result.updated == 1
    person = session.scalar(select(Person).where(Person.id_number == number))
    assert person is not None
    assert person.grade is Grade.green
    changes = session.scalars(select(PersonChange).where(PersonChange.person_id == person.id)).all()
    assert len(changes) == 1
    assert "vaccine_doses" in changes[0].changes
    grades = session.scalars(select(GradeChange).where(GradeChange.person_id == person.id)).all()
    assert [(g.from_grade, g.to_grade) for g in grades] == [(Grade.yellow, Grade.green)]


def test_one_bad_row_writes_nothing_and_names_row_and_column(session: Session) -> None:
    good = id_number("19400101", 1)
    bad = id_number("19400102", 1)[:-1] + ("0" if id_number("19400102", 1)[-1] != "0" else "1")
    third = id_number("19400103")
    body = f"甲,{good},,{VILLAGE},,0,\n乙,{bad},,{VILLAGE},,0,\n丙,{third},,320623001,,0,\n"
    before = session.scalar(select(func.count()).select_from(Person))
    with pytest.raises(ImportFileError) as caught:
        import_table(session=session, actor=SYSTEM, table=table(body))
    problems = {(e.row, e.column) for e in caught.value.rows}
    assert problems == {(3, "身份证号"), (4, "村(居)代码")}
    assert session.scalar(select(func.count()).select_from(Person)) == before


def test_birth_dates_outside_1900_to_today_are_refused_naming_row_and_field(
    session: Session,
) -> None:
    future, ancient = id_number("20300101", 1), id_number("00010101", 1)
    sound = id_number("19400106", 1)
    header = "姓名,身份证号,出生日期,村(居)代码\n"
    body = (f"甲,{future},,{VILLAGE}\n乙,{ancient},,{VILLAGE}\n"
            f"丙,{sound},1899-12-31,{VILLAGE}\n")  # fmt: skip
    before = session.scalar(select(func.count()).select_from(Person))
    with pytest.raises(ImportFileError) as caught:
        import_table(
            session=session,
            actor=SYSTEM,
            table=sheets.read((header + body).encode(), "b.csv", SPEC),
        )
    problems = sorted((e.row, e.column, e.problem.in_language("en")) for e in caught.value.rows)
    assert problems == [
        (2, "身份证号", "the birth date 2030-01-01 is in the future"),
        (3, "身份证号", "the birth date 0001-01-01 is before 1900-01-01"),
        (4, "出生日期", "the birth date 1899-12-31 is before 1900-01-01"),
    ]
    assert session.scalar(select(func.count()).select_from(Person)) == before


def test_an_id_repeated_in_the_file_is_named_at_each_repeat(session: Session) -> None:
    once, twice = id_number("19400104", 1), id_number("19400105", 3)
    bad = twice[:-1] + ("0" if twice[-1] != "0" else "1")  # wrong check digit, also repeated
    rows = [once, twice, f"{twice[:3]} {twice[3:].lower()}", bad, bad, twice]  # spaces, lower x
    body = "".join(f"某{i},{n},,{VILLAGE},,0,\n" for i, n in enumerate(rows))
    with pytest.raises(ImportFileError) as caught:
        import_table(session=session, actor=SYSTEM, table=table(body))
    problems = sorted((e.row, e.column, e.problem.in_language("en")) for e in caught.value.rows)
    assert problems == [
        (4, "身份证号", "repeats row 3"),
        (5, "身份证号", "the check digit does not match"),
        (6, "身份证号", "the check digit does not match"),
        (7, "身份证号", "repeats row 3"),
    ]


def cells(session: Session) -> list[tuple[object, ...]]:
    rows = session.execute(
        select(*(getattr(CoverageCell, k) for k in coverage.STATE_KEYS), CoverageCell.persons)
    ).all()
    return sorted((tuple(r) for r in rows), key=repr)


def test_the_roll_up_after_imports_is_the_one_a_rebuild_gives(session: Session) -> None:
    first = [
        f"甲{i},{id_number(f'19{30 + i:02d}0101', 2 * i + 1)},,{village},"
        f"{'不稳定' if i % 3 else ''},{i % 4},{'王医生' if i % 2 else ''}\n"
        for i, village in enumerate([VILLAGE] * 6 + [VILLAGE_2] * 5)
    ]
    import_table(session=session, actor=SYSTEM, table=table("".join(first[:7])))
    # new people in villages that have some already, and one changed person
    changed = first[0].replace(",0,", ",3,")
    import_table(session=session, actor=SYSTEM, table=table("".join([changed, *first[7:]])))
    incremental = cells(session)
    coverage.refresh(session=session, villages=[VILLAGE, VILLAGE_2])
    assert incremental == cells(session)
    assert sum(row[-1] for row in incremental) >= 11  # type: ignore[misc]
