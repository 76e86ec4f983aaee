"""Render BENCHMARKS.md from the stored results: the verdicts first, then the machine, then each
benchmark's method and figures."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from benchmarks.common import Figure, Table
from benchmarks.results import Result
from benchmarks.suite import Benchmark
from benchmarks.targets import Comparison, Target

HEADER = (
    "# Benchmarks\n\n"
    "Written by `make bench` (`.venv/bin/python -m benchmarks`) from the results it stores in "
    "`benchmarks/results/`; do not edit by hand (`python -m benchmarks --report` renders it "
    "again, `--only NAME` runs one benchmark). Wall-clock times on the machine below: compare "
    "the ratios more than the absolute figures, which move with the machine and its load.\n"
)
SUMMARY_COLUMNS = [
    "Measured",
    "lianfang",
    "Reference tool, same work",
    "Ratio (lianfang ÷ reference)",
    "Target",
    "Verdict",
]
TIMES = ("s", "ms")
WHOLE = ("day", "beds", "errors")


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def number(value: float) -> str:
    """A figure with as many digits as its size deserves."""
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}" if value >= 1 else f"{value:.3g}"


def bare(value: float, unit: str) -> str:
    """A figure as a bound of a range, the unit left to the figure it follows."""
    if unit == "%":
        return f"{value:.1f}%"
    return f"{value:,.0f}" if unit in WHOLE else number(value)


def shown(value: float, unit: str) -> str:
    """A figure with its unit."""
    if unit == "day":
        return f"day {value:.0f}"
    return bare(value, unit) if unit == "%" else f"{bare(value, unit)} {unit}".rstrip()


def limit_text(target: Target) -> str:
    """The target as a reader states it."""
    if target.comparison is Comparison.within:
        return "within the reference's min–max"
    if target.target is None:
        raise ValueError(f"{target.name}: a {target.comparison} target needs a limit")
    if target.comparison is Comparison.faster:
        return f"≥ {target.target:g}× faster"
    if target.comparison is Comparison.at_most and target.target == 0:
        return f"0 {target.unit}".rstrip()
    sign = "≤" if target.comparison is Comparison.at_most else "≥"
    return f"{sign} {target.target:g} {target.unit}".rstrip()


def reference_text(target: Target, figure: Figure) -> str:
    """The reference tool's name and figure, '—' when there is none."""
    if figure.reference is None:
        return "—"
    text = shown(figure.reference, target.unit)
    if figure.low is not None and figure.high is not None:
        low, high = bare(figure.low, target.unit), bare(figure.high, target.unit)
        text += f" (median), {low}–{high} (min–max)"
    return f"{target.reference}: {text}" if target.reference else text


def ratio_text(target: Target, figure: Figure) -> str:
    """lianfang's figure over the reference's; for times, how many times faster below 1."""
    if figure.reference is None or figure.reference == 0:
        return "—"
    times = figure.ours / figure.reference
    text = f"{times:.2g}×" if times < 0.1 else f"{times:.2f}×" if times < 10 else f"{times:.0f}×"
    if target.unit in TIMES and times < 1:
        text += f" ({number(1 / times)}× faster)"
    return text


def summary_row(target: Target, figure: Figure | None, section: int | None) -> list[str]:
    """One target's row: what, lianfang, the reference, the ratio, the limit and the verdict."""
    what = target.what + (f" (§{section})" if section else "")
    if figure is None:
        return [what, "not measured", "—", "—", limit_text(target), "**not measured**"]
    verdict = "met" if target.met(figure) else "**missed**"
    ours = shown(figure.ours, target.unit)
    return [what, ours, reference_text(target, figure), ratio_text(target, figure),
            limit_text(target), verdict]  # fmt: skip


def summary_section(
    benchmarks: Sequence[Benchmark], results: Mapping[str, Result], targets: Sequence[Target]
) -> str:
    """One row per target, judged from the stored figures; the count met first."""
    number_of = {b.name: n for n, b in enumerate(benchmarks, start=1)}
    rows, met = [], 0
    for target in sorted(targets, key=lambda t: number_of.get(t.benchmark, 0)):
        result = results.get(target.benchmark)
        figure = result.table.figures.get(target.name) if result else None
        met += figure is not None and target.met(figure)
        rows.append(summary_row(target, figure, number_of.get(target.benchmark)))
    lines = [
        "## Summary",
        "",
        f"**{met} of {len(targets)} targets met.** One row per target set by the issues; § is "
        "the section below with the method and every figure. Ratio = lianfang's figure ÷ the "
        "reference tool's on the same work.",
        "",
        _row(SUMMARY_COLUMNS),
        _row(["---"] * len(SUMMARY_COLUMNS)),
        *(_row(row) for row in rows),
    ]
    return "\n".join(lines) + "\n"


def shared_facts(results: Sequence[Result]) -> dict[str, str]:
    """The machine facts every result has in common (the machine section shows these)."""
    if not results:
        return {}
    first = results[0].machine
    return {k: v for k, v in first.items() if all(r.machine.get(k) == v for r in results)}


def machine_section(facts: Mapping[str, str]) -> str:
    """The machine and software as a two-column table."""
    lines = ["## Machine", "", "| | |", "|---|---|"]
    lines += [_row([f"**{name}**", value]) for name, value in facts.items()]
    return "\n".join(lines) + "\n"


def table_section(number: int, table: Table, measured: Mapping[str, str]) -> str:
    """One benchmark: its title, when and where it ran (where that differs), its notes and its
    figures."""
    lines = [f"## {number}. {table.title}", ""]
    if measured:
        lines.append("- Measured: " + "; ".join(f"{k} {v}" for k, v in measured.items()) + ".")
    lines += [f"- {note}" for note in table.notes]
    lines += ["", _row(table.columns), _row(["---"] * len(table.columns))]
    lines += [_row(row) for row in table.rows]
    return "\n".join(lines) + "\n"


def missing_section(number: int, benchmark: Benchmark) -> str:
    """A benchmark with no stored result."""
    return (
        f"## {number}. {benchmark.about}\n\nNot measured yet: "
        f"`python -m benchmarks --only {benchmark.name}`.\n"
    )


def render(
    benchmarks: Sequence[Benchmark], results: Mapping[str, Result], targets: Sequence[Target]
) -> str:
    """The whole report."""
    found = [results[b.name] for b in benchmarks if b.name in results]
    common = shared_facts(found)
    sections = [HEADER, summary_section(benchmarks, results, targets), machine_section(common)]
    for number, benchmark in enumerate(benchmarks, start=1):
        result = results.get(benchmark.name)
        if result is None:
            sections.append(missing_section(number, benchmark))
            continue
        own = {k: v for k, v in result.machine.items() if k not in common}
        sections.append(table_section(number, result.table, own))
    return "\n".join(sections)


def write(path: Path, text: str) -> None:
    """Write the report."""
    path.write_text(text, encoding="utf-8")
