"""``lianfang forecast``: run the epidemic model on an area, or fit it to observed series."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from lianfang.cli.common import (
    DbOption,
    JsonOption,
    console,
    open_engine,
    operator,
    say,
    settings_for,
)
from lianfang.i18n import _

if TYPE_CHECKING:
    from rich.table import Table
    from sqlalchemy.orm import Session

    from lianfang.forecast.adoption import AdoptedForecast
    from lianfang.forecast.models import RunKind

app = typer.Typer(
    help="Epidemic forecast: run the model on an area, or fit it to data.", no_args_is_help=True
)

AreaOption = Annotated[str, typer.Option("--area", help="Area code (any form), e.g. 3206.")]


def _queue(db: str | None, code: str, kind: RunKind, inputs: dict[str, Any]) -> int:
    from lianfang.db.engine import make_sessionmaker, transaction
    from lianfang.forecast import service

    engine = open_engine(db)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            run = service.queue(  # claimed by this process: no server takes it from the queue
                session=session,
                actor=operator(),
                code=code,
                kind=kind,
                inputs=inputs,
                worker=service.this_process(),
            )
            return run.id
    finally:
        engine.dispose()


def _compute(db: str | None, run_id: int) -> dict[str, Any]:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from lianfang.db.engine import make_sessionmaker
    from lianfang.forecast import worker
    from lianfang.forecast.flows import WORKERS

    engine = open_engine(db)
    factory = make_sessionmaker(engine)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
    )
    try:
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task(f"计算中 / computing run {run_id}", total=1.0)
            worker.execute(
                factory,
                run_id,
                workers=WORKERS,
                tick=lambda share: bar.update(task, completed=share),
                scheduler=settings_for(db).dask_scheduler,
            )
        with factory() as session:
            return _stored(session, run_id)
    finally:
        engine.dispose()


def _stored(session: Session, run_id: int) -> dict[str, Any]:
    """A stored run as the commands print it with --json: what it is, then its result."""
    from lianfang.forecast import service

    run = service.get_run(session=session, actor=operator(), run_id=run_id)
    return {
        "run": run.id,
        "area_code": run.area_code,
        "kind": run.kind.value,
        "status": run.status.value,
        "created_by": run.created_by,
        "created_at": run.created_at.isoformat(),
        "format_version": run.format_version,
        "package_version": run.package_version,
        "error": run.error,
        **(service.result_of(run) or {}),
    }


@app.command("run")
def run(
    area: AreaOption,
    days: Annotated[int, typer.Option(min=7, max=365, help="Days to simulate.")] = 120,
    scenario: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="JSON file with one scenario or a list (compared side by side); default: the "
            "Nantong presets (no extra measures; antivirals, oximeters, surge beds).",
        ),
    ] = None,
    ensemble: Annotated[
        int, typer.Option(min=0, max=500, help="Stochastic members (0: one deterministic run).")
    ] = 0,
    seed: Annotated[int, typer.Option(help="Seed of the ensemble.")] = 0,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Forecast an area: peak date and height per child area, with 5–95% bands."""
    from lianfang.forecast import service
    from lianfang.forecast.inputs import scenarios_from_json
    from lianfang.forecast.models import RunKind

    chosen = (
        [s.to_dict() for s in scenarios_from_json(scenario.read_text("utf-8"), scenario.name)]
        if scenario
        else None  # the presets
    )
    inputs = service.forecast_inputs(days=days, members=ensemble, seed=seed, scenarios=chosen)
    result = _compute(db, _queue(db, area, RunKind.forecast, inputs))
    if as_json:
        console.print_json(json.dumps(result, ensure_ascii=False))
        return
    _print_scenarios(result)
    say(_("stored as forecast run #%(run)s", run=result["run"]))


def _print_scenarios(result: dict[str, Any]) -> None:
    for item in result["scenarios"]:
        console.print(f"[bold]{item['name']}[/]（{item['members'] or '确定性 deterministic'}）")
        console.print(_peak_table(item["peaks"], result["group_names"]))


