"""``lianfang people`` as a user runs it: template → fill → import → export → coverage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook

from tests.cli.test_cli import lianfang, one_line_error
from tests.factories import VILLAGE, VILLAGE_2, id_number

TOWN = "320623001"
ZHOU, LI = id_number("19410305", 2), id_number("19500101", 3)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('people') / 'people.db'}"
    result = lianfang("init", db=url, env={"LIANFANG_ADMIN_PASSWORD": "pw-long-enough"})
    assert result.returncode == 0, result.stderr
    return url


def sheet(path: Path) -> list[list[str]]:
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    return [[str(c) for c in row] for row in rows]


def fill(template: Path, out: Path, rows: list[dict[str, str]]) -> None:
    """The template's first sheet with rows filled in under its headers."""
    headers = sheet(template)[0]
    with xlsxwriter.Workbook(str(out)) as book:
        page = book.add_worksheet()
        for c, header in enumerate(headers):
            page.write_string(0, c, header)
            for r, row in enumerate(rows, start=1):
                page.write_string(r, c, row.get(header, ""))


def test_template_import_export_coverage(db: str, tmp_path: Path) -> None:
    template = tmp_path / "template.xlsx"
    made = lianfang("people", "template", "-o", str(template), "--area", "320623001", db=db)
    assert made.returncode == 0, made.stderr
    listed = CalamineWorkbook.from_path(str(template)).get_sheet_by_name("村(居)名单").to_python()
    assert [str(row[3]) for row in listed[1:]][:2] == [VILLAGE, VILLAGE_2]  # 掘港街道's villages
    assert {row[1] for row in listed[1:]} == {"掘港街道"}
    filled = tmp_path / "people.xlsx"
    fill(template, filled, [
        {"姓名": "周玉兰", "身份证号": ZHOU, "联系电话": "13812345678", "村(居)代码": VILLAGE,
         "冠心病": "不稳定", "疫苗剂次": "1", "负责人": "王医生"},
        {"姓名": "李建国", "身份证号": LI, "村(居)代码": VILLAGE_2, "疫苗剂次": "3"},
    ])  # fmt: skip
    dry = lianfang("people", "import", str(filled), "--dry-run", db=db)
    assert dry.returncode == 0, dry.stderr
    assert "新增 2" in dry.stdout
    done = lianfang("people", "import", str(filled), db=db)
    assert done.returncode == 0, done.stderr
    assert "新增 2，更新 0" in done.stdout

    masked = tmp_path / "masked.xlsx"
    exported = lianfang("people", "export", "--area", TOWN, "-o", str(masked), db=db)
    assert exported.returncode == 0, exported.stderr
    rows = sheet(masked)
    ids = [row[rows[0].index("身份证号")] for row in rows[1:]]
    assert sorted(ids) == sorted(n[:6] + "*" * 11 + n[-1] for n in (ZHOU, LI))
    assert "出生日期" in rows[0]
    assert all(not row[rows[0].index("出生日期")] for row in rows[1:])
    reds = tmp_path / "reds.csv"
    args = ("people", "export", "--area", TOWN, "-o", str(reds), "--grade", "red")
    assert lianfang(*args, "--reveal", "--reason", "核对名单", db=db).returncode == 0
    text = reds.read_text(encoding="utf-8-sig")
    assert ZHOU in text
    assert "13812345678" in text
    assert LI not in text
    again = lianfang("people", "import", str(reds), db=db)
    assert "新增 0，更新 0，未变 1" in again.stdout
    found = tmp_path / "found.xlsx"
    searched = ("people", "export", "--area", TOWN, "-o", str(found), "--search", "李建国")
    assert lianfang(*searched, db=db).returncode == 0
    assert [r[0] for r in sheet(found)[1:]] == ["李建国"]  # the web's name search
    assert lianfang(*searched[:-1], "周玉兰", "--alert", db=db).returncode == 0
    assert sheet(found)[1:] == []  # and its open-alert filter: no alert was raised

    answer = lianfang("people", "coverage", "--area", TOWN, "--json", db=db)
    assert answer.returncode == 0, answer.stderr
    figures = json.loads(answer.stdout)
    assert figures["red"] == 1
    assert figures["total"] == 2
    in_charge = next(g for g in figures["guarantees"] if g["guarantee"] == "in_charge")
    assert in_charge["covered"] == 1
    with_people = {c["code"] for c in figures["children"] if c["total"]}
    assert with_people == {VILLAGE, VILLAGE_2}  # every village is listed, these have people
    assert all(c["code"].startswith(TOWN[:9]) for c in figures["children"])
    ranked = lianfang(
        "people", "coverage", "--area", "3206", "--level", "town", "--sort", "in_charge",
        "--json", db=db,
    )  # fmt: skip
    assert ranked.returncode == 0, ranked.stderr
    towns = json.loads(ranked.stdout)
    assert (towns["level"], towns["sort"], towns["descending"]) == ("town", "in_charge", True)
    gaps = [next(g["missing"] for g in c["guarantees"] if g["guarantee"] == "in_charge")
            for c in towns["children"]]  # fmt: skip
    assert gaps == sorted(gaps, reverse=True)
    assert len(towns["children"]) > 8  # every town of the city, not its counties
    table = lianfang("people", "coverage", "--area", TOWN, db=db)
    assert "有人管" in table.stdout
    assert "掘港街道" in table.stdout


