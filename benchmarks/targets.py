"""Every target the issues set, with the benchmark whose stored result holds its figure.

A benchmark records each figure with ``table.figure(NAME, ours, reference)`` (or
``table.within(NAME, ours, theirs)``); the report's summary has one row per target below, judged
from the stored figure. tests/test_benchmarks.py fails when a target has no stored figure.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from benchmarks.common import Figure


class Comparison(enum.StrEnum):
    """How lianfang's figure is held against the target."""

    at_most = "at most"  # ours ≤ target
    at_least = "at least"  # ours ≥ target
    faster = "faster"  # reference ÷ ours ≥ target (a speed-up over the reference tool)
    within = "within"  # low ≤ ours ≤ high, the reference's range (no fixed target)


@dataclass(frozen=True)
class Target:
    """One target: what is measured, in what unit, the limit and the reference tool, if any."""

    name: str
    benchmark: str
    what: str
    unit: str
    target: float | None
    comparison: Comparison
    reference: str = ""

    def met(self, figure: Figure) -> bool:
        """Whether the figure meets the target."""
        if self.comparison is Comparison.within:
            low, high = figure.low, figure.high
            return low is not None and high is not None and low <= figure.ours <= high
        if self.target is None:
            raise ValueError(f"{self.name}: a {self.comparison} target needs a limit")
        if self.comparison is Comparison.faster:
            reference = figure.reference
            return reference is not None and reference / figure.ours >= self.target
        if self.comparison is Comparison.at_least:
            return figure.ours >= self.target
        return figure.ours <= self.target


S, MS = "s", "ms"
BACKENDS = (("sqlite", "SQLite"), ("postgresql", "PostgreSQL"))
COVASIM = "Covasim, 5 seeds"
CSV_LIMIT = {"sqlite": 20.0, "postgresql": 30.0}


def _per_backend() -> tuple[Target, ...]:
    """The registry's targets, one per back end."""
    out: list[Target] = []
    for key, backend in BACKENDS:
        out.append(
            Target(
                f"people.csv_import.{key}",
                "people_csv_import",
                f"CSV import of Nantong's 1.75M residents aged 65+, validated and written, "
                f"{backend}",
                S,
                CSV_LIMIT[key],
                Comparison.at_most,
            )
        )
        out.append(
            Target(
                f"people.xlsx_import.{key}",
                "people_xlsx_import",
                f"100,000-row .xlsx import, validated and written, {backend}",
                S,
                8.0,
                Comparison.at_most,
                "pandas + openpyxl `read_excel` (reading only)",
            )
        )
        for scope, label, ceiling in (("city", "city", 300.0), ("town", "town 掘港街道", 50.0)):
            out.append(
                Target(
                    f"people.coverage.{scope}.{key}",
                    "people_coverage",
                    f"Coverage of the {label} (1.75M people), GET /api/areas/{{code}}/coverage, "
                    f"median, {backend}",
                    MS,
                    ceiling,
                    Comparison.at_most,
                )
            )
    return tuple(out)


def _load() -> tuple[Target, ...]:
    """The load benchmark's targets: no errors, p99 of reads and of writes, per back end."""
    out: list[Target] = []
    for key, backend in BACKENDS:
        what = f"50 users on `lianfang serve` for 60 s, {backend}"
        out += [
            Target(
                f"serve.load.{key}.errors",
                "serve_load",
                f"{what}: errors (all requests)",
                "errors",
                0,
                Comparison.at_most,
            ),
            Target(
                f"serve.load.{key}.reads_p99",
                "serve_load",
                f"{what}: p99 of reads (pages and API)",
                S,
                2.0,
                Comparison.at_most,
            ),
            Target(
                f"serve.load.{key}.writes_p99",
                "serve_load",
                f"{what}: p99 of writes",
                S,
                2.0,
                Comparison.at_most,
            ),
        ]
    return tuple(out)


