"""Start-up time of the command line: ``lianfang --version``, ``--help`` and ``people --help``."""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
from pathlib import Path
from time import perf_counter

from benchmarks import targets
from benchmarks.common import Table, percentile

RUNS = 21
WARMUP = 3
TINY_TYPER = """
import typer
app = typer.Typer()
@app.command()
def one(x: int = 1) -> None:
    \"\"\"One.\"\"\"
@app.command()
def two(x: int = 1) -> None:
    \"\"\"Two.\"\"\"
app()
"""
PYTHON = sys.executable
COMMANDS = (("--version",), ("--help",), ("people", "--help"))
TARGETS = {("--version",): "cli.startup.version", ("--help",): "cli.startup.help"}
REFERENCES = {  # what each target's figure is compared with, on the same machine
    "cli.startup.version": ("python -c pass", [PYTHON, "-c", "pass"]),
    "cli.startup.help": ("Typer app of 2 commands: --help", [PYTHON, "-c", TINY_TYPER, "--help"]),
}


def _environment() -> dict[str, str]:
    """The environment a user's shell gives: bytecode caches written and read."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    source = Path(__file__).resolve().parents[1] / "src"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(source), env.get("PYTHONPATH")]))
    return env


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(argv: list[str], env: dict[str, str]) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of each of RUNS runs of a command, after WARMUP untimed runs."""
    for _ in range(WARMUP):
        subprocess.run(argv, env=env, capture_output=True, check=True)
    wall, cpu = [], []
    for _ in range(RUNS):
        cpu_before, start = _children_cpu(), perf_counter()
        subprocess.run(argv, env=env, capture_output=True, check=True)
        wall.append(perf_counter() - start)
        cpu.append(_children_cpu() - cpu_before)
    return wall, cpu


def _row(table: Table, label: str, wall: list[float], cpu: list[float], limit: str) -> None:
    table.add(label, f"{statistics.median(wall) * 1000:.0f}",
              f"{percentile(wall, 90) * 1000:.0f}", f"{statistics.median(cpu) * 1000:.0f}",
              limit)  # fmt: skip


def run() -> Table:
    """Each command's median and 90th-percentile wall time and its CPU time, with references."""
    limit_ms = targets.limit("cli.startup.help")
    table = Table(
        title="Command-line start-up",
        columns=["Command", "Median (ms)", "p90 (ms)", "CPU median (ms)", "Target"],
        notes=[
            f"Each command run {RUNS} times as a subprocess (after {WARMUP} untimed runs, so "
            "bytecode caches are written as on a user's machine); wall time from start to exit, "
            "and the child's CPU time (user + system), which moves less with the machine's load.",
            "References on the same machine: the bare interpreter (`python -c pass`) for "
            "`--version`, and a two-command Typer application's `--help` — the floor any Typer "
            "command line starts from — for `--help`.",
            "How: `lianfang.cli` modules import only typer, rich and the enums their options "
            "name; everything else (sqlalchemy, pydantic, numpy, fastapi) inside the command "
            "that uses it. The entry point (`lianfang.cli.run`) answers `--version` before "
            "importing Typer. tests/cli/test_startup.py checks that `--version` and every "
            "`--help` load none of the heavy libraries.",
            f"Target from issue 10: `--version` and `--help` ≤ {limit_ms:.0f} ms.",
        ],
    )
    table.start()
    env = _environment()
    for args in COMMANDS:
        wall, cpu = measure([PYTHON, "-m", "lianfang", *args], env)
        target = TARGETS.get(args)
        _row(
            table,
            f"lianfang {' '.join(args)}",
            wall,
            cpu,
            f"≤ {limit_ms:.0f} ms" if target else "—",
        )
        if target is not None:
            label, reference = REFERENCES[target]
            theirs, their_cpu = measure(reference, env)
            _row(table, f"reference: {label}", theirs, their_cpu, "—")
            table.figure(target, statistics.median(wall) * 1000, statistics.median(theirs) * 1000)
    return table


if __name__ == "__main__":
    run()
