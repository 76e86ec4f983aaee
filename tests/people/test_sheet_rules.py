"""Sheet rules of a people import: unknown columns, ragged rows (a file cut off), what a blank
cell means on a re-import, the file's own row numbers, and CSV cells a spreadsheet would run."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date
from typing import Any

import pytest
import xlsxwriter
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lianfang.auth.choices import Role
from lianfang.auth.scope import SYSTEM
from lianfang.errors import ImportFileError
from lianfang.io import sheets, workbooks
from lianfang.people import exporting
from lianfang.people.choices import Condition, Grade
from lianfang.people.importing import Cleared, ImportResult, import_table
from lianfang.people.models import Person
from lianfang.people.service import PeopleFilter
from lianfang.people.sheet import SPEC
from tests.conftest import bearer
from tests.factories import VILLAGE, add_hospital, id_number, opening_kit

FULL = [c.zh for c in SPEC.importable]


def read(text: str, name: str = "people.csv") -> sheets.Table:
    return sheets.read(text.encode(), name, SPEC)


def imported(text: str, session: Session, dry_run: bool = False) -> ImportResult:
    return import_table(session=session, actor=SYSTEM, table=read(text), dry_run=dry_run)


def row(**cells: str) -> list[str]:
    """A full row of the people sheet, by Chinese header."""
    return [cells.get(header, "") for header in FULL]


def csv_text(rows: list[list[str]], headers: list[str] = FULL) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([headers, *rows])
    return out.getvalue()


def village_people(count: int) -> list[list[str]]:
    return [
        row(姓名=f"居民{i}", 身份证号=id_number("19400101", 2 * i + 1), 联系电话=f"1391234{i:04d}",
            **{"村(居)代码": VILLAGE, "住址": f"如东县掘港街道盐垣社区居委会{i}组13号",
               "冠心病": "稳定", "疫苗剂次": "3", "负责人": "王医生", "负责人电话": "13900001111"})
        for i in range(count)
    ]  # fmt: skip


def snapshot(session: Session) -> dict[str, tuple[Any, ...]]:
    people = session.scalars(select(Person).where(Person.area_code == VILLAGE)).all()
    for person in people:
        session.refresh(person)
    return {
        p.id_number: (p.name, p.address, p.responsible_id, p.vaccine_doses, p.grade, p.phone,
                      dict(p.conditions))
        for p in people
    }  # fmt: skip


def unmasked_csv(session: Session) -> bytes:
    data, _ = exporting.export(
        session=session, actor=SYSTEM, f=PeopleFilter(area=VILLAGE), file_format="csv",
        reveal=True, reason="核对导出与导入",
    )  # fmt: skip
    return data


def test_a_village_export_cut_at_half_its_bytes_writes_nothing(session: Session) -> None:
    imported(csv_text(village_people(48)), session)
    before = snapshot(session)
    assert len(before) == 48
    data = unmasked_csv(session)
    half = data[: len(data) // 2]
    with pytest.raises(ImportFileError):  # whatever the cut, nothing is written
        import_table(session=session, actor=SYSTEM, table=sheets.read(half, "v.csv", SPEC))
    whole_characters = half.decode("utf-8", errors="ignore").encode()
    records = list(csv.reader(io.StringIO(whole_characters.decode("utf-8-sig"))))
    last = len(records)  # the row a spreadsheet shows the cut-off record on
    assert 1 < len(records[-1]) < len(records[0])
    table = sheets.read(whole_characters, "v.csv", SPEC)
    with pytest.raises(ImportFileError) as caught:
        import_table(session=session, actor=SYSTEM, table=table)
    problems = {e.row: e.problem.in_language("zh") for e in caught.value.rows}
    assert problems[last] == (
        f"第 {last} 行有 {len(records[-1])} 个字段，表头有 {len(records[0])} 个（文件可能不完整）"
    )
    assert snapshot(session) == before


def test_a_file_cut_inside_a_character_is_named_incomplete() -> None:
    data = csv_text(village_people(2)).encode()
    cut = data[: data.index("盐".encode()) + 1]
    with pytest.raises(ImportFileError) as caught:
        sheets.read(cut, "v.csv", SPEC)
    assert "v.csv 在一个字符中间结束" in caught.value.message("zh")


def test_rows_with_more_fields_than_the_header_are_refused(session: Session) -> None:
    people = village_people(2)
    text = csv_text(people).rstrip("\n") + ",多余\n"
    with pytest.raises(ImportFileError) as caught:
        imported(text, session)
    assert [(e.row, e.problem.in_language("en")) for e in caught.value.rows] == [
        (3, f"row 3 has {len(FULL) + 1} fields, the header {len(FULL)} (is the file cut off?)")
    ]
    assert snapshot(session) == {}


@pytest.mark.parametrize(
    ("header", "named"),
    [("体温", "第 H 列「体温」不是模板中的列"),
     ("联系电话号", "第 H 列「联系电话号」不是模板中的列（是否应为「联系电话」？）"),
     ("姓名", "第 H 列「姓名」与第 A 列重复")],
)  # fmt: skip
def test_a_column_the_template_does_not_know_is_named(
    session: Session, header: str, named: str
) -> None:
    headers = ["姓名", "身份证号", "村(居)代码", "住址", "疫苗剂次", "负责人", "冠心病", header]
    body = f"甲,{id_number('19400101', 1)},{VILLAGE},,1,,,38.9\n"
    with pytest.raises(ImportFileError) as caught:
        imported(",".join(headers) + "\n" + body, session)
    assert named in caught.value.message("zh")
    assert "未写入任何数据" in caught.value.message("zh")
    assert session.scalar(select(func.count()).select_from(Person)) == 0


def test_data_under_no_header_is_refused_an_empty_column_is_not(session: Session) -> None:
    number = id_number("19400101", 1)
    with pytest.raises(ImportFileError) as caught:
        imported(f"姓名,身份证号,村(居)代码,\n甲,{number},{VILLAGE},38.9\n", session)
    assert "column D has data but no header" in caught.value.message("en")
    result = imported(f"姓名,身份证号,村(居)代码,\n甲,{number},{VILLAGE},\n", session)
    assert result.created == 1


def test_blank_keeps_clear_empties_and_the_dry_run_lists_what_it_empties(
    session: Session,
) -> None:
    first, second = village_people(2)
    imported(csv_text([first, second]), session)
    stored = snapshot(session)
    number = first[FULL.index("身份证号")]
    person_id = session.scalar(select(Person.id).where(Person.id_number == number))
    again = row(姓名="居民0", 身份证号=number, 联系电话="清空", **{"村(居)代码": VILLAGE})
    other = row(姓名="居民1", 身份证号=second[FULL.index("身份证号")], 冠心病="clear",
                负责人="CLEAR", 住址="清空", **{"村(居)代码": VILLAGE})  # fmt: skip
    text = csv_text([again, other])
    dry = imported(text, session, dry_run=True)
    assert snapshot(session) == stored
    other_id = session.scalar(select(Person.id).where(Person.id_number == other[1]))
    assert other_id is not None
    assert person_id is not None
    assert set(dry.cleared) == {
        Cleared(2, person_id, "phone", "联系电话"),
        Cleared(3, other_id, "address", "住址"),
        Cleared(3, other_id, "responsible", "负责人"),
        Cleared(3, other_id, f"condition_{Condition.coronary.value}", "冠心病"),
    }
    assert (dry.updated, dry.unchanged) == (2, 0)
    imported(text, session)
    after = snapshot(session)
    zero = stored[number]
    assert after[number] == (*zero[:5], "", zero[6])  # only the phone emptied
    one = after[other[1]]
    assert (one[1], one[2], one[6]) == ("", None, {})
    assert one[3] == 3  # blank doses kept
    assert imported(text, session).unchanged == 2  # emptying again empties nothing more
    assert imported(text, session, dry_run=True).cleared == []


def test_blank_cells_still_mean_the_defaults_for_a_new_person(session: Session) -> None:
    number = id_number("19400101", 7)
    result = imported(csv_text([row(姓名="新", 身份证号=number, 住址="清空",
                                    **{"村(居)代码": VILLAGE})]), session)  # fmt: skip
    assert (result.created, result.cleared) == (1, [])
    person = session.scalar(select(Person).where(Person.id_number == number))
    assert person is not None
    assert (person.address, person.vaccine_doses, dict(person.conditions)) == ("", 0, {})


def test_a_required_cell_cannot_be_cleared(session: Session) -> None:
    first = village_people(1)[0]
    imported(csv_text([first]), session)
    first[FULL.index("姓名")] = "清空"
    with pytest.raises(ImportFileError) as caught:
        imported(csv_text([first]), session)
    assert [(e.row, e.column) for e in caught.value.rows] == [(2, "姓名")]


def test_kits_are_issued_not_imported(session: Session) -> None:
    first = village_people(1)[0]
    first[FULL.index("药包类别")], first[FULL.index("药包发放日期")] = "黄色", "2022-12-20"
    with pytest.raises(ImportFileError) as caught:  # a new person's kit is not typed
        imported(csv_text([first]), session)
    assert [(e.row, e.column) for e in caught.value.rows] == [(2, "药包类别"), (2, "药包发放日期")]
    assert "issue kit" in caught.value.rows[0].problem.in_language("en")
    first[FULL.index("药包类别")], first[FULL.index("药包发放日期")] = "", ""
    imported(csv_text([first]), session)
    person = session.scalar(select(Person).where(Person.id_number == first[1]))
    assert person is not None
    opening_kit(session, person.id, "yellow", date(2022, 12, 20))
    first[FULL.index("药包类别")], first[FULL.index("药包发放日期")] = "黄色", "2022-12-20"
    assert imported(csv_text([first]), session).unchanged == 1  # as exported: accepted
    for kit, day in (("红色", "2022-12-20"), ("清空", "清空"), ("黄色", "2022-12-21")):
        first[FULL.index("药包类别")], first[FULL.index("药包发放日期")] = kit, day
        with pytest.raises(ImportFileError):  # any change is refused
            imported(csv_text([first]), session)
    assert (person.kit_grade, person.kit_on) == (Grade.yellow, date(2022, 12, 20))


def test_the_api_empties_a_field_sent_as_null(client: TestClient, session: Session) -> None:
    town = bearer(client, Role.town_operator)
    body = {"name": "周玉兰", "id_number": id_number("19410305", 2), "area_code": VILLAGE,
            "address": "3组5号", "phone": "13812345678"}  # fmt: skip
    person = client.post("/api/people", json=body, headers=town).json()
    answer = client.patch(f"/api/people/{person['id']}", json={"address": None}, headers=town)
    assert answer.status_code == 200, answer.text
    assert answer.json()["address"] == ""
    assert answer.json()["phone"] == "138****5678"


def invalid_after_a_blank_row() -> list[list[str]]:
    good = ["甲", id_number("19400101", 1), VILLAGE]
    bad = ["乙", id_number("19400102", 1)[:-1] + "Y", VILLAGE]
    return [good, ["", "", ""], bad]


def xlsx(rows: list[list[str]]) -> bytes:
    out = io.BytesIO()
    with xlsxwriter.Workbook(out, {"in_memory": True}) as book:
        page = book.add_worksheet()
        for r, cells in enumerate([["姓名", "身份证号", "村(居)代码"], *rows]):
            for c, value in enumerate(cells):
                if value:
                    page.write_string(r, c, value)
    return out.getvalue()


@pytest.mark.parametrize("form", ["csv", "xlsx", "gb18030.csv"])
def test_errors_name_the_files_own_row_numbers(session: Session, form: str) -> None:
    rows = invalid_after_a_blank_row()
    if form == "xlsx":
        data = xlsx(rows)
    else:
        encoding = "gb18030" if form.startswith("gb") else "utf-8"
        data = csv_text(rows, ["姓名", "身份证号", "村(居)代码"]).encode(encoding)
    table = sheets.read(data, f"people.{form}", SPEC)
    with pytest.raises(ImportFileError) as caught:
        import_table(session=session, actor=SYSTEM, table=table)
    assert [(e.row, e.column) for e in caught.value.rows] == [(4, "身份证号")]
    book = workbooks.errors(table, caught.value.rows)
    cells = sheets._xlsx_rows(book, "errors.xlsx")
    assert "身份证号" in cells[3][0]  # the error workbook keeps each row where it was
    assert cells[1][1] == "甲"
    assert not "".join(cells[2])


def test_repeats_are_named_by_the_files_row_numbers(session: Session) -> None:
    number = id_number("19400101", 1)
    text = f"姓名,身份证号,村(居)代码\n甲,{number},{VILLAGE}\n\n\n乙,{number},{VILLAGE}\n"
    with pytest.raises(ImportFileError) as caught:
        imported(text, session)
    assert [(e.row, e.problem.in_language("en")) for e in caught.value.rows] == [
        (5, "repeats row 2")
    ]


def test_the_api_names_the_files_row_numbers(client: TestClient) -> None:
    data = csv_text(invalid_after_a_blank_row(), ["姓名", "身份证号", "村(居)代码"]).encode()
    answer = client.post(
        "/api/people/import", files={"file": ("p.csv", data, "text/csv")},
        headers=bearer(client, Role.town_operator),
    )  # fmt: skip
    assert answer.status_code == 422, answer.text
    assert [d["row"] for d in answer.json()["detail"]] == [4]


RISKY = ['=HYPERLINK("http://x","y")', "+86 大街", "-3号楼", "@院", "'=已带引号"]


def test_csv_cells_a_spreadsheet_would_run_are_quoted_and_read_back() -> None:
    keys = ("name", "address", "id_number", "area_code")
    spec = sheets.SheetSpec("t", tuple(SPEC.column(k) for k in keys))
    cells = [*RISKY, "\t制表", "\r回车"]
    data = sheets.write_csv(spec, [[cell, "普通", "-1", "+2"] for cell in cells])
    written = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))[1:]
    assert [r[0] for r in written] == [
        "'" + c for c in [*RISKY, "\t制表", "\r回车"]
    ]  # fmt: skip
    assert [r[1:] for r in written] == [["普通", "'-1", "'+2"]] * 7
    back = sheets.read(data, "t.csv", SPEC)
    assert [r[0] for r in back.rows][:5] == RISKY
    slow = sheets.read(data.decode("utf-8-sig").encode("gb18030"), "t.csv", SPEC)
    assert [r[0] for r in slow.rows][:5] == RISKY
    assert [r[2:] for r in back.rows] == [["-1", "+2"]] * 7
    own = sheets.read("姓名,身份证号,村(居)代码\n'abc,1,2\n".encode(), "t.csv", SPEC)
    assert own.rows == [["'abc", "1", "2"]]  # a quote before ordinary text is the user's own


def test_an_export_with_formulas_imports_back_unchanged(session: Session) -> None:
    hospital = add_hospital(session, code="RISKY-1", name=RISKY[3])
    person = row(姓名=RISKY[0], 身份证号=id_number("19400101", 9), 住址=RISKY[1],
                 定点医院=RISKY[3], **{"村(居)代码": VILLAGE})  # fmt: skip
    imported(csv_text([person]), session)
    data = unmasked_csv(session)
    for quoted in (b"'=HYPERLINK", b"'+86", b"'@"):
        assert quoted in data
    again = import_table(session=session, actor=SYSTEM, table=sheets.read(data, "e.csv", SPEC))
    assert (again.updated, again.unchanged) == (0, 1)
    stored = session.scalar(select(Person).where(Person.id_number == person[1]))
    assert stored is not None
    assert (stored.name, stored.address, stored.hospital_id) == (RISKY[0], RISKY[1], hospital)


def test_workbooks_write_formulas_as_text(session: Session) -> None:
    person = row(姓名="=1+1", 身份证号="bad", **{"村(居)代码": VILLAGE})
    table = read(csv_text([person]))
    with pytest.raises(ImportFileError) as caught:
        import_table(session=session, actor=SYSTEM, table=table)
    for book in (workbooks.errors(table, caught.value.rows), workbooks.export(SPEC, [person])):
        with zipfile.ZipFile(io.BytesIO(book)) as archive:
            sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode()
        assert "<f>" not in sheet_xml
        assert "=1+1" in sheet_xml or "=1+1" in _shared_strings(book)


def _shared_strings(book: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(book)) as archive:
        names = archive.namelist()
        return (
            archive.read("xl/sharedStrings.xml").decode() if "xl/sharedStrings.xml" in names else ""
        )
