"""Rewrite the ``--help`` blocks in docs/cli.md from the CLI itself.

Run ``.venv/bin/python docs/gen_cli_help.py`` after changing a command; ``--check`` only reports
whether the file is up to date (exit 1 when not). A block is everything between
``<!-- help: areas load -->`` and ``<!-- /help -->``; the marker names the command path after
``lianfang`` (``<!-- help: -->`` is ``lianfang --help`` itself). tests/test_docs.py fails when a
block differs from what this script produces.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from pathlib import Path

from typer import rich_utils
from typer.testing import CliRunner

from lianfang.cli.main import app

CLI_MD = Path(__file__).with_name("cli.md")
WIDTH = 100
# Fixed width and no colour, whatever the terminal that runs this: the output must be stable.
ENV: dict[str, str | None] = {
    "COLUMNS": str(WIDTH),
    "LINES": "50",
    "NO_COLOR": "1",
    "TERM": "dumb",
    "FORCE_COLOR": None,
    "PY_COLORS": None,
    "LIANFANG_NEW_USER_PASSWORD": None,
}
BLOCK = re.compile(
    r"(?P<open><!-- help:(?P<path>[^>]*?)-->\n)(?P<body>.*?)(?P<close><!-- /help -->)", re.S
)
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def help_text(path: Sequence[str]) -> str:
    """The ``--help`` output of ``lianfang PATH``, without colour or trailing spaces."""
    # Typer reads TERMINAL_WIDTH once, at import, and lets it win over COLUMNS: pin it too.
    saved, rich_utils.MAX_WIDTH = rich_utils.MAX_WIDTH, WIDTH
    try:
        result = CliRunner().invoke(
            app, [*path, "--help"], prog_name="lianfang", env=ENV, terminal_width=WIDTH
        )
    finally:
        rich_utils.MAX_WIDTH = saved
    if result.exit_code != 0:
        raise ValueError(f"lianfang {' '.join(path)} --help failed: {result.output}")
    lines = [line.rstrip() for line in ANSI.sub("", result.stdout).splitlines()]
    return "\n".join(lines).strip("\n")


def block(path: Sequence[str]) -> str:
    """The fenced block that stands between the markers of one command."""
    return f"```text\n{help_text(path)}\n```\n"


def render(markdown: str) -> str:
    """The document with every help block regenerated."""

    def replace(match: re.Match[str]) -> str:
        path = match["path"].split()
        return match["open"] + block(path) + match["close"]

    return BLOCK.sub(replace, markdown)


def marked_paths(markdown: str) -> list[tuple[str, ...]]:
    """The command paths that have a help block in the document."""
    return [tuple(match["path"].split()) for match in BLOCK.finditer(markdown)]


def main(argv: Sequence[str] = ()) -> int:
    """Regenerate docs/cli.md, or with ``--check`` say whether it is current."""
    current = CLI_MD.read_text(encoding="utf-8")
    fresh = render(current)
    if "--check" in argv:
        if fresh != current:
            print(f"{CLI_MD} is out of date: run python docs/gen_cli_help.py", file=sys.stderr)
            return 1
        return 0
    if fresh != current:
        CLI_MD.write_text(fresh, encoding="utf-8")
        print(f"rewrote {CLI_MD}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
