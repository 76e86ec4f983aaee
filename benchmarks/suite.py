"""The benchmarks, in the order the report shows them, each named as its stored result is."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from benchmarks.common import Table


@dataclass(frozen=True)
class Benchmark:
    """One benchmark: its name (benchmarks/results/NAME.json) and the function that runs it.

    The module is imported only when the benchmark runs, so that ``--list`` and ``--report``
    need none of the reference tools."""

    name: str
    module: str
    function: str
    about: str

    def runner(self) -> Callable[[], Table]:
        """The function that runs the benchmark and returns its table."""
        run: Callable[[], Table] = getattr(importlib.import_module(self.module), self.function)
        return run


BENCHMARKS: tuple[Benchmark, ...] = (
    Benchmark("areas_load", "benchmarks.areas_load", "run",
              "Jiangsu's divisions loaded, against the raw driver"),
    Benchmark("areas_children", "benchmarks.areas_children", "run",
              "GET /api/areas/{code}/children, against the raw query"),
    Benchmark("forecast_epydemix", "benchmarks.forecast", "against_epydemix",
              "stochastic SEIR in one population, against epydemix"),
    Benchmark("forecast_cost", "benchmarks.forecast", "cell_cost",
              "cost per village × age band × day"),
    Benchmark("forecast_fit", "benchmarks.forecast", "fit_cost", "one fit for one county"),
    Benchmark("forecast_covasim", "benchmarks.forecast", "against_covasim",
              "accuracy against Covasim"),
    Benchmark("people_csv_import", "benchmarks.people", "city_import",
              "CSV import of 1.75M people"),
    Benchmark("people_coverage", "benchmarks.people", "city_coverage",
              "coverage of the city and of a town"),
    Benchmark("people_xlsx_import", "benchmarks.people", "xlsx_import",
              "100,000-row .xlsx import, against pandas + openpyxl"),
    Benchmark("serve_load", "benchmarks.serve_load", "run",
              "50 users on `lianfang serve`, SQLite and PostgreSQL"),
    Benchmark("dispatch", "benchmarks.dispatch", "run",
              "a directive cascaded to 21,958 villages, and its roll-up, against the raw driver"),
    Benchmark("briefing", "benchmarks.briefing", "run",
              "the city's briefing (HTML, PDF) and the overview's first paint"),
    Benchmark("cli_startup", "benchmarks.cli_startup", "run",
              "command-line start-up, against the bare interpreter and a tiny Typer app"),
    Benchmark("resources", "benchmarks.resources", "run",
              "the reserve of Jiangsu, and one issue under 20 clerks, against the raw driver"),
    Benchmark("forecast_dask", "benchmarks.forecast_dask", "run",
              "a 500,000-village ensemble on a Dask LocalCluster, against the process pool"),
)  # fmt: skip
NAMES = tuple(b.name for b in BENCHMARKS)
PENDING: tuple[Benchmark, ...] = ()
"""Benchmarks that run (``--only NAME``) but are not yet in the report: their first result is
to come from a quiet machine (see ``targets.PENDING``)."""


def named(name: str) -> Benchmark:
    """The benchmark of that name."""
    for benchmark in (*BENCHMARKS, *PENDING):
        if benchmark.name == name:
            return benchmark
    raise KeyError(f"no benchmark named {name!r}; known: {', '.join(NAMES)}")