FORECAST = (
    Target(
        "forecast.epydemix",
        "forecast_epydemix",
        "Stochastic SEIR, one population of 100,000, 120 days: time per simulated population "
        "(`simulate_members`, 1,000 members)",
        MS,
        50.0,
        Comparison.faster,
        "epydemix `run_simulations`",
    ),
    Target(
        "forecast.cost.jiangsu",
        "forecast_cost",
        "Jiangsu, 21,958 villages × 5 age bands × 120 days, deterministic `simulate`",
        S,
        1.0,
        Comparison.at_most,
    ),
    Target(
        "forecast.cost.nantong",
        "forecast_cost",
        "Nantong, 2,005 villages × 5 age bands × 120 days, `forecast` 50 members, 2 workers",
        S,
        6.0,
        Comparison.at_most,
    ),
    Target(
        "forecast.fit",
        "forecast_fit",
        "One maximum-likelihood fit for one county (如东县)",
        S,
        30.0,
        Comparison.at_most,
    ),
    Target(
        "forecast.dask.overhead",
        "forecast_dask",
        "An ensemble of 500,000 villages, 20 members, on a Dask LocalCluster of 2 workers: "
        "time over the process pool's of 2 workers",
        "%",
        15.0,
        Comparison.at_most,
    ),
    Target(
        "forecast.covasim.attack",
        "forecast_covasim",
        "Attack rate by day 119, 50,000 well mixed (median of 40 stochastic members)",
        "%",
        None,
        Comparison.within,
        COVASIM,
    ),
    Target(
        "forecast.covasim.peak_day",
        "forecast_covasim",
        "Peak day of new infections (median of 40 members)",
        "day",
        None,
        Comparison.within,
        COVASIM,
    ),
    Target(
        "forecast.covasim.peak_census",
        "forecast_covasim",
        "Peak hospital census (median of 40 members)",
        "beds",
        None,
        Comparison.within,
        COVASIM,
    ),
)
CLI = (
    Target(
        "cli.startup.version",
        "cli_startup",
        "`lianfang --version`, from start to exit, median",
        MS,
        300.0,
        Comparison.at_most,
        "the bare interpreter, `python -c pass`",
    ),
    Target(
        "cli.startup.help",
        "cli_startup",
        "`lianfang --help`, from start to exit, median",
        MS,
        300.0,
        Comparison.at_most,
        "a two-command Typer app's `--help`",
    ),
)


def _dispatch() -> tuple[Target, ...]:
    """Dispatch's targets: the cascade to every village of Jiangsu and its roll-up."""
    out: list[Target] = []
    for key, backend in BACKENDS:
        out += [
            Target(
                f"dispatch.cascade.{key}",
                "dispatch",
                f"One directive from the province cascaded to all 21,958 villages of Jiangsu "
                f"(23,562 tasks with their owners), median, {backend}",
                S,
                10.0,
                Comparison.at_most,
                "the same rows inserted by the raw driver",
            ),
            Target(
                f"dispatch.rollup.{key}",
                "dispatch",
                f"Its roll-up per child area, the slowest of province, city and county, median, "
                f"{backend}",
                MS,
                200.0,
                Comparison.at_most,
                "one hand-written GROUP BY",
            ),
        ]
    return tuple(out)


BRIEFING = (
    Target(
        "briefing.html",
        "briefing",
        "The daily briefing of Nantong (1.75M key people) as HTML, read model and page, SQLite",
        S,
        2.0,
        Comparison.at_most,
    ),
    Target(
        "briefing.pdf",
        "briefing",
        "The same briefing as an A4 PDF with Noto CJK embedded (WeasyPrint), SQLite",
        S,
        10.0,
        Comparison.at_most,
    ),
    Target(
        "briefing.overview_paint",
        "briefing",
        "The city commander's situation overview: first contentful paint in Chromium, SQLite",
        S,
        1.0,
        Comparison.at_most,
    ),
)


RESOURCES = (
    Target(
        "resources.reserve.jiangsu",
        "resources",
        "The reserve of all Jiangsu (≈ 27,000 facilities × 10 items: balance, days of supply, "
        "target, shortfall, nearest source) with a year of Nantong's daily ledger (≈ 10 M "
        "lines), PostgreSQL, median",
        S,
        2.0,
        Comparison.at_most,
        "one hand-written SQL query for the balances and days of supply (psycopg)",
    ),
    Target(
        "resources.issue.p95",
        "resources",
        "One stock issue through the service under 20 concurrent clerks at work (each pausing "
        "1 s on average between issues), PostgreSQL, p95",
        MS,
        20.0,
        Comparison.at_most,
        "a bare conditional UPDATE + INSERT (psycopg)",
    ),
)
TARGETS: tuple[Target, ...] = (
    *FORECAST,
    *_per_backend(),
    *_load(),
    *_dispatch(),
    *BRIEFING,
    *CLI,
    *RESOURCES,
)
PENDING: tuple[Target, ...] = ()
"""Targets whose benchmark (``suite.PENDING``) has not yet stored a result from a quiet
machine: not judged in the report and not yet required by tests/test_benchmarks.py. With its
first stored result, a pending target moves into ``TARGETS`` and its benchmark into
``suite.BENCHMARKS``."""


def limit(name: str) -> float:
    """The limit of the named target (benchmarks take their limits from here)."""
    for target in (*TARGETS, *PENDING):
        if target.name == name and target.target is not None:
            return target.target
    raise KeyError(f"no target named {name!r} with a limit")
