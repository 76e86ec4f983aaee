"""``lianfang resources``: medical resources (医疗资源) — the reserve of an area, where to get
an item near a village, importing facility, capacity and stock-count sheets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from lianfang.cli.common import (
    DbOption,
    DryRunOption,
    JsonOption,
    SheetArgument,
    console,
    language,
    operator,
    reporting_rows,
    say,
    unit_of_work,
)
from lianfang.i18n import _

app = typer.Typer(
    help="医疗资源：储备、就近购药、导入 / Medical resources: reserves, where to get medicine, "
    "imports.",
    no_args_is_help=True,
)


def _days(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


@app.command("reserve")
def reserve_command(
    area: Annotated[str, typer.Option("--area", help="区划代码 / Area code, e.g. 320623101.")],
    short_only: Annotated[
        bool, typer.Option("--short", help="只列低于目标的 / Only rows below target.")
    ] = False,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """储备：各机构各物资的库存、可供天数、目标与缺口 / Per facility and item: balance, days of
    supply, target, shortfall and the nearest facility that could transfer."""
    from rich.table import Table

    from lianfang.resources import reserve

    with unit_of_work(db) as session:
        read = reserve.reserve(session=session, actor=operator(), area_code=area)
    rows = read.short if short_only else read.rows
    if as_json:
        from lianfang.resources.schemas import ReserveRead

        payload = ReserveRead.of(read, short_only).model_dump(mode="json")
        console.print_json(json.dumps(payload, ensure_ascii=False))
        return
    lang = language()
    table = Table(title=str(_("Reserve of %(area)s", area=read.area.name)))
    headers = (_("facility"), _("item"), _("balance"), _("days of supply"), _("target"),
               _("shortfall"), _("nearest source"))  # fmt: skip
    for header in headers:
        table.add_column(header.in_language(lang))
    for r in rows:
        stale = f" ({_('stale').in_language(lang)})" if r.stale else ""
        source = f"{r.source.name} {r.source.km} km" if r.source else ""
        table.add_row(
            r.facility.name, f"{r.item.name}", f"{r.balance} {r.item.unit}{stale}", _days(r.days),
            "" if r.target is None else str(r.target), str(r.shortfall or ""), source,
        )  # fmt: skip
    console.print(table)
    say(_("%(short)s of %(rows)s rows below target", short=len(read.short), rows=len(read.rows)))


@app.command("find")
def find_command(
    item: Annotated[
        str, typer.Argument(help="物资代码或名称 / Item code or name, e.g. ibuprofen.")
    ],
    near: Annotated[str, typer.Option("--near", help="村(居)代码 / Village code.")],
    limit: Annotated[int, typer.Option("--limit", min=1, max=50, help="最多几处 / At most.")] = 10,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """就近购药：附近有货的药店和卫生室 / Pharmacies and clinics near a village that report the
    item in stock, nearest first."""
    from rich.table import Table

    from lianfang import timeutil
    from lianfang.resources import lookup

    with unit_of_work(db) as session:
        found = lookup.find(session=session, actor=lookup.PUBLIC, item=item, near=near, limit=limit)
    lang = language()
    if as_json:
        payload = {
            "item": found.item.code, "near": found.near.code,
            "results": [
                {"facility_id": f.facility_id, "name": f.name, "type": f.type.value,
                 "address": f.address, "hours": f.hours, "phone": f.phone, "km": f.km,
                 "level": f.level.in_language(lang), "reported_at": f.reported_at.isoformat(),
                 "stale": f.stale}
                for f in found.results
            ],
        }  # fmt: skip
        console.print_json(json.dumps(payload, ensure_ascii=False))
        return
    title = _("%(item)s near %(near)s", item=found.item.name, near=found.near.name)
    table = Table(title=title.in_language(lang))
    for header in (_("place"), _("distance"), _("stock"), _("reported at"), _("opening hours")):
        table.add_column(header.in_language(lang))
    for f in found.results:
        stale = f" ({_('stale').in_language(lang)})" if f.stale else ""
        table.add_row(
            f"{f.name}（{f.type.label(lang)}）", f"{f.km} km", f.level.in_language(lang),
            timeutil.format_local(f.reported_at, lang) + stale, f.hours,
        )  # fmt: skip
    console.print(table)
    if not found.results:
        say(_("no place near %(near)s reports it in stock", near=found.near.name))


@app.command("import")
def import_command(
    file: SheetArgument,
    dry_run: DryRunOption = False,
    db: DbOption = None,
) -> None:
    """导入机构、能力上报或库存盘点表（全部行无误才写入）/ Import a facilities, capacity or
    stock-count sheet (told apart by its headers), all or nothing.

    有错误行时在原文件旁写出 <文件名>.errors.xlsx 并以 1 退出 / On invalid rows, writes
    <stem>.errors.xlsx next to the file, prints the first errors and exits 1."""
    from lianfang.resources import importing, sheet

    spec, table = sheet.read(file.read_bytes(), file.name)
    with reporting_rows(file, table), unit_of_work(db) as session:
        result = importing.import_table(
            session=session, actor=operator(), spec=spec, table=table, dry_run=dry_run
        )
    summary = _(
        "%(kind)s: %(rows)s rows, created %(created)s, updated %(updated)s, "
        "unchanged %(unchanged)s",
        kind=spec.name, rows=result.rows, created=result.created, updated=result.updated,
        unchanged=result.unchanged,
    )  # fmt: skip
    say(_("dry run: %(summary)s", summary=summary) if dry_run else summary)


@app.command("export")
def export_command(
    kind: Annotated[
        str, typer.Argument(help="facilities、capacity 或 stock / facilities, capacity or stock.")
    ],
    area: Annotated[str, typer.Option("--area", help="区划代码 / Area code, e.g. 320623.")],
    output: Annotated[
        Path, typer.Option("-o", "--output", dir_okay=False, help=".xlsx 或 .csv / .xlsx or .csv")
    ],
    db: DbOption = None,
) -> None:
    """导出机构、能力上报或库存盘点表（与导入同一格式，可再导入）/ Export the facilities,
    capacity reports or stock counts of an area in the import's own sheet, so the file imports
    again. The format follows the file name (.csv, else .xlsx). Audited as an export."""
    from lianfang.resources import exporting

    file_format = "csv" if output.suffix.lower() == ".csv" else "xlsx"
    with unit_of_work(db) as session:
        content, rows = exporting.export(
            session=session, actor=operator(), kind=kind, area_code=area, file_format=file_format
        )
    output.write_bytes(content)
    say(_("%(rows)s rows written to %(path)s", rows=rows, path=str(output)))
