"""Run every benchmark, printing as it goes, and write BENCHMARKS.md."""

from __future__ import annotations

from collections.abc import Callable
from time import perf_counter

from benchmarks import areas_children, areas_load, cli_startup, forecast, machine, people, report
from benchmarks.common import Table

BENCHMARKS: tuple[Callable[[], Table], ...] = (
    areas_load.run,
    areas_children.run,
    forecast.against_epydemix,
    forecast.cell_cost,
    forecast.fit_cost,
    forecast.against_covasim,
    people.city_import,
    people.city_coverage,
    people.xlsx_import,
    cli_startup.run,
)
OUTPUT = machine.ROOT / "BENCHMARKS.md"


def main() -> None:
    """Run the benchmarks in order, then write the report."""
    start = perf_counter()
    facts = machine.describe()
    for name, value in facts.items():
        print(f"{name}: {value}")
    tables = [benchmark() for benchmark in BENCHMARKS]
    report.write(OUTPUT, facts, tables)
    print(f"\nWrote {OUTPUT} in {perf_counter() - start:.0f} s.")


if __name__ == "__main__":
    main()
