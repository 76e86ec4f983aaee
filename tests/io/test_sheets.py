"""Reading sheets: the fast column reader and the row-by-row one give the same table, whatever
the file's encoding, ragged rows, blank rows or quoting; parsing a column gives the same values
and problems whether a cell takes the fast path or its parser."""

from __future__ import annotations

import pyarrow as pa
import pytest

from lianfang.errors import ImportFileError
from lianfang.io import sheets, workbooks
from lianfang.people import sheet
from lianfang.people.sheet import SPEC
from tests.factories import VILLAGE, id_number

HEADERS = "姓名,身份证号,联系电话,村(居)代码,住址"
ROWS = [
    f"张三,{id_number('19500101', 1)},13963086669,{VILLAGE},3组5号",
    ",,,,",  # a row of empty cells, skipped
    f'\u3000李四 , {id_number("19420202", 2)} ,139 6308 6660,{VILLAGE},"多行\n地址"',
    "",
    f'王五,{id_number("19380303", 3)},+8613963086661,{VILLAGE},"有,逗号"',
]
CSV = "\n".join([HEADERS, *ROWS]) + "\n"


def cells(table: sheets.Table) -> list[list[str]]:
    return table.rows


def test_fast_and_row_by_row_readers_agree() -> None:
    fast = sheets.read(("\ufeff" + CSV).encode(), "people.csv", SPEC)
    legacy = sheets.read(CSV.encode("gb18030"), "people.csv", SPEC)  # not UTF-8: read by rows
    assert cells(fast) == cells(legacy)
    assert len(fast) == 3
    assert cells(fast)[1] == ["李四", id_number("19420202", 2), "139 6308 6660", VILLAGE,
                              "多行\n地址"]  # fmt: skip
    assert cells(fast)[2][4] == "有,逗号"
    assert fast.keys == legacy.keys == {
        "name": 0, "id_number": 1, "phone": 2, "area_code": 3, "address": 4,
    }  # fmt: skip


def test_a_file_without_quotes_reads_the_same() -> None:
    # No quote anywhere: Arrow splits the file at line breaks and parses the pieces in parallel.
    plain = "\n".join([HEADERS, ROWS[0], ROWS[1], f"赵六,{id_number('19360404', 4)},,{VILLAGE},"])
    fast = sheets.read(plain.encode(), "people.csv", SPEC)
    assert cells(fast) == cells(sheets.read(plain.encode("gb18030"), "people.csv", SPEC))
    assert [row[0] for row in cells(fast)] == ["张三", "赵六"]


def test_short_rows_are_padded_and_long_ones_cut_and_both_reported() -> None:
    ragged = (
        f"{HEADERS}\n张三,{id_number('19500101', 1)}\n赵六,{id_number('19500101', 3)},1,2,3,4,5\n"
    )
    table = sheets.read(ragged.encode(), "people.csv", SPEC)
    assert cells(table) == [
        ["张三", id_number("19500101", 1), "", "", ""],
        ["赵六", id_number("19500101", 3), "1", "2", "3"],
    ]
    assert [(p.row, p.column) for p in table.problems] == [(2, "联系电话"), (3, "F")]


def test_header_only_file_has_no_rows_and_empty_file_is_refused() -> None:
    assert len(sheets.read(HEADERS.encode(), "people.csv", SPEC)) == 0
    with pytest.raises(ImportFileError):
        sheets.read(b"", "people.csv", SPEC)


def test_workbook_reads_like_the_csv() -> None:
    fast = sheets.read(CSV.encode(), "people.csv", SPEC)
    spec = sheets.SheetSpec(SPEC.name, tuple(SPEC.column(k) for k in fast.keys))
    book = sheets.read(workbooks.export(spec, cells(fast)), "people.xlsx", SPEC)
    assert cells(book) == cells(fast)


def test_fast_path_and_parser_give_the_same_values_and_problems() -> None:
    phones = ["13963086669", "139 6308 6660", "+8613963086661", "0513-82001001", "", "12345",
              "138****5678", "１３９６３０８６６６９"]  # fmt: skip
    table = sheets.Table.of_rows("people.csv", ["联系电话", "姓名"],
                                 [[p, "名" * (i * 9)] for i, p in enumerate(phones)])  # fmt: skip
    table.keys = {"phone": 0, "name": 1}
    check = sheet.Checker(table)
    values = check.column("phone", table.array("phone") or pa.array([])).expanded()
    assert values[:5] == ["13963086669", "13963086660", "13963086661", "0513-82001001", ""]
    names = check.column("name", table.array("name") or pa.array([])).expanded()
    assert names[1] == "名" * 9
    problems = {(e.row, e.column) for e in check.errors}
    assert problems == {
        (7, "联系电话"),
        (8, "联系电话"),
        (9, "联系电话"),  # bad, masked, full-width
        (2, "姓名"),
        (8, "姓名"),
        (9, "姓名"),
    }  # blank; 63 and 72 characters


def test_a_phone_column_all_written_right_comes_back_as_written() -> None:
    phones = ["13963086669", "", "0513-82001001", "13963086660"]
    table = sheets.Table.of_rows("people.csv", ["联系电话"], [[p] for p in phones])
    table.keys = {"phone": 0}
    check = sheet.Checker(table)
    assert check.column("phone", table.array("phone") or pa.array([])) == phones
    assert check.errors == []
