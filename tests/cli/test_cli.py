"""The CLI as a user runs it: a real process, a real SQLite file, one-line errors."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lianfang.areas.models import Area
from lianfang.auth import service as auth
from lianfang.db.engine import make_engine, make_sessionmaker, transaction
from lianfang.demo import service as demo_service

ADMIN_PASSWORD = "cli-admin-password"


def lianfang(
    *args: str, db: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the installed command the way a user does."""
    environment = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", **(env or {})}
    environment.pop("LIANFANG_ADMIN_PASSWORD", None)
    environment.update(env or {})
    command = [sys.executable, "-m", "lianfang", *args, *(["--db", db] if db else [])]
    return subprocess.run(
        command, capture_output=True, text=True, env=environment, timeout=300, check=False
    )


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The error a failed command printed: exactly one line and no traceback."""
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('cli') / 'cli.db'}"
    result = lianfang("init", db=url, env={"LIANFANG_ADMIN_PASSWORD": ADMIN_PASSWORD})
    assert result.returncode == 0, result.stderr
    assert "LIANFANG_ADMIN_PASSWORD" in result.stdout
    return url


def test_init_loads_nantong_and_the_admin_can_sign_in(db: str) -> None:
    engine = make_engine(db)
    with transaction(make_sessionmaker(engine)) as session:
        assert session.scalar(select(func.count()).select_from(Area)) == 1 + 1 + 8 + 136 + 2005
        admin = auth.authenticate(
            session=session, username="admin", password=ADMIN_PASSWORD, ip=None
        )
        assert admin.area_code is None
    engine.dispose()
    again = lianfang("init", db=db)
    assert again.returncode == 0
    assert "admin" in again.stdout


def test_init_without_a_password_prints_a_random_one(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    result = lianfang("init", db=url)
    assert result.returncode == 0, result.stderr
    printed = result.stdout.split("一次性密码：")[1].split("（")[0].strip()
    assert len(printed) >= 12
    engine = make_engine(url)
    with transaction(make_sessionmaker(engine)) as session:
        auth.authenticate(session=session, username="admin", password=printed, ip=None)
    engine.dispose()


def test_areas_show_prints_the_tree_as_json(db: str) -> None:
    result = lianfang("areas", "show", "3206", "--json", db=db)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["area"]["name"] == "南通市"
    assert len(data["children"]) == 8
    assert data["counts"] == {"counties": 8, "towns": 136, "villages": 2005}
    table = lianfang("areas", "show", "320623", db=db)
    assert "掘港街道" in table.stdout


@pytest.mark.parametrize(
    ("args", "needle", "code"),
    [
        (("areas", "show", "99"), "99", 1),
        (("areas", "show", "3299"), "3299", 1),
        (("areas", "load"), "--city", 1),
        (("areas", "load", "--city", "3206", "--province", "32"), "--city", 1),
        (("areas", "load", "--city", "4403"), "--from", 1),
        (("areas", "load", "--city", "32"), "32", 1),
        (("user", "add", "nobody_area", "--role", "viewer"), "--area", 1),
        (("user", "add", "x", "--role", "king", "--area", "3206"), "king", 2),
    ],
)
def test_bad_input_gets_one_line(db: str, args: tuple[str, ...], needle: str, code: int) -> None:
    result = lianfang(*args, db=db)
    assert result.returncode == code
    if code == 1:
        assert needle in one_line_error(result)
    else:
        assert needle in result.stderr


def test_an_unreachable_database_is_one_line() -> None:
    result = lianfang("areas", "show", "3206", db="postgresql://u:pw@127.0.0.1:1/none")
    assert result.returncode == 3
    line = one_line_error(result)
    assert "127.0.0.1:1" in line
    assert "pw" not in line.replace("pw@", "")


def test_a_database_without_schema_says_run_init(tmp_path: Path) -> None:
    result = lianfang("areas", "show", "3206", db=f"sqlite:///{tmp_path / 'empty.db'}")
    assert result.returncode == 3
    assert "lianfang init" in one_line_error(result)


def test_a_bad_division_file_names_row_and_column_and_writes_nothing(
    db: str, tmp_path: Path
) -> None:
    (tmp_path / "cities.csv").write_text(
        'code,name,provinceCode\n3299,"虚构市",32\n', encoding="utf-8"
    )
    (tmp_path / "areas.csv").write_text(
        'code,name,cityCode,provinceCode\n329901,"甲区",3299,32\n32990X,"乙区",3299,32\n',
        encoding="utf-8",
    )
    result = lianfang("areas", "load", "--from", str(tmp_path), db=db)
    assert result.returncode == 1
    assert "areas.csv 第 3 行「code」列" in result.stderr
    assert "Traceback" not in result.stderr
    assert lianfang("areas", "show", "3299", db=db).returncode == 1


def test_another_city_loads_from_a_directory(db: str, tmp_path: Path) -> None:
    (tmp_path / "cities.csv").write_text(
        'code,name,provinceCode\n3299,"虚构市",32\n', encoding="utf-8"
    )
    (tmp_path / "areas.csv").write_text(
        'code,name,cityCode,provinceCode\n329901,"甲区",3299,32\n', encoding="utf-8"
    )
    (tmp_path / "streets.csv").write_text(
        'code,name,areaCode,provinceCode,cityCode\n329901001,"一街道",329901,32,3299\n',
        encoding="utf-8",
    )
    (tmp_path / "villages.csv").write_text(
        "code,name,streetCode,provinceCode,cityCode,areaCode\n"
        '329901001001,"一社区居委会",329901001,32,3299,329901\n',
        encoding="utf-8",
    )
    assert lianfang("areas", "load", "--from", str(tmp_path), db=db).returncode == 0
    shown = json.loads(lianfang("areas", "show", "3299", "--json", db=db).stdout)
    assert shown["counts"] == {"counties": 1, "towns": 1, "villages": 1}


def test_coordinates_import_checks_every_row(db: str, tmp_path: Path) -> None:
    bad = tmp_path / "coords.csv"
    bad.write_text("code,lon,lat\n320623001,121.2,32.3\n320623001001,121.2,95\n", encoding="utf-8")
    result = lianfang("areas", "import-coords", str(bad), db=db)
    assert "第 3 行「lat」列" in result.stderr
    assert result.returncode == 1
    good = tmp_path / "good.csv"
    good.write_text("code,lon,lat\n320623001,121.2,32.3\n", encoding="utf-8")
    assert lianfang("areas", "import-coords", str(good), db=db).returncode == 0
    shown = json.loads(lianfang("areas", "show", "320623001", "--json", db=db).stdout)
    assert (shown["area"]["lon"], shown["area"]["coord_source"]) == (121.2, "surveyed")


def test_population_import(db: str, tmp_path: Path) -> None:
    path = tmp_path / "pop.csv"
    path.write_text(
        "code,age_0_14,age_15_59,age_60_64,age_65_79,age_80_plus\n320623001001,100,500,80,200,60\n",
        encoding="utf-8",
    )
    assert lianfang("areas", "import-population", str(path), db=db).returncode == 0
    shown = json.loads(lianfang("areas", "show", "320623001001", "--json", db=db).stdout)
    assert shown["population"]["total"] == 940
    assert shown["population"]["sources"] == ["census"]


def test_users_are_added_and_listed(db: str) -> None:
    added = lianfang(
        "user", "add", "li_town", "--role", "town_operator", "--area", "320623001", db=db
    )
    assert added.returncode == 0, added.stderr
    assert "一次性密码" in added.stdout
    listed = json.loads(lianfang("user", "list", "--json", db=db).stdout)
    entry = next(u for u in listed if u["username"] == "li_town")
    assert (entry["role"], entry["area_code"]) == ("town_operator", "320623001000")
    assert (
        lianfang("user", "add", "li_town", "--role", "viewer", "--area", "3206", db=db).returncode
        == 1
    )


def test_whole_province_loads(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'js.db'}"
    assert lianfang("init", db=url).returncode == 0
    assert lianfang("areas", "load", "--province", "32", db=url).returncode == 0
    shown = json.loads(lianfang("areas", "show", "32", "--json", db=url).stdout)
    assert shown["counts"] == {"counties": 104, "towns": 1487, "villages": 21958}
    assert len(shown["children"]) == 13


def test_every_command_has_help() -> None:
    for args in (
        ("--help",),
        ("init", "--help"),
        ("demo", "--help"),
        ("serve", "--help"),
        ("areas", "load", "--help"),
        ("user", "add", "--help"),
    ):
        result = lianfang(*args)
        assert result.returncode == 0, args
        assert "Usage" in result.stdout


def test_the_console_script_is_installed() -> None:
    assert shutil.which("lianfang") or Path(sys.executable).with_name("lianfang").exists()


def test_users_are_disabled_and_enabled(db: str) -> None:
    assert (
        lianfang(
            "user",
            "add",
            "zhao_v",
            "--role",
            "viewer",
            "--area",
            "3206",
            "--password",
            "zhao-password-1",
            db=db,
        ).returncode
        == 0
    )
    assert lianfang("user", "disable", "zhao_v", db=db).returncode == 0
    listed = json.loads(lianfang("user", "list", "--json", db=db).stdout)
    assert next(u for u in listed if u["username"] == "zhao_v")["active"] is False
    assert lianfang("user", "enable", "zhao_v", db=db).returncode == 0
    assert "nobody" in one_line_error(lianfang("user", "disable", "nobody", db=db))


def _overdue(*args: str, db: str, env: dict[str, str] | None = None) -> tuple[str, int]:
    shown = lianfang("people", "coverage", "--area", "3206", "--json", *args, db=db, env=env)
    assert shown.returncode == 0, shown.stderr
    read = json.loads(shown.stdout)
    return read["as_of"], read["overdue"]


def test_demo_builds_records_itself_and_refuses_real_data(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    env = {"LIANFANG_ADMIN_PASSWORD": "demo-password-1"}
    # demo scale: the city scale generates 1.75M key people (minutes; see the people benchmarks)
    built = lianfang(
        "demo", "--no-serve", "--seed", "11", "--scale", "demo", "--today", "2023-01-10",
        db=url, env=env,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    assert "7,726,635" in built.stdout
    assert "重点人群（虚构）" in built.stdout
    assert "部署督办（虚构）：市级下达 4 项部署" in built.stdout.replace("\n", "")
    assert "值班表（虚构）：145 个地区" in built.stdout.replace("\n", "")
    assert "demo-password-1" in built.stdout
    intended = re.search(r"今日随访逾期\s*([\d,]+)\s*人", built.stdout)
    assert intended is not None, built.stdout
    engine = make_engine(url)
    with transaction(make_sessionmaker(engine)) as session:
        build = demo_service.latest(session=session)
        assert build is not None
        assert (build.seed, build.scale, build.area_code) == (11, "demo", "320600000000")
        assert build.today == date(2023, 1, 10)
        auth.authenticate(session=session, username="village", password="demo-password-1", ip=None)
    engine.dispose()
    # a command on the demo database runs on its day, without any setting; LIANFANG_TODAY wins
    assert _overdue(db=url) == ("2023-01-10", int(intended.group(1).replace(",", "")))
    later, more = _overdue(db=url, env={"LIANFANG_TODAY": "2023-01-12"})
    assert later == "2023-01-12"
    assert more > int(intended.group(1).replace(",", ""))
    coords = tmp_path / "real.csv"
    coords.write_text("code,lon,lat\n320623001001,121.2,32.3\n", encoding="utf-8")
    assert lianfang("areas", "import-coords", str(coords), db=url).returncode == 0
    refused = lianfang("demo", "--no-serve", db=url, env=env)
    assert refused.returncode == 1
    assert "实测坐标 1 个" in one_line_error(refused)


def test_demo_refuses_a_day_it_cannot_build_around(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'early.db'}"
    early = lianfang("demo", "--no-serve", "--today", "2022-11-30", db=url)
    assert "2022-12-11" in one_line_error(early)
    assert "YYYY-MM-DD" in one_line_error(
        lianfang("demo", "--no-serve", "--today", "5 Jan", db=url)
    )


def test_a_file_that_is_not_csv_is_named(db: str, tmp_path: Path) -> None:
    binary = tmp_path / "photo.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00\x00garbage")
    result = lianfang("areas", "import-coords", str(binary), db=db)
    assert result.returncode == 1
    assert "photo.csv 不是 UTF-8 编码的 CSV 文件" in one_line_error(result)
