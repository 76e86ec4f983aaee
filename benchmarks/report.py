"""Render the machine facts and the result tables as BENCHMARKS.md."""

from __future__ import annotations

from pathlib import Path

from benchmarks.common import Table

HEADER = (
    "# Benchmarks\n\n"
    "Written by `make bench` (`.venv/bin/python -m benchmarks`); do not edit by hand. "
    "Wall-clock times on the machine below: compare the ratios more than the absolute "
    "figures, which move with the machine and its load.\n"
)


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def machine_section(facts: dict[str, str]) -> str:
    """The machine and software as a two-column table."""
    lines = ["## Machine", "", "| | |", "|---|---|"]
    lines += [_row([f"**{name}**", value]) for name, value in facts.items()]
    return "\n".join(lines) + "\n"


def table_section(number: int, table: Table) -> str:
    """One benchmark: its title, its notes and its figures."""
    lines = [f"## {number}. {table.title}", ""]
    lines += [f"- {note}" for note in table.notes]
    lines += ["", _row(table.columns), _row(["---"] * len(table.columns))]
    lines += [_row(row) for row in table.rows]
    return "\n".join(lines) + "\n"


def write(path: Path, facts: dict[str, str], tables: list[Table]) -> None:
    """Write the whole report to the path."""
    sections = [HEADER, machine_section(facts)]
    sections += [table_section(n, t) for n, t in enumerate(tables, start=1)]
    path.write_text("\n".join(sections), encoding="utf-8")
