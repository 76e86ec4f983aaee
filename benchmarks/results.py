"""Stored results: one JSON file per benchmark in benchmarks/results/, so that the report can be
rendered again without running everything (``python -m benchmarks --report``)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchmarks.common import Figure, Table

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Result:
    """What one run of one benchmark found, and the machine it ran on."""

    benchmark: str
    machine: dict[str, str]
    table: Table


def path(directory: Path, benchmark: str) -> Path:
    """The file a benchmark's result is stored in."""
    return directory / f"{benchmark}.json"


def save(directory: Path, result: Result) -> Path:
    """Store a result (replacing the benchmark's previous one); return the file."""
    table = result.table
    data: dict[str, Any] = {
        "benchmark": result.benchmark,
        "machine": result.machine,
        "title": table.title,
        "notes": table.notes,
        "columns": table.columns,
        "rows": table.rows,
        "figures": {name: asdict(figure) for name, figure in table.figures.items()},
    }
    directory.mkdir(parents=True, exist_ok=True)
    target = path(directory, result.benchmark)
    text = json.dumps(data, ensure_ascii=False, indent=1)
    target.write_text(text + "\n", encoding="utf-8")
    return target


def load(directory: Path, benchmark: str) -> Result | None:
    """A benchmark's stored result, None when it has none."""
    source = path(directory, benchmark)
    if not source.exists():
        return None
    data = json.loads(source.read_text(encoding="utf-8"))
    table = Table(
        title=data["title"],
        columns=data["columns"],
        notes=data["notes"],
        rows=data["rows"],
        figures={name: Figure(**figure) for name, figure in data["figures"].items()},
    )
    return Result(benchmark=data["benchmark"], machine=data["machine"], table=table)


def stored(directory: Path) -> list[str]:
    """The names of the benchmarks with a stored result in the directory."""
    return sorted(p.stem for p in directory.glob("*.json"))
