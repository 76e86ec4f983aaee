"""``lianfang duty`` as a user runs it, on a demo world of its own: a roster imported (a bad file
refused with its error workbook, nothing written), who is on duty tonight, the export."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lianfang.demo import story
from lianfang.duty.sheet import SPEC
from lianfang.io import sheets
from tests.cli.test_cli import lianfang, one_line_error
from tests.conftest import empty_database, seeded_engine
from tests.factories import TOWN, VILLAGE

HEADERS = "区划代码,日期,班次,岗位,姓名,电话"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = empty_database("sqlite", tmp_path_factory, name="duty_cli")
    seeded_engine(url).dispose()
    return url


def test_import_now_and_export(db: str, tmp_path: Path) -> None:
    day = story.TODAY.isoformat()
    bad = tmp_path / "bad.csv"
    bad.write_text(f"{HEADERS}\n{TOWN},{day},夜班,带班领导,陈建国,13912340001\n"
                   f"{TOWN},{day},夜班,带班领导,李四,13912340002\n", encoding="utf-8")  # fmt: skip
    refused = lianfang("duty", "import", str(bad), db=db)
    assert refused.returncode == 1
    assert "陈建国" in refused.stdout  # row 3 names the leader already on row 2
    assert (tmp_path / "bad.errors.xlsx").exists()
    nobody = lianfang("duty", "now", "--area", VILLAGE, "--tonight", "--json", db=db)
    assert json.loads(nobody.stdout)["shifts"] == []  # the refused file wrote nothing
    good = tmp_path / "good.csv"
    good.write_text(f"{HEADERS}\n{TOWN},{day},夜班,带班领导,陈建国,13912340001\n"
                    f"{TOWN},{day},夜班,值班员,李四,13912340002\n", encoding="utf-8")  # fmt: skip
    dry = lianfang("duty", "import", str(good), "--dry-run", db=db)
    assert dry.returncode == 0, dry.stderr
    assert lianfang("duty", "import", str(good), db=db).returncode == 0
    tonight = lianfang("duty", "now", "--area", VILLAGE, "--tonight", "--json", db=db)
    found = json.loads(tonight.stdout)
    assert (found["fallback"], found["source_code"]) == (True, TOWN)
    assert [s["name"] for s in found["shifts"]] == ["陈建国", "李四"]
    table = lianfang("duty", "now", "--area", TOWN, "--tonight", db=db)
    assert "带班领导  陈建国  13912340001" in table.stdout
    out = tmp_path / "roster.xlsx"
    done = lianfang("duty", "export", "--area", TOWN[:9], "--from", day, "--to", day, "-o",
                    str(out), db=db)  # fmt: skip
    assert done.returncode == 0, done.stderr
    exported = sheets.read(out.read_bytes(), out.name, SPEC)
    assert exported.values("name") == ["陈建国", "李四"]
    wrong = lianfang("duty", "export", "--area", TOWN, "--from", "x", "--to", day, "-o",
                     str(out), db=db)  # fmt: skip
    assert "YYYY-MM-DD" in one_line_error(wrong)
