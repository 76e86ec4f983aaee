"""Start-up time of the command line: ``lianfang --version``, ``--help`` and ``people --help``."""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
from pathlib import Path
from time import perf_counter

from benchmarks.common import Table, percentile

RUNS = 21
WARMUP = 3
TARGET_S = 0.3
COMMANDS = (("--version",), ("--help",), ("people", "--help"))
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


def run() -> Table:
    """Each command's median and 90th-percentile wall time, its CPU time, against the target."""
    table = Table(
        title="Command-line start-up",
        columns=["Command", "Median (ms)", "p90 (ms)", "CPU median (ms)", "Target", "Met"],
        notes=[
            f"Each command run {RUNS} times as a subprocess (after {WARMUP} untimed runs, so "
            "bytecode caches are written as on a user's machine); wall time from start to exit, "
            "CPU time (user + system) of the child, which moves less with the machine's load.",
            "References on the same machine: the bare interpreter (`python -c pass`) and a "
            "two-command Typer application's `--help` — the floor any Typer command line "
            "starts from.",
            "How: `lianfang.cli` modules import only typer, rich and the enums their options "
            "name; everything else (sqlalchemy, pydantic, numpy, fastapi) inside the command "
            "that uses it. The entry point (`lianfang.cli.run`) answers `--version` before "
            "importing Typer. tests/cli/test_startup.py checks that `--version` and every "
            "`--help` load none of the heavy libraries.",
            f"Target from issue 10: `--version` and `--help` ≤ {TARGET_S * 1000:.0f} ms.",
        ],
    )
    table.start()
    env = _environment()
    python = sys.executable
    for args in COMMANDS:
        wall, cpu = measure([python, "-m", "lianfang", *args], env)
        median = statistics.median(wall)
        targeted = args != ("people", "--help")
        table.add(
            f"lianfang {' '.join(args)}", f"{median * 1000:.0f}",
            f"{percentile(wall, 90) * 1000:.0f}", f"{statistics.median(cpu) * 1000:.0f}",
            f"≤ {TARGET_S * 1000:.0f} ms" if targeted else "—",
            ("met" if median <= TARGET_S else "missed") if targeted else "—",
        )  # fmt: skip
    for label, argv in (
        ("python -c pass", [python, "-c", "pass"]),
        ("Typer, 2 commands: --help", [python, "-c", TINY_TYPER, "--help"]),
    ):
        wall, cpu = measure(argv, env)
        table.add(label, f"{statistics.median(wall) * 1000:.0f}",
                  f"{percentile(wall, 90) * 1000:.0f}", f"{statistics.median(cpu) * 1000:.0f}",
                  "—", "—")  # fmt: skip
    return table


if __name__ == "__main__":
    run()
