"""The ``lianfang`` command line: one module per command group, mounted in ``main``.

``run`` is the installed command's entry point. It answers ``lianfang --version`` before
importing Typer and the command groups, which is most of what the command costs to start."""

from __future__ import annotations

import sys


def run(argv: list[str] | None = None) -> int:
    """Run the command line (see ``lianfang.cli.main.run``) and exit with its code."""
    if (sys.argv[1:] if argv is None else argv) == ["--version"]:
        from lianfang import __version__

        print(f"lianfang {__version__}")
        sys.exit(0)
    from lianfang.cli import main

    return main.run(argv)
