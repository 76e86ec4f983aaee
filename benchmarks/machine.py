"""The machine and software the figures were measured on."""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import psycopg

from benchmarks.common import POSTGRES_ADMIN, postgres_problem

ROOT = Path(__file__).resolve().parent.parent
LIBRARIES = ("sqlalchemy", "psycopg", "fastapi", "starlette", "pydantic", "numpy", "scipy")


def _proc_field(path: str, key: str) -> str | None:
    """The value of the first ``key: value`` line of a /proc file, None when absent."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for line in lines:
        name, _, value = line.partition(":")
        if name.strip() == key:
            return value.strip()
    return None


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo."""
    return _proc_field("/proc/cpuinfo", "model name") or platform.processor() or "unknown"


def cores() -> str:
    """Logical CPUs, and how many this process may use."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return f"{os.cpu_count()} logical" + (f" ({usable} usable)" if usable else "")


def memory() -> str:
    """Total memory from /proc/meminfo, in GiB."""
    raw = _proc_field("/proc/meminfo", "MemTotal")
    if raw is None:
        return "unknown"
    return f"{int(raw.split()[0]) / 1024 / 1024:.1f} GiB"


def load_average() -> str:
    """The 1, 5 and 15 minute load averages as the run starts (other work skews the figures)."""
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def postgres_version() -> str:
    """The local PostgreSQL server's version, or why it could not be asked."""
    problem = postgres_problem()
    if problem is not None:
        return f"unreachable: {problem}"
    with psycopg.connect(POSTGRES_ADMIN) as connection:
        row = connection.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "unknown"


def commit() -> str:
    """The git commit measured (``-dirty`` when the work tree had changes)."""
    try:
        done = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return done.stdout.strip()


def describe() -> dict[str, str]:
    """Every fact about the machine and software that the report shows."""
    return {
        "Date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "CPU": cpu_model(),
        "Cores": cores(),
        "Memory": memory(),
        "Load average at start": load_average(),
        "OS": platform.platform(),
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "SQLite": sqlite3.sqlite_version,
        "PostgreSQL": postgres_version(),
        "Libraries": ", ".join(f"{name} {version(name)}" for name in LIBRARIES),
        "Commit": commit(),
    }
