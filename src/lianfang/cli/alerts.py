"""``lianfang alerts``: the alert engine — list an area's alerts, run the periodic rules."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from lianfang.alerts.choices import AlertKind, AlertStatus
from lianfang.cli.common import DbOption, JsonOption, console, language, operator, say, unit_of_work
from lianfang.i18n import _

app = typer.Typer(
    help="预警：列出、运行规则 / Alerts: list an area's alerts, run the periodic rules.",
    no_args_is_help=True,
)


@app.command("list")
def list_command(
    area: Annotated[str, typer.Option("--area", help="区划代码 / Area code, e.g. 320623001.")],
    status: Annotated[
        AlertStatus | None,
        typer.Option("--status", help="open 或 closed，默认 open / open or closed (default open)."),
    ] = AlertStatus.open,
    kind: Annotated[
        list[AlertKind] | None, typer.Option("--kind", help="只列此类 / Only this kind.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=500, help="最多 / At most.")] = 100,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """预警列表：最紧急的在前 / An area's alerts, the most severe first: what, where, why, the
    task and (for a referral) the suggested hospital."""
    from rich.table import Table

    from lianfang.alerts import service
    from lianfang.alerts.schemas import AlertPage, AlertRead

    lang = language()
    with unit_of_work(db) as session:
        f = service.AlertFilter(area=area, status=status, kinds=frozenset(kind or ()))
        rows, total = service.list_alerts(session=session, actor=operator(), f=f, limit=limit)
        views = service.describe(session=session, alerts=rows)
        page = AlertPage(items=[AlertRead.of(v) for v in views], total=total)
    if as_json:
        console.print_json(json.dumps(page.model_dump(mode="json"), ensure_ascii=False))
        return
    table = Table(title=str(_("Alerts (%(shown)s of %(total)s)", shown=len(rows), total=total)))
    for header in (_("ID"), _("severity"), _("kind"), _("about"), _("area"), _("why"),
                   _("task"), _("suggested hospital")):  # fmt: skip
        table.add_column(header.in_language(lang))
    for v in views:
        a = v.alert
        task = f"#{a.task_id} {v.task_owner or ''} {v.task.deadline}" if v.task else ""
        where = (
            f"{v.suggestion.name} ({v.suggestion.beds_free}, {v.suggestion.km} km)"
            if v.suggestion else ""
        )  # fmt: skip
        table.add_row(
            str(a.id), a.severity.label(lang), a.kind.label(lang), v.subject_name, v.area_name,
            v.why.in_language(lang), task, where,
        )  # fmt: skip
    console.print(table)


@app.command("run")
def run_command(
    area: Annotated[
        str | None, typer.Option("--area", help="区划代码，默认全部 / Area code (default: all).")
    ] = None,
    kind: Annotated[
        list[AlertKind] | None, typer.Option("--kind", help="只运行此规则 / Only this rule.")
    ] = None,
    db: DbOption = None,
) -> None:
    """运行预警规则一次 / Run the periodic alert rules once (what the job does): open or update
    each alert found, with its task; clear those no longer found. Running it twice changes
    nothing more."""
    from lianfang.alerts import jobs

    with unit_of_work(db) as session:
        runs = jobs.run_rules(session=session, actor=operator(), area=area, kinds=kind)
    for r in runs:
        say(_(
            "%(kind)s: %(found)s found, %(opened)s opened, %(updated)s updated, "
            "%(cleared)s cleared, %(tasks)s tasks",
            kind=r.kind.text, found=r.found, opened=r.opened, updated=r.updated,
            cleared=r.cleared, tasks=r.tasks,
        ))  # fmt: skip
