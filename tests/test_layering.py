"""The layering contracts in pyproject.toml ([tool.importlinter]) hold, cover every package, and
really catch a forbidden import (proved on a copy of the source with one added)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
INTERFACES = {"api", "web", "cli"}  # the layers that translate; nothing below imports them
NOT_CORE = {"__init__", "adoption", "flows", "models", "routes", "schemas", "service", "worker"}
NUMERICAL = {"forecast", "plan"}  # packages whose other modules are pure numerical cores


def contracts() -> dict[str, dict[str, Any]]:
    config = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["importlinter"]
    return {c["id"]: c for c in config["contracts"]}


def lint(source: Path) -> subprocess.CompletedProcess[str]:
    """Run the contracts against the package under ``source`` (a ``src`` directory)."""
    env = os.environ | {"PYTHONPATH": str(source)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", str(PYPROJECT)],
        capture_output=True, text=True, env=env, cwd=source, timeout=300, check=False,
    )  # fmt: skip


def test_the_contracts_hold() -> None:
    result = lint(ROOT / "src")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


def test_every_package_is_classified() -> None:
    """A new domain (plan/, resources/, ...) fails here until a contract names it."""
    named = {
        m.split(".")[1] for c in contracts().values() for m in c["source_modules"]
    } | INTERFACES
    package = ROOT / "src" / "lianfang"
    present = {
        p.stem for p in package.iterdir()
        if (p.is_dir() and (p / "__init__.py").exists()) or p.suffix == ".py"
    } - {"__init__", "__main__"}  # fmt: skip
    assert present - named == set(), "add these to a contract in pyproject.toml"


def test_every_numerical_module_is_a_core() -> None:
    """In forecast/ and plan/, everything but the service side is a pure core."""
    cores = set(contracts()["cores"]["source_modules"])
    package = ROOT / "src" / "lianfang"
    expected = {
        f"lianfang.{p.parent.name}.{p.stem}"
        for name in NUMERICAL
        for p in (package / name).glob("*.py")
        if p.stem not in NOT_CORE
    }
    assert expected - cores == set(), "add these to the cores contract (or to NOT_CORE)"


def _copy(tmp_path: Path) -> Path:
    """The package's Python files, copied (data, templates and static files left out)."""

    def skip(folder: str, names: list[str]) -> list[str]:
        return [n for n in names if not n.endswith(".py") and not Path(folder, n).is_dir()]

    shutil.copytree(ROOT / "src" / "lianfang", tmp_path / "lianfang", ignore=skip)
    return tmp_path


def _add_import(source: Path, module: str, statement: str) -> None:
    path = source.joinpath(*module.split(".")).with_suffix(".py")
    path.write_text(f"{statement}\n" + path.read_text(encoding="utf-8"), encoding="utf-8")


@pytest.mark.parametrize(
    ("module", "statement", "broken"),
    [
        ("lianfang.people.service", "import lianfang.web.pages", "lianfang.web.pages"),
        ("lianfang.areas.routes", "import lianfang.api.errors", "lianfang.api.errors"),
        ("lianfang.forecast.engine", "import lianfang.db.base", "lianfang.db.base"),
        ("lianfang.forecast.fit", "import sqlalchemy", "sqlalchemy"),
        ("lianfang.io.sheets", "import lianfang.people.choices", "lianfang.people.choices"),
    ],
)
def test_a_forbidden_import_breaks_a_contract(
    tmp_path: Path, module: str, statement: str, broken: str
) -> None:
    source = _copy(tmp_path)
    _add_import(source, module, statement)
    result = lint(source)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 broken" in result.stdout
    assert f"{module} -> {broken}" in result.stdout
