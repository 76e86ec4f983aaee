"""``lianfang resources`` as a user runs it, on a demo world of its own."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from lianfang.api.app import create_app
from lianfang.auth.choices import Role
from lianfang.config import Settings
from tests.cli.test_cli import lianfang, one_line_error
from tests.conftest import bearer, empty_database, seeded_engine
from tests.factories import VILLAGE

YANGKOU = "320623101"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = empty_database("sqlite", tmp_path_factory, name="resources_cli")
    seeded_engine(url).dispose()
    return url


def test_reserve_names_shortfalls_and_where_to_get_them(db: str) -> None:
    done = lianfang("resources", "reserve", "--area", YANGKOU, "--short", "--json", db=db)
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)["rows"]
    antivirals = [r for r in rows if r["item"] == "azvudine"]
    assert antivirals
    assert all(r["shortfall"] == r["target"] - r["balance"] > 0 for r in rows)
    assert all(r["nearest_source"]["surplus"] > 0 for r in antivirals)
    table = lianfang("resources", "reserve", "--area", YANGKOU, db=db)
    assert table.returncode == 0, table.stderr
    assert "洋口镇 物资储备" in table.stdout


def test_find_lists_places_nearest_first(db: str) -> None:
    done = lianfang("resources", "find", "ibuprofen", "--near", VILLAGE, "--json", db=db)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)["results"]
    assert found
    assert [f["km"] for f in found] == sorted(f["km"] for f in found)
    assert set(found[0]) >= {"name", "km", "reported_at", "stale"}
    unknown = lianfang("resources", "find", "aspirin", "--near", VILLAGE, db=db)
    assert "aspirin" in one_line_error(unknown)


def test_import_is_all_or_nothing(db: str, tmp_path: Path) -> None:
    good = tmp_path / "counts.csv"
    good.write_text("机构编码,物资,盘点数量\nTC-320623101,阿兹夫定,40\n", encoding="utf-8")
    dry = lianfang("resources", "import", str(good), "--dry-run", db=db)
    assert dry.returncode == 0, dry.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("机构编码,物资,盘点数量\nTC-320623101,阿兹夫定,40\nNOPE,阿兹夫定,1\n",
                   encoding="utf-8")  # fmt: skip
    refused = lianfang("resources", "import", str(bad), db=db)
    assert refused.returncode == 1
    assert "NOPE" in refused.stdout + refused.stderr
    assert (tmp_path / "bad.errors.xlsx").exists()
    before = json.loads(lianfang("resources", "reserve", "--area", YANGKOU, "--json", db=db).stdout)
    held = [r["balance"] for r in before["rows"]
            if r["item"] == "azvudine" and r["facility_type"] == "township_centre"]  # fmt: skip
    assert held != [40]  # neither the dry run nor the refused file wrote
    assert lianfang("resources", "import", str(good), db=db).returncode == 0
    after = json.loads(lianfang("resources", "reserve", "--area", YANGKOU, "--json", db=db).stdout)
    centre = [r["balance"] for r in after["rows"]
              if r["item"] == "azvudine" and r["facility_type"] == "township_centre"]  # fmt: skip
    assert centre == [40]


@pytest.mark.parametrize("kind", ["facilities", "capacity", "stock"])
@pytest.mark.parametrize("file_format", ["xlsx", "csv"])
def test_an_api_export_imports_again_unchanged(
    db: str, tmp_path: Path, kind: str, file_format: str
) -> None:
    with TestClient(create_app(Settings(database_url=db, jobs=False))) as client:
        answer = client.get(
            "/api/resources/export",
            params={"kind": kind, "area": YANGKOU, "format": file_format},
            headers=bearer(client, Role.district_operator),
        )
    assert answer.status_code == 200, answer.text
    exported = tmp_path / f"{kind}.{file_format}"
    exported.write_bytes(answer.content)
    done = lianfang("resources", "import", str(exported), db=db)
    assert done.returncode == 0, done.stderr
    found = re.search(r"(\d+) 行，新增 0，更新 0，未变 (\d+)", done.stdout)
    assert found is not None, done.stdout
    assert found.group(1) == found.group(2) != "0"
