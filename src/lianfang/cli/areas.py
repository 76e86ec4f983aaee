"""``lianfang areas``: load, show and correct the administrative tree."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from lianfang.areas.choices import AreaLevel, CoordSource, PopulationSource
from lianfang.cli.common import DbOption, JsonOption, console, language, operator, say, unit_of_work

if TYPE_CHECKING:
    from rich.table import Table

    from lianfang.areas.schemas import AreaChild, AreaDetail

app = typer.Typer(
    help="Administrative divisions: load, show, import coordinates and population.",
    no_args_is_help=True,
)

ExistingFile = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]


@app.command("load")
def load(
    city: Annotated[
        str | None, typer.Option(help="Load one Jiangsu city, e.g. 3206 (Nantong).")
    ] = None,
    province: Annotated[
        str | None, typer.Option(help="Load a whole province; 32 (Jiangsu) ships.")
    ] = None,
    from_dir: Annotated[
        Path | None,
        typer.Option(
            "--from",
            exists=True,
            file_okay=False,
            help="Load every division in a directory of china-division CSV files.",
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Load divisions (insert new ones, rename changed ones); all-or-nothing."""
    from lianfang.areas import codes
    from lianfang.areas.files import JIANGSU
    from lianfang.areas.loading import load_directory
    from lianfang.errors import InvalidInputError

    chosen = [x for x in (city, province, from_dir) if x is not None]
    if len(chosen) != 1:
        raise InvalidInputError(
            "请在 --city、--province、--from 中指定且只指定一个",
            "give exactly one of --city, --province, --from",
        )
    within = city or province
    if within is not None and not codes.normalise(within).startswith("32"):
        raise InvalidInputError(
            f"随软件提供的只有江苏省（32）的区划；{within} 请用 --from 目录导入",
            f"only Jiangsu (32) ships with lianfang; load {within} with --from DIR",
        )
    if within is not None:
        level = codes.level_of(codes.normalise(within))
        expected = AreaLevel.city if city else AreaLevel.province
        if level is not expected:
            raise InvalidInputError(
                f"{within} 不是{expected.zh}级代码", f"{within} is not a {expected.en} code"
            )
    with unit_of_work(db) as session, console.status("正在导入 / loading…"):
        report = load_directory(
            session=session,
            actor=operator(),
            directory=from_dir if from_dir else JIANGSU,
            within=within,
        )
    say(
        f"新增 {report.inserted}，更新 {report.updated}，未变 {report.unchanged}，"
        f"边界 {report.boundaries}（{report.by_level}）",
        f"inserted {report.inserted}, updated {report.updated}, unchanged {report.unchanged}, "
        f"boundaries {report.boundaries} ({report.by_level})",
    )