def test_reveal_without_a_reason_is_refused(db: str, tmp_path: Path) -> None:
    out = tmp_path / "x.csv"
    result = lianfang("people", "export", "--area", TOWN, "-o", str(out), "--reveal", db=db)
    assert "理由" in one_line_error(result)
    assert not out.exists()


def test_an_invalid_file_writes_its_error_workbook_and_exits_1(db: str, tmp_path: Path) -> None:
    bad = ZHOU[:-1] + ("0" if ZHOU[-1] != "0" else "1")
    upload = tmp_path / "bad.csv"
    upload.write_text(
        f"姓名,身份证号,村(居)代码\n甲,{id_number('19400101', 1)},{VILLAGE}\n乙,{bad},{VILLAGE}\n",
        encoding="utf-8",
    )
    result = lianfang("people", "import", str(upload), db=db)
    assert result.returncode == 1
    assert "第 3 行「身份证号」" in result.stdout
    report = tmp_path / "bad.errors.xlsx"
    assert str(report) in result.stdout.replace("\n", "")
    flagged = [row for row in sheet(report) if bad in row]
    assert "身份证号" in flagged[0][0]
    one_line_error(result)
    masked = tmp_path / "after.csv"
    lianfang("people", "export", "--area", VILLAGE, "-o", str(masked), db=db)
    assert "\n甲," not in masked.read_text(encoding="utf-8-sig")  # nothing was written


def test_regrade_runs_on_a_short_area_code(db: str) -> None:
    result = lianfang("people", "regrade", "--area", "3206", db=db)
    assert result.returncode == 0, result.stderr
    assert "人等级变化" in result.stdout
    bad = lianfang("people", "regrade", "--area", "32x", db=db)
    assert "32x" in one_line_error(bad)


def test_errors_name_the_row_of_the_file_after_blank_rows(db: str, tmp_path: Path) -> None:
    bad = ZHOU[:-1] + ("0" if ZHOU[-1] != "0" else "1")
    upload = tmp_path / "gaps.csv"
    upload.write_text(
        f"姓名,身份证号,村(居)代码\n甲,{id_number('19400103', 1)},{VILLAGE}\n,,\n"
        f"乙,{bad},{VILLAGE}\n",
        encoding="utf-8",
    )
    result = lianfang("people", "import", str(upload), "--dry-run", db=db)
    assert result.returncode == 1
    assert "第 4 行「身份证号」" in result.stdout


def test_a_village_named_is_looked_up_in_the_area_given(db: str, tmp_path: Path) -> None:
    upload = tmp_path / "named.csv"
    number = id_number("19420202", 5)
    upload.write_text(f"姓名,身份证号,村(居)代码\n壬,{number},新桥村\n", encoding="utf-8")
    everywhere = lianfang("people", "import", str(upload), "--dry-run", db=db)
    assert everywhere.returncode == 1
    assert "「新桥村」在您的区域内有" in everywhere.stdout
    assert "如东县岔河镇新桥村委会（320623110211）" in everywhere.stdout.replace("\n", "")
    in_county = lianfang("people", "import", str(upload), "--area", "320623", db=db)
    assert in_county.returncode == 0, in_county.stdout + in_county.stderr
    out = tmp_path / "out.csv"
    args = ("people", "export", "--area", "320623110211", "-o", str(out), "--reveal")
    assert lianfang(*args, "--reason", "核对名单", db=db).returncode == 0
    assert number in out.read_text(encoding="utf-8-sig")
