"""The documents in docs/ against the code: a setting, command, option, role, permission, audit
action or API route that the docs do not mention fails here, and so does a stale --help block."""

from __future__ import annotations

import importlib.util
import re
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import typer.main
from fastapi.routing import APIRoute
from sqlalchemy import create_engine

from lianfang.api.app import create_app
from lianfang.auth.choices import AuditAction, Permission, Role
from lianfang.cli.main import app as cli_app
from lianfang.config import Settings

DOCS = Path(__file__).resolve().parents[1] / "docs"
HELP_BLOCK = re.compile(r"<!-- help:[^>]*?-->\n.*?<!-- /help -->", re.S)


@cache
def doc(name: str) -> str:
    """The text of one document in docs/."""
    return (DOCS / name).read_text(encoding="utf-8")


@cache
def generator() -> ModuleType:
    """docs/gen_cli_help.py, imported from its file (docs/ is not a package)."""
    spec = importlib.util.spec_from_file_location("gen_cli_help", DOCS / "gen_cli_help.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def walk(command: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """Every command and group below a Click command, with its path after ``lianfang``."""
    found = [(path, command)]
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        found.extend(walk(sub, (*path, name)))
    return found


COMMANDS = walk(typer.main.get_command(cli_app))


def long_options(command: Any) -> list[str]:
    """The ``--long`` option names of a command."""
    return [
        name
        for param in command.params
        if param.param_type_name == "option"
        for name in (*param.opts, *param.secondary_opts)
        if name.startswith("--")
    ]


def mentions(text: str, word: str) -> bool:
    """True when ``word`` occurs in ``text`` as a whole token (``--area`` is not ``--areas``)."""
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text) is not None


def cli_prose() -> str:
    """docs/cli.md without its generated help blocks: what a person wrote."""
    return HELP_BLOCK.sub("", doc("cli.md"))


def section(text: str, heading: str) -> str:
    """The part of a Markdown document under a ``## heading``, up to the next one."""
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def path_id(path: tuple[str, ...]) -> str:
    return " ".join(path) or "lianfang"


# (a) settings


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_and_its_variable_is_documented(name: str) -> None:
    text = doc("settings.md")
    variable = f"{Settings.model_config['env_prefix']}{name.upper()}"
    assert f"`{name}`" in text, f"docs/settings.md does not describe the setting {name}"
    assert f"`{variable}`" in text, f"docs/settings.md does not name {variable}"


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_default_is_the_documented_one(name: str) -> None:
    default = Settings.model_fields[name].default
    expected = (
        "unset"
        if default is None
        else f"`{str(default).lower() if isinstance(default, bool) else default}`"
    )
    rows = [line for line in doc("settings.md").splitlines() if line.startswith(f"| `{name}` |")]
    assert rows, f"docs/settings.md has no table row for {name}"
    assert expected in rows[0], f"docs/settings.md gives {name} a default other than {expected}"


# (b) commands and options


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[path_id(p) for p, _ in COMMANDS])
def test_every_command_and_option_is_described(path: tuple[str, ...], command: Any) -> None:
    prose = cli_prose()
    assert mentions(prose, " ".join(("lianfang", *path))), (
        f"docs/cli.md does not describe `lianfang {' '.join(path)}`"
    )
    missing = [option for option in long_options(command) if not mentions(prose, option)]
    assert not missing, f"docs/cli.md does not explain {missing} of {path_id(path)}"


def test_every_command_has_a_help_block() -> None:
    marked = generator().marked_paths(doc("cli.md"))
    assert sorted(marked) == sorted(path for path, _ in COMMANDS)


# (c) help blocks


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=[path_id(p) for p, _ in COMMANDS])
def test_help_block_is_current(path: tuple[str, ...]) -> None:
    gen = generator()
    shown = {
        tuple(match["path"].split()): match["body"] for match in gen.BLOCK.finditer(doc("cli.md"))
    }
    assert path in shown, f"docs/cli.md has no help block for {path_id(path)}"
    assert shown[path] == gen.block(path), (
        f"the help of {path_id(path)} changed: run .venv/bin/python docs/gen_cli_help.py"
    )


def test_generator_leaves_a_current_file_unchanged() -> None:
    assert generator().render(doc("cli.md")) == doc("cli.md")


# (d) roles, permissions, audit actions


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_every_role_is_documented(role: Role) -> None:
    row = f"| `{role.value}` | {role.zh} |"
    assert row in section(doc("access.md"), "Roles"), f"docs/access.md: no role row {row!r}"


@pytest.mark.parametrize("permission", list(Permission), ids=str)
def test_every_permission_is_documented(permission: Permission) -> None:
    row = f"| `{permission.value}` | {permission.zh} |"
    assert row in section(doc("access.md"), "Permissions"), f"docs/access.md: no row {row!r}"


@pytest.mark.parametrize("action", list(AuditAction), ids=str)
def test_every_audit_action_is_documented(action: AuditAction) -> None:
    assert f"`{action.value}`" in doc("access.md")


# (e) API routes


def api_routes() -> list[tuple[str, str]]:
    """(method, path) of every route under /api, from an app built without a database.

    The OpenAPI schema is the public list of routes (FastAPI may keep included routers unexpanded
    in ``app.routes``); routes that ``app.routes`` does hold directly are added to it."""
    app = create_app(Settings(database_url="sqlite://"), engine=create_engine("sqlite://"))
    found = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
        if method in ("get", "post", "put", "patch", "delete")
    }
    found |= {
        (method, route.path)
        for route in app.routes
        if isinstance(route, APIRoute)
        for method in route.methods
        if method not in ("HEAD", "OPTIONS")
    }
    return sorted((method, path) for method, path in found if path.startswith("/api"))


def test_the_api_has_routes_to_check() -> None:
    assert len(api_routes()) >= 5


@pytest.mark.parametrize(("method", "path"), api_routes(), ids=lambda value: str(value))
def test_every_api_route_is_documented(method: str, path: str) -> None:
    text = doc("api.md")
    assert f"`{method} {path}`" in text, f"docs/api.md does not document {method} {path}"
