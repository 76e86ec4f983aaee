"""The command line starts without its heavy libraries: ``--version`` and every ``--help``
import neither the database layer, the web framework nor numpy (their import is most of a
command's start-up time; benchmarks/cli_startup.py measures it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lianfang import __version__

SRC = Path(__file__).resolve().parents[2] / "src"
HEAVY = ("sqlalchemy", "fastapi", "starlette", "numpy", "scipy", "pyarrow", "alembic", "uvicorn")
PROBE = """
import json, sys
from lianfang.cli import run
try:
    run(sys.argv[1:])
except SystemExit as exit:
    code = exit.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def loaded(*args: str, env: dict[str, str] | None = None) -> tuple[int, set[str], str]:
    """The exit code of ``lianfang ARGS``, the top-level packages it imported, its output."""
    env = os.environ | {"PYTHONPATH": str(SRC)} | (env or {})
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    report = json.loads(result.stderr.strip().splitlines()[-1])
    return report["code"], {name.split(".")[0] for name in report["modules"]}, result.stdout


def test_version_is_answered_before_typer_loads() -> None:
    code, modules, output = loaded("--version")
    assert (code, output) == (0, f"lianfang {__version__}\n")
    heavy = {*HEAVY, "pydantic", "typer", "rich"}
    assert modules.isdisjoint(heavy), sorted(modules & heavy)


@pytest.mark.parametrize(
    "path",
    [
        (),
        ("people",),
        ("areas",),
        ("forecast",),
        ("user",),
        ("demo",),
        ("serve",),
        ("worker",),
        ("directive",),
        ("tasks",),
        ("briefing",),
        ("alerts",),
        ("duty",),
    ],
)
def test_help_imports_nothing_heavy(path: tuple[str, ...]) -> None:
    code, modules, output = loaded(*path, "--help")
    assert code == 0
    assert "Usage" in output
    assert modules.isdisjoint(HEAVY), sorted(modules & set(HEAVY))


def test_a_command_still_imports_what_it_uses(tmp_path: Path) -> None:
    """The probe sees what a command imports: writing a template loads xlsxwriter."""
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    env = {"LIANFANG_ADMIN_PASSWORD": "pw-long-enough"}
    assert loaded("init", "--db", db, env=env)[0] == 0
    code, modules, _ = loaded("people", "template", "-o", str(tmp_path / "t.xlsx"), "--db", db)
    assert code == 0
    assert "xlsxwriter" in modules
