"""``lianfang forecast``: run the epidemic model on an area, or fit it to observed series."""

from __future__ import annotations

import json
from datetime import date
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
    from lianfang.forecast import service

    run = service.get_run(session=session, actor=operator(), run_id=run_id)
    result = service.result_of(run)
    assert result is not None  # the worker just finished it
    return {"run": run_id, "area_code": run.area_code, **result}


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
    for item in result["scenarios"]:
        console.print(f"[bold]{item['name']}[/]（{item['members'] or '确定性 deterministic'}）")
        console.print(_peak_table(item["peaks"], result["group_names"]))
    say(_("stored as forecast run #%(run)s", run=result["run"]))


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
    """Fit transmission, start date and reporting to observed daily series of an area."""
    from rich.table import Table

    from lianfang.forecast.inputs import fit_inputs, series_from_csv
    from lianfang.forecast.models import RunKind

    observed = series_from_csv(series)
    last = date.fromisoformat(until) if until else None
    inputs = fit_inputs(observed, last, days)
    result = _compute(db, _queue(db, area, RunKind.fit, inputs))
    if as_json:
        console.print_json(json.dumps(result, ensure_ascii=False))
        return
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
