"""Run the benchmarks, store each one's result, and write BENCHMARKS.md from the stored results.

python -m benchmarks                 run every benchmark, then write the report
python -m benchmarks --only NAME     run one (repeatable), then write the report
python -m benchmarks --report        write the report from the stored results only
python -m benchmarks --list          the benchmarks, their targets and when each last ran
"""

from __future__ import annotations

import argparse
from pathlib import Path
from time import perf_counter

from benchmarks import machine, report, results, suite
from benchmarks.targets import TARGETS

OUTPUT = machine.ROOT / "BENCHMARKS.md"


def run(names: list[str], directory: Path) -> None:
    """Run the named benchmarks in order, storing each result as soon as it is known."""
    facts = machine.describe()
    for name, value in facts.items():
        print(f"{name}: {value}")
    for name in names:
        table = suite.named(name).runner()()
        stored = results.save(directory, results.Result(name, facts, table))
        print(f"stored {stored}")


def render(directory: Path) -> str:
    """The report rendered from the results stored in the directory."""
    found = {name: results.load(directory, name) for name in suite.NAMES}
    return report.render(
        suite.BENCHMARKS, {k: v for k, v in found.items() if v is not None}, TARGETS
    )


def listing(directory: Path) -> None:
    """Print every benchmark, when its stored result was measured, and its targets."""
    for benchmark in suite.BENCHMARKS:
        result = results.load(directory, benchmark.name)
        when = result.machine.get("Date", "?") if result else "not measured"
        print(f"{benchmark.name:20} {benchmark.about} [{when}]")
        for target in TARGETS:
            if target.benchmark == benchmark.name:
                print(f"{'':20}   {target.name}: {report.limit_text(target)}")


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    about = (__doc__ or "").splitlines()[0]
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=about)
    runnable = suite.NAMES + tuple(b.name for b in suite.PENDING)
    parser.add_argument("--only", action="append", choices=runnable, metavar="NAME",
                        help="run only this benchmark (repeatable)")  # fmt: skip
    parser.add_argument("--report", action="store_true", help="only render the stored results")
    parser.add_argument("--list", action="store_true", help="list benchmarks and targets")
    parser.add_argument("--results", type=Path, default=results.RESULTS,
                        help="where results are stored; elsewhere than the default, the "
                        "report is written there too (for a trial run)")  # fmt: skip
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Run, store and report as the command line asks."""
    options = parse(argv)
    if options.list:
        listing(options.results)
        return
    start = perf_counter()
    if not options.report:
        run(options.only or list(suite.NAMES), options.results)
    output = OUTPUT if options.results == results.RESULTS else options.results / OUTPUT.name
    report.write(output, render(options.results))
    print(f"\nWrote {output} in {perf_counter() - start:.0f} s.")


if __name__ == "__main__":
    main()
