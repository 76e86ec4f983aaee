"""``lianfang briefing`` as a user runs it, on a demo world of its own."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pypdf
import pytest

from tests.cli.test_cli import lianfang, one_line_error
from tests.conftest import empty_database, seeded_engine

RUDONG = "320623"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = empty_database("sqlite", tmp_path_factory, name="briefing_cli")
    seeded_engine(url).dispose()
    return url


def test_the_briefing_is_written_as_each_kind_of_file(db: str, tmp_path: Path) -> None:
    pdf, book, page = tmp_path / "如东.pdf", tmp_path / "如东.xlsx", tmp_path / "如东.html"
    for path in (pdf, book, page):
        done = lianfang("briefing", "--area", RUDONG, "-o", str(path), db=db)
        assert done.returncode == 0, done.stderr
        assert str(path) in done.stdout.replace("\n", "")
    text = "".join(p.extract_text() for p in pypdf.PdfReader(pdf).pages)
    assert "如东县调度会材料" in text
    assert "洋口镇" in text
    sheet = openpyxl.load_workbook(book)["调度简报"]
    assert sheet.cell(row=5, column=1).value == "如东县"
    assert "床位使用率" in page.read_text(encoding="utf-8")


def test_a_wrong_suffix_or_date_is_one_line(db: str, tmp_path: Path) -> None:
    wrong = lianfang("briefing", "--area", RUDONG, "-o", str(tmp_path / "x.doc"), db=db)
    assert ".html、.xlsx 或 .pdf" in one_line_error(wrong)
    never = lianfang(
        "briefing", "--area", RUDONG, "--date", "2022-12-01", "-o", str(tmp_path / "x.pdf"), db=db
    )
    assert "没有存档数据" in one_line_error(never)
    bad = lianfang("briefing", "--area", RUDONG, "--date", "12/01", "-o", str(tmp_path / "x.pdf"),
                   db=db)  # fmt: skip
    assert "不是日期" in one_line_error(bad)