def _peak_table(peaks: list[dict[str, Any]], names: list[str]) -> Table:
    from rich.table import Table

    table = Table()
    for header in (
        "区域 area",
        "高峰日 peak",
        "5%–95%",
        "高峰日新增症状 peak/day",
        "死亡 deaths",
        "在院峰值 beds",
        "吸氧峰值 on oxygen",
    ):
        table.add_column(header, justify="left" if header.startswith("区域") else "right")
    labels = [*names, "合计 all"]
    for label, row in zip(labels, peaks, strict=True):
        spread = (
            f"{row['peak_date_low'][5:]}–{row['peak_date_high'][5:]}" if row["peak_date"] else "—"
        )
        table.add_row(
            label,
            row["peak_date"] or "无暴发 no outbreak",
            spread,
            f"{row['peak_symptomatic']:,.0f}",
            f"{row['deaths']:,.0f}",
            f"{row['peak_hospital_census']:,.0f}",
            f"{row.get('peak_oxygen_patients', 0):,.0f}",
        )
    return table


@app.command("fit")
def fit(
    area: AreaOption,
    series: Annotated[
        Path,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="CSV: date plus any of positives, visits, admissions, hospital_census.",
        ),
    ],
    until: Annotated[
        str | None,
        typer.Option(help="Fit only the days up to this date (YYYY-MM-DD); forecast the rest."),
    ] = None,
    days: Annotated[
        int, typer.Option(min=0, max=365, help="Days to forecast after the data.")
    ] = 30,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Fit transmission, start date and reporting to observed daily series of an area, and
    forecast every outcome from the fitted parameters."""
    from lianfang.forecast.inputs import fit_inputs, series_from_csv
    from lianfang.forecast.models import RunKind

    observed = series_from_csv(series)
    last = date.fromisoformat(until) if until else None
    inputs = fit_inputs(observed, last, days)
    result = _compute(db, _queue(db, area, RunKind.fit, inputs))
    if as_json:
        console.print_json(json.dumps(result, ensure_ascii=False))
        return
    _print_fit(result)


def _print_fit(result: dict[str, Any]) -> None:
    from rich.table import Table

    table = Table(title="拟合结果 / fitted (95% interval)")
    for header in ("参数 parameter", "估计 estimate", "下限 low", "上限 high"):
        table.add_column(header)
    for name, (value, low, high) in result["estimates"].items():
        shown = [f"{x:.3g}" if x is not None else "—" for x in (value, low, high)]
        table.add_row(name, *shown)
    console.print(table)
    say(
        _(
            "epidemic start %(start)s; log-likelihood %(log_likelihood)s; %(seconds)s s; "
            "stored as run #%(run)s",
            start=result["start"],
            log_likelihood=f"{result['log_likelihood']:.1f}",
            seconds=f"{result['seconds']:.1f}",
            run=result["run"],
        ),
    )
    for name, quality in result["quality"].items():
        console.print(f"{name}: " + ", ".join(f"{k} {v:.2f}" for k, v in quality.items()))
    if result.get("scenarios"):  # what follows from the fitted parameters, per child area
        _print_scenarios(result)


RunId = Annotated[int, typer.Argument(min=1, help="The stored run's number (#).")]


@app.command("show")
def show(run_id: RunId, as_json: JsonOption = False, db: DbOption = None) -> None:
    """Print a stored run or fit: its status, versions and results."""
    from lianfang.db.engine import make_sessionmaker

    engine = open_engine(db)
    try:
        with make_sessionmaker(engine)() as session:
            stored = _stored(session, run_id)
    finally:
        engine.dispose()
    if as_json:
        console.print_json(json.dumps(stored, ensure_ascii=False))
        return
    say(
        _(
            "%(kind)s #%(run)s of %(area)s: %(status)s; queued by %(by)s at %(at)s; "
            "run format %(format)s, lianfang %(version)s",
            kind=stored["kind"],
            run=stored["run"],
            area=stored["area_code"],
            status=stored["status"],
            by=stored["created_by"],
            at=stored["created_at"][:16],
            format=stored["format_version"] or "?",
            version=stored["package_version"] or "?",
        )
    )
    if stored["error"]:
        say(stored["error"].splitlines()[0])
    if "estimates" in stored:
        _print_fit(stored)
    elif "scenarios" in stored:
        _print_scenarios(stored)


@app.command("rerun")
def rerun(run_id: RunId, as_json: JsonOption = False, db: DbOption = None) -> None:
    """Compute a stored run again from its stored inputs and say whether the figures are the
    same (refused, naming the versions, when this lianfang computes another run format)."""
    from lianfang.db.engine import make_sessionmaker, transaction
    from lianfang.forecast import service

    engine = open_engine(db)
    try:
        factory = make_sessionmaker(engine)
        with transaction(factory) as session:
            again = service.rerun(
                session=session, actor=operator(), run_id=run_id, worker=service.this_process()
            ).id
        with factory() as session:
            before = _stored(session, run_id)
    finally:
        engine.dispose()
    after = _compute(db, again)
    figures = {k: v for k, v in before.items() if k not in RUN_KEYS}
    same = service.same_figures(figures, {k: v for k, v in after.items() if k not in RUN_KEYS})
    if as_json:
        console.print_json(json.dumps({"run": run_id, "rerun": again, "same": same}))
    elif same:
        say(_("run #%(again)s reproduces run #%(run)s: the same figures", again=again, run=run_id))
    else:
        say(_("run #%(again)s differs from run #%(run)s", again=again, run=run_id))
    if not same:
        raise typer.Exit(1)


RUN_KEYS = frozenset(
    {"run", "area_code", "kind", "status", "created_by", "created_at", "format_version",
     "package_version", "error"}
)  # fmt: skip
"""What ``_stored`` says about a run besides its figures."""


@app.command("adopt")
def adopt(
    run_id: RunId,
    scenario: Annotated[
        int, typer.Option(min=0, help="Which of the run's scenarios is the plan (0: the first).")
    ] = 0,
    db: DbOption = None,
) -> None:
    """Make a finished run or fit its area's planning forecast (the one before is kept as
    history)."""
    from lianfang.db.engine import make_sessionmaker, transaction
    from lianfang.forecast import adoption

    engine = open_engine(db)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            made = adoption.adopt(
                session=session, actor=operator(), run_id=run_id, scenario=scenario
            )
            area, by = made.area_code, made.adopted_by
    finally:
        engine.dispose()
    say(
        _(
            "run #%(run)s (scenario %(scenario)s) is now the planning forecast of %(area)s, "
            "adopted by %(by)s",
            run=run_id,
            scenario=scenario,
            area=area,
            by=by,
        )
    )


@app.command("adopted")
def adopted(area: AreaOption, as_json: JsonOption = False, db: DbOption = None) -> None:
    """The adopted planning forecast for an area (its own or the nearest area's above it):
    demand per item (peak with 5–95%, total; every day with --json), the peak date, and whether
    it is stale."""
    from lianfang.db.engine import make_sessionmaker
    from lianfang.forecast import adoption

    engine = open_engine(db)
    try:
        with make_sessionmaker(engine)() as session:
            found = adoption.adopted_forecast(session=session, actor=operator(), area=area)
    finally:
        engine.dispose()
    if as_json:
        console.print_json(json.dumps(found.as_dict(), ensure_ascii=False))
        return
    say(
        _(
            "%(name)s: run #%(run)s (%(scenario)s), adopted for %(adopted)s by %(by)s at %(at)s; "
            "peak %(peak)s",
            name=found.area_name,
            run=found.run_id,
            scenario=found.scenario,
            adopted=found.adopted_area_code,
            by=found.adopted_by,
            at=found.adopted_at.isoformat()[:16],
            peak=found.peak_date or "—",
        )
    )
    if found.stale:
        say(_("STALE: %(reasons)s", reasons="; ".join(found.stale_reasons)))
    console.print(_demand_table(found))


def _demand_table(found: AdoptedForecast) -> Table:
    """Per item: the highest daily median (with its 5–95%) and its day, and the total (--json
    has every day)."""
    from rich.table import Table

    table = Table()
    for header in ("项目 item", "单位 unit", "峰值 peak (5%–95%)", "峰值日 on", "合计 total"):
        table.add_column(header, justify="left" if header.startswith(("项目", "单位")) else "right")
    for item, demand in found.demand.items():
        top = max(range(len(demand.median)), key=lambda d: demand.median[d])
        table.add_row(
            item,
            demand.unit,
            f"{demand.median[top]:,.0f} ({demand.low[top]:,.0f}–{demand.high[top]:,.0f})",
            (found.start + timedelta(days=top)).isoformat(),
            f"{sum(demand.median):,.0f}",
        )
    return table
