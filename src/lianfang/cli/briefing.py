"""``lianfang briefing``: the daily briefing (调度会材料) of an area as a file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lianfang.cli.common import DbOption, language, operator, say, unit_of_work
from lianfang.errors import InvalidInputError
from lianfang.i18n import _

SUFFIXES = (".html", ".xlsx", ".pdf")


def briefing(
    area: Annotated[str, typer.Option("--area", help="区划代码 / Area code, e.g. 3206.")],
    output: Annotated[
        Path,
        typer.Option(
            "-o", "--output", help="输出文件 .html/.xlsx/.pdf / Output file: .html, .xlsx or .pdf."
        ),
    ],
    day: Annotated[
        str | None,
        typer.Option("--date", help="日期 YYYY-MM-DD，默认今天 / The day (default: today)."),
    ] = None,
    db: DbOption = None,
) -> None:
    """调度会材料：各县（镇）覆盖率及变化、逾期随访、转诊预警、床位、缺储物资、预测高峰、滞后任务 /
    The daily briefing of an area, per county or town, worst first: as a page, a workbook or
    an A4 PDF."""
    from datetime import date

    from lianfang.briefing import read, render, workbook

    suffix = output.suffix.lower()
    if suffix not in SUFFIXES:
        raise InvalidInputError(
            _("the output file %(name)s must end in .html, .xlsx or .pdf", name=output.name)
        )
    try:
        when = date.fromisoformat(day) if day else None
    except ValueError:
        raise InvalidInputError(
            _("--date %(value)s is not a date (YYYY-MM-DD)", value=day)
        ) from None
    with unit_of_work(db) as session:
        found = read.briefing(session=session, actor=operator(), code=area, day=when)
    lang = language()
    if suffix == ".xlsx":
        output.write_bytes(workbook.workbook(found, lang))
    elif suffix == ".pdf":
        output.write_bytes(render.pdf(found, lang))
    else:
        output.write_text(render.document(found, lang), encoding="utf-8")
    say(
        _("wrote the briefing of %(area)s for %(day)s to %(path)s", area=found.area.name,
          day=found.day.isoformat(), path=str(output))
    )  # fmt: skip
