"""``lianfang people``: the key-population registry (重点人群) — template, import, export,
coverage. Acts as the operator at the terminal, like every other group."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from lianfang.areas.choices import AreaLevel
from lianfang.cli.common import (
    SHOWN_ERRORS,
    DbOption,
    DryRunOption,
    JsonOption,
    SheetArgument,
    console,
    operator,
    reporting_rows,
    say,
    unit_of_work,
)
from lianfang.i18n import _
from lianfang.people.choices import CoverageSort, Grade, Guarantee, SortOrder

if TYPE_CHECKING:
    from rich.table import Table

    from lianfang.people.importing import Cleared
    from lianfang.people.schemas import CoverageFigures

app = typer.Typer(
    help="重点人群台账：模板、导入、导出、四有覆盖、重新定级 / Key-population registry: template, "
    "import, export, coverage, regrading.",
    no_args_is_help=True,
)

AreaOption = Annotated[
    str, typer.Option("--area", help="区划代码（任意位数）/ Area code, e.g. 320623.")
]
OutOption = Annotated[
    Path, typer.Option("--output", "-o", dir_okay=False, help="输出文件 / File to write.")
]


VillagesOption = Annotated[
    str | None,
    typer.Option(
        "--area",
        help="村(居)名称在此区划内查找 / Area whose villages a sheet may name, e.g. 320623001.",
    ),
]


@app.command("template")
def template(output: OutOption, area: VillagesOption = None, db: DbOption = None) -> None:
    """写出空白导入模板（.xlsx），附村(居)名单 / Write the empty import template (.xlsx) with a
    sheet of the villages (name, town, county, 12-digit code)."""
    from lianfang.people import villages

    with unit_of_work(db) as session:
        data = villages.template(session=session, actor=operator(), area=area)
    output.write_bytes(data)
    say(_("template written to %(output)s", output=output))


@app.command("import")
def import_file(
    file: SheetArgument,
    dry_run: DryRunOption = False,
    area: VillagesOption = None,
    db: DbOption = None,
) -> None:
    """导入重点人群表（全部行无误才写入）/ Import a people sheet, all or nothing.

    有错误行时在原文件旁写出 <文件名>.errors.xlsx 并以 1 退出 / On invalid rows, writes
    <stem>.errors.xlsx next to the file, prints the first errors and exits 1."""
    from lianfang.io import sheets
    from lianfang.people.importing import import_table
    from lianfang.people.sheet import SPEC

    table = sheets.read(file.read_bytes(), file.name, SPEC)
    with reporting_rows(file, table), unit_of_work(db) as session:
        result = import_table(
            session=session, actor=operator(), table=table, dry_run=dry_run, area=area
        )
    counts = {
        "rows": result.rows,
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "responsibles": result.responsibles_created,
    }
    summary = _(
        "%(rows)s rows: created %(created)s, updated %(updated)s, unchanged %(unchanged)s, "
        "new responsibles %(responsibles)s",
        **counts,
    )
    say(_("dry run: %(summary)s", summary=summary) if dry_run else summary)
    _cleared(result.cleared)


def _cleared(cleared: list[Cleared]) -> None:
    """Name the stored values the file empties (cells saying 清空)."""
    from lianfang.i18n import _
    from lianfang.io.sheets import CLEAR

    if cleared:
        message = _("Stored values emptied by cells saying %(clear)s: %(n)s", clear=CLEAR,
                    n=len(cleared))  # fmt: skip
        console.print(str(message))
    for c in cleared[:SHOWN_ERRORS]:
        line = _("row %(row)s, person %(id)s: %(column)s", row=c.row, id=c.person_id,
                 column=c.column)  # fmt: skip
        console.print(f"  {line}", highlight=False)


@app.command("export")
def export(
    area: AreaOption,
    output: OutOption,
    file_format: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="xlsx 或 csv（默认按文件后缀）/ xlsx or csv (default: from the suffix).",
        ),
    ] = None,
    grade: Annotated[
        list[Grade] | None,
        typer.Option("--grade", help="只导出该等级，可重复 / Only this grade (repeatable)."),
    ] = None,
    missing: Annotated[
        Guarantee | None,
        typer.Option("--missing", help="缺该项保障的红黄人员 / Red/yellow people lacking it."),
    ] = None,
    overdue: Annotated[
        bool, typer.Option("--overdue", help="随访已逾期 / Check-in overdue.")
    ] = False,
    alert: Annotated[
        bool, typer.Option("--alert", help="有未关闭的转诊提醒 / With an open referral alert.")
    ] = False,
    search: Annotated[
        str,
        typer.Option(
            "--search", help="姓名或完整身份证号 / A name, or a whole ID number (audited)."
        ),
    ] = "",
    reveal: Annotated[
        bool,
        typer.Option(
            "--reveal", help="导出完整身份证号与电话 / Unmasked numbers (needs --reason)."
        ),
    ] = False,
    reason: Annotated[
        str, typer.Option("--reason", help="导出明文的理由（记入审计）/ Why (audited).")
    ] = "",
    db: DbOption = None,
) -> None:
    """导出重点人群（默认脱敏）/ Export people, masked unless --reveal with --reason."""
    from lianfang.areas import codes
    from lianfang.errors import InvalidInputError
    from lianfang.people import exporting
    from lianfang.people.service import PeopleFilter

    chosen = file_format or output.suffix.lstrip(".").lower()
    if chosen not in ("xlsx", "csv"):
        raise InvalidInputError(_("the format must be xlsx or csv"))
    f = PeopleFilter(
        area=codes.normalise(area), grades=frozenset(grade or ()), missing=missing,
        overdue=overdue, alert_open=alert, q=search,
    )  # fmt: skip
    with unit_of_work(db) as session:
        data, rows = exporting.export(
            session=session, actor=operator(), f=f, file_format=chosen, reveal=reveal, reason=reason
        )
    output.write_bytes(data)
    say(
        _("exported %(rows)s people (unmasked) to %(output)s", rows=rows, output=output)
        if reveal
        else _("exported %(rows)s people (masked) to %(output)s", rows=rows, output=output)
    )


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _row(table: Table, figures: CoverageFigures) -> None:
    from lianfang.areas import codes

    gaps = [f"{g.missing:,} {_share(g.gap)}" for g in figures.guarantees]
    within = f" · {figures.within}" if figures.within else ""
    table.add_row(
        f"{figures.name} {codes.short(figures.code)}{within}", f"{figures.red:,}",
        f"{figures.yellow:,}", f"{figures.green:,}", *gaps, f"{figures.overdue:,}",
        f"{figures.alerts_open:,}",
    )  # fmt: skip


@app.command("coverage")
def coverage(
    area: AreaOption,
    level: Annotated[
        AreaLevel | None,
        typer.Option(
            "--level",
            help="列出该级全部区划（如 town：全市各镇街）/ List every area of this level below "
            "(town: all the towns of a city); default: the children.",
        ),
    ] = None,
    sort: Annotated[
        CoverageSort,
        typer.Option(
            "--sort",
            help="排序：code、red/yellow/green、某项缺口人数（medicine）或缺口占比"
            "（medicine_pct）、overdue、alerts / Order by a figure; a guarantee's gap as a "
            "count (medicine) or share (medicine_pct).",
        ),
    ] = CoverageSort.code,
    order: Annotated[
        SortOrder | None,
        typer.Option("--order", help="asc 或 desc（默认数值从大到小）/ Default: largest first."),
    ] = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """四有覆盖情况（本级及下级，可排名）/ Four-guarantee coverage of an area and its children,
    or a ranking of every area of a level by a guarantee's gap.

    缺口列：未覆盖的红黄人员数及其占红黄人员比例（--json 另分红、黄）/ Gap columns: red and
    yellow people it does not reach, and their share of all red and yellow people (--json
    also splits red from yellow)."""
    from rich.table import Table

    from lianfang.people import overview

    with unit_of_work(db) as session:
        read = overview.coverage_read(
            session=session, actor=operator(), code=area, level=level, sort=sort,
            descending=SortOrder.descending(order),
        )  # fmt: skip
    if as_json:
        console.print_json(json.dumps(read.model_dump(mode="json"), ensure_ascii=False))
        return
    table = Table(title=f"{read.name} 四有覆盖 / coverage — {read.as_of}")
    for header in ("区划 / area", "红 red", "黄 yellow", "绿 green"):
        table.add_column(header, justify="left" if header.startswith("区划") else "right")
    for g in Guarantee:
        table.add_column(f"{g.zh}缺口 {g.en} gap", justify="right")
    table.add_column("逾期 overdue", justify="right")
    table.add_column("预警 alerts", justify="right")
    _row(table, read)
    table.add_section()
    for child in read.children:
        _row(table, child)
    console.print(table)


@app.command("unassigned")
def unassigned(area: AreaOption, as_json: JsonOption = False, db: DbOption = None) -> None:
    """没有定点医院的红黄人员（含迁移时未匹配的原填写）/ Red and yellow people with no
    designated hospital, with any typed name the migration could not match (ID numbers masked)."""
    from rich.table import Table
    from sqlalchemy import select

    from lianfang.areas import codes
    from lianfang.people import identity
    from lianfang.people import service as people
    from lianfang.people.choices import Grade
    from lianfang.people.models import UnmatchedHospital

    f = people.PeopleFilter(
        area=codes.normalise(area), grades=frozenset({Grade.red, Grade.yellow}), no_hospital=True
    )
    rows: list[dict[str, str]] = []
    with unit_of_work(db) as session:
        page, total = 1, None
        while total is None or len(rows) < total:
            found = people.list_people(
                session=session, actor=operator(), f=f, page=page, size=people.MAX_PAGE
            )
            total = found.total
            if not found.items:
                break
            typed = dict(session.execute(select(UnmatchedHospital.person_id, UnmatchedHospital.text)
                                         .where(UnmatchedHospital.person_id.in_(
                                             [p.id for p in found.items]))).all())  # fmt: skip
            rows += [
                {"id": str(p.id), "name": p.name, "id_number": identity.mask_id(p.id_number),
                 "area_code": p.area_code, "grade": p.grade.value, "typed": typed.get(p.id, "")}
                for p in found.items
            ]  # fmt: skip
            page += 1
    if as_json:
        console.print_json(json.dumps({"items": rows, "total": len(rows)}, ensure_ascii=False))
        return
    table = Table(title=f"无定点医院 / no designated hospital: {len(rows)}")
    for header in ("id", "姓名 name", "身份证号 ID", "村 village", "等级 grade", "原填写 typed"):
        table.add_column(header)
    for r in rows:
        table.add_row(r["id"], r["name"], r["id_number"], r["area_code"], r["grade"],
                      r["typed"])  # fmt: skip
    console.print(table)


@app.command("regrade")
def regrade(area: AreaOption, db: DbOption = None) -> None:
    """按年龄段变化重新定级（每日运行）/ Grade again the people who turned 65 or 80 (run daily)."""
    from lianfang.people import service as people_service

    with unit_of_work(db) as session:
        changed = people_service.regrade(session=session, actor=operator(), area=area)
    say(_("%(changed)s graded again", changed=changed))
