"""``lianfang duty``: duty rosters (值班值守) — who is on duty now, importing and exporting the
roster sheet."""

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
    help="值班值守：当前值班、导入导出值班表 / Duty rosters: who is on duty, roster imports and "
    "exports.",
    no_args_is_help=True,
)
AreaOption = Annotated[str, typer.Option("--area", help="区划代码 / Area code, e.g. 320623.")]


@app.command("now")
def now_command(
    area: AreaOption,
    tonight: Annotated[
        bool, typer.Option("--tonight", help="今晚 22:00 的值班 / Tonight's duty (22:00).")
    ] = False,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """当前值班：带班领导与值班员（本级无人值班时取上一级）/ Who is on duty for an area now:
    the leader and staff, else those of the nearest area above."""
    from lianfang.duty import service
    from lianfang.duty.schemas import OnDutyRead

    with unit_of_work(db) as session:
        actor = operator()
        if tonight:
            found = service.tonight(session=session, actor=actor, area_code=area)
        else:
            found = service.on_duty(session=session, actor=actor, area_code=area)
        read = OnDutyRead.of(found, actor)
    if as_json:
        console.print_json(json.dumps(read.model_dump(mode="json"), ensure_ascii=False))
        return
    lang = language()
    if not read.shifts:
        say(_("nobody is on duty for %(area)s at %(at)s", area=read.area_name, at=read.at_local))
        return
    if read.fallback:
        say(_("nobody on duty in %(area)s itself; on duty in %(source)s:", area=read.area_name,
              source=read.source_name or ""))  # fmt: skip
    for s in read.shifts:
        console.print(f"{s.role.label(lang)}  {s.name}  {s.phone}  {s.note}".rstrip(),
                      highlight=False)  # fmt: skip
    if read.handover is not None:
        say(_("handover (%(by)s): %(text)s", by=read.handover.written_by_name,
              text=read.handover.text))  # fmt: skip


@app.command("import")
def import_command(
    file: SheetArgument,
    dry_run: DryRunOption = False,
    db: DbOption = None,
) -> None:
    """导入值班表（全部行无误才写入）/ Import a duty-roster sheet, all or nothing.

    有错误行时在原文件旁写出 <文件名>.errors.xlsx 并以 1 退出 / On invalid rows, writes
    <stem>.errors.xlsx next to the file, prints the first errors and exits 1."""
    from lianfang.duty import importing
    from lianfang.duty.sheet import SPEC
    from lianfang.io import sheets

    table = sheets.read(file.read_bytes(), file.name, SPEC)
    with reporting_rows(file, table), unit_of_work(db) as session:
        result = importing.import_table(
            session=session, actor=operator(), table=table, dry_run=dry_run
        )
    summary = _("duty roster: %(rows)s rows, created %(created)s, updated %(updated)s",
                rows=result.rows, created=result.created, updated=result.updated)  # fmt: skip
    say(_("dry run: %(summary)s", summary=summary) if dry_run else summary)


@app.command("export")
def export_command(
    area: AreaOption,
    start: Annotated[str, typer.Option("--from", help="首日 YYYY-MM-DD / First day.")],
    end: Annotated[str, typer.Option("--to", help="末日 YYYY-MM-DD / Last day.")],
    output: Annotated[
        Path, typer.Option("-o", "--output", dir_okay=False, help=".xlsx 或 .csv / .xlsx or .csv")
    ],
    db: DbOption = None,
) -> None:
    """导出值班表（与导入同一格式，可再导入）/ Export the duty roster of an area and every area
    below it in the import's own sheet. The format follows the file name (.csv, else .xlsx)."""
    from datetime import date

    from lianfang.duty import exporting
    from lianfang.errors import InvalidInputError

    try:
        first, last = date.fromisoformat(start), date.fromisoformat(end)
    except ValueError:
        raise InvalidInputError(_("--from and --to are dates (YYYY-MM-DD)")) from None
    file_format = "csv" if output.suffix.lower() == ".csv" else "xlsx"
    with unit_of_work(db) as session:
        data, rows = exporting.export(session=session, actor=operator(), area_code=area,
                                      start=first, end=last, file_format=file_format)  # fmt: skip
    output.write_bytes(data)
    say(_("%(rows)s rows written to %(path)s", rows=rows, path=str(output)))
