"""BENCHMARKS.md against the stored results: the report is what they render to (so a hand edit or
a report left stale after a run fails here), and every target has a stored figure to judge."""

from __future__ import annotations

from pathlib import Path

import pytest
from benchmarks import results, suite
from benchmarks.__main__ import OUTPUT, render
from benchmarks.common import Figure
from benchmarks.report import limit_text, ratio_text, summary_row
from benchmarks.targets import TARGETS, Comparison, Target


def test_report_is_what_the_stored_results_render_to() -> None:
    written = OUTPUT.read_text(encoding="utf-8")
    assert written == render(results.RESULTS), (
        "BENCHMARKS.md differs from the stored results: run `python -m benchmarks --report` "
        "(never edit it by hand)"
    )


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_every_target_has_a_stored_figure(target: Target) -> None:
    assert target.benchmark in suite.NAMES, f"{target.name}: no benchmark {target.benchmark}"
    result = results.load(results.RESULTS, target.benchmark)
    assert result is not None, f"no stored result: python -m benchmarks --only {target.benchmark}"
    assert target.name in result.table.figures, f"{target.benchmark} did not record {target.name}"


def test_every_benchmark_has_a_stored_result_and_nothing_else_is_stored() -> None:
    assert results.stored(results.RESULTS) == sorted(suite.NAMES)


def test_target_names_are_unique() -> None:
    names = [t.name for t in TARGETS]
    assert len(names) == len(set(names))


def test_a_stored_result_reads_back_as_it_was_saved(tmp_path: Path) -> None:
    original = results.load(results.RESULTS, "forecast_covasim")
    assert original is not None
    results.save(tmp_path, original)
    again = results.load(tmp_path, "forecast_covasim")
    assert again == original
    assert again.table.figures["forecast.covasim.peak_day"].low is not None


CEILING = Target("t.ceiling", "b", "a load", "s", 2.0, Comparison.at_most)
FLOOR = Target("t.floor", "b", "a rate", "req/s", 50.0, Comparison.at_least)
SPEEDUP = Target("t.speedup", "b", "a run", "ms", 50.0, Comparison.faster, "tool")
RANGE = Target("t.range", "b", "a peak", "day", None, Comparison.within, "tool")


@pytest.mark.parametrize(
    ("target", "figure", "verdict"),
    [
        (CEILING, Figure(2.0), "met"),
        (CEILING, Figure(2.01), "**missed**"),
        (FLOOR, Figure(49.9), "**missed**"),
        (FLOOR, Figure(50.0), "met"),
        (SPEEDUP, Figure(0.2, 10.0), "met"),  # 50× faster
        (SPEEDUP, Figure(0.25, 10.0), "**missed**"),  # 40× faster
        (SPEEDUP, Figure(0.2), "**missed**"),  # no reference measured: nothing to judge
        (RANGE, Figure(29, 30, 23, 35), "met"),
        (RANGE, Figure(36, 30, 23, 35), "**missed**"),
    ],
)
def test_the_summary_judges_each_kind_of_target(
    target: Target, figure: Figure, verdict: str
) -> None:
    assert summary_row(target, figure, 1)[-1] == verdict


def test_a_target_without_a_figure_is_not_measured_never_met() -> None:
    assert summary_row(CEILING, None, None)[-1] == "**not measured**"


def test_the_summary_states_limits_and_ratios_as_a_reader_would() -> None:
    assert limit_text(CEILING) == "≤ 2 s"
    assert limit_text(SPEEDUP) == "≥ 50× faster"
    assert ratio_text(SPEEDUP, Figure(0.2, 10.0)) == "0.02× (50.0× faster)"
    assert ratio_text(CEILING, Figure(3.0, 1.5)) == "2.00×"
    assert ratio_text(CEILING, Figure(3.0)) == "—"