@app.command("show")
def show(
    code: Annotated[str, typer.Argument(help="Area code, short or 12-digit.")],
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Show an area, its ancestors, its children with their population, and counts below it."""
    from lianfang.areas import service

    actor = operator()
    with unit_of_work(db) as session:
        info = service.detail(session=session, actor=actor, code=code)
        kids = service.children(session=session, actor=actor, code=code)
    if as_json:
        payload = {
            **info.model_dump(mode="json"),
            "children": [k.model_dump(mode="json") for k in kids],
        }
        console.print_json(json.dumps(payload, ensure_ascii=False))
        return
    _print_detail(info, kids)


def _print_detail(info: AreaDetail, kids: list[AreaChild]) -> None:
    zh = language() == "zh"
    chain = " › ".join(a.name for a in info.ancestors)
    area = info.area
    console.print(
        f"[bold]{area.name}[/] {area.short_code}（{area.level.label(language())}）"
        + (f"  {chain}" if chain else "")
    )
    below = [
        (level, getattr(info.counts, field))
        for level, field in (
            (AreaLevel.county, "counties"),
            (AreaLevel.town, "towns"),
            (AreaLevel.village, "villages"),
        )
        if level.depth > area.level.depth
    ]
    if below:
        parts = [f"{level.label(language())} {count:,}" for level, count in below]
        console.print(("下辖：" if zh else "below: ") + ("，" if zh else ", ").join(parts))
    if info.population:
        p = info.population
        console.print(
            (
                "常住人口 {0:,}，65岁及以上 {1:,}（{2:.1%}）"
                if zh
                else "residents {0:,}, aged 65+ {1:,} ({2:.1%})"
            ).format(p.total, p.aged_65_plus, p.share_65_plus or 0)
        )
    _print_provenance(info, kids)
    if not kids:
        return
    console.print(_children_table(info.area.level, kids))


HEADERS = {
    "code": ("代码", "code"),
    "name": ("名称", "name"),
    "towns": ("乡镇", "towns"),
    "villages": ("村（社区）", "villages"),
    "total": ("常住人口", "residents"),
    "aged": ("65岁+", "65+"),
    "share": ("65岁+占比", "65+ share"),
}


def _children_table(level: AreaLevel, kids: list[AreaChild]) -> Table:
    """Children with the counts that apply at their level and their population."""
    from rich.table import Table

    counted = [
        field
        for depth, field in ((AreaLevel.city.depth, "towns"), (AreaLevel.county.depth, "villages"))
        if level.depth <= depth
    ]
    index = 0 if language() == "zh" else 1
    table = Table()
    table.add_column(HEADERS["code"][index], no_wrap=True)
    table.add_column(HEADERS["name"][index], no_wrap=True)
    for key in [*counted, "total", "aged", "share"]:
        table.add_column(HEADERS[key][index], justify="right", no_wrap=True)
    for kid in kids:
        pop = kid.population
        table.add_row(
            kid.short_code,
            kid.name,
            *[f"{getattr(kid.counts, field):,}" for field in counted],
            f"{pop.total:,}" if pop else "—",
            f"{pop.aged_65_plus:,}" if pop else "—",
            f"{pop.share_65_plus:.1%}" if pop and pop.share_65_plus is not None else "—",
        )
    return table


def _print_provenance(info: AreaDetail, kids: list[AreaChild]) -> None:
    """Say when what is shown was placed or synthesised for the demo."""
    placed = info.area.coord_source is CoordSource.placed or any(
        k.coord_source is CoordSource.placed for k in kids
    )
    synthetic = (
        info.population is not None and PopulationSource.synthetic in info.population.sources
    )
    if placed:
        say(
            "注：乡镇、村（社区）的位置为演示推算，非实测坐标。",
            "note: town and village positions are placed for the demo, not surveyed.",
        )
    if synthetic:
        say(
            "注：按年龄段的人口为演示合成数据（县区合计与2020年普查一致）。",
            "note: population by age band is synthetic demo data (county totals match the "
            "2020 census).",
        )


@app.command("import-coords")
def import_coords(
    file: ExistingFile,
    db: DbOption = None,
) -> None:
    """Replace coordinates with surveyed ones from a CSV: code, lon, lat; all-or-nothing."""
    from lianfang.areas import service
    from lianfang.areas.files import read_points

    points = read_points(file)
    with unit_of_work(db) as session:
        count = service.set_coordinates(
            session=session,
            actor=operator(),
            points=points,
            source=CoordSource.surveyed,
            label=file.name,
        )
    say(f"已更新 {count} 个区划的坐标（实测）", f"updated coordinates of {count} areas (surveyed)")


@app.command("import-population")
def import_population(
    file: ExistingFile,
    year: Annotated[
        int, typer.Option(min=1950, max=2100, help="Year the figures describe.")
    ] = 2020,
    db: DbOption = None,
) -> None:
    """Replace village populations by age band from a CSV; all-or-nothing.

    Columns: code, age_0_14, age_15_59, age_60_64, age_65_79, age_80_plus."""
    from lianfang.areas import service
    from lianfang.areas.files import read_population

    bands = read_population(file)
    with unit_of_work(db) as session:
        count = service.set_population(
            session=session,
            actor=operator(),
            bands=bands,
            source=PopulationSource.census,
            year=year,
        )
    say(f"已更新 {count} 个村（社区）的人口", f"updated the population of {count} villages")
