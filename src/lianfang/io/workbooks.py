"""Writing .xlsx workbooks: templates with drop-down lists, exports and error workbooks."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from lianfang.errors import ImportRowError
from lianfang.i18n import _
from lianfang.io.sheets import CLEAR, SheetSpec, Table

VALIDATED_ROWS = 10_000  # rows of a template that carry the drop-down lists


def _header(
    book: xlsxwriter.Workbook, sheet: Worksheet, headers: Sequence[str], widths: Sequence[int]
) -> None:
    bold = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    for col, (text, width) in enumerate(zip(headers, widths, strict=True)):
        sheet.write_string(0, col, text, bold)
        sheet.set_column(col, col, width)
    sheet.freeze_panes(1, 0)


def _lists(sheet: Worksheet, spec: SheetSpec) -> None:
    for col, column in enumerate(spec.columns):
        if column.choices and not column.export_only:
            sheet.data_validation(
                1, col, VALIDATED_ROWS, col,
                {"validate": "list", "source": list(column.choices),
                 "error_title": column.zh, "error_message": "请从下拉列表中选择"},
            )  # fmt: skip


def template(spec: SheetSpec) -> bytes:
    """An empty workbook to fill in: Chinese headers, drop-down lists, and a sheet of notes."""
    out = io.BytesIO()
    with xlsxwriter.Workbook(out, {"in_memory": True}) as book:
        sheet = book.add_worksheet(spec.name)
        columns = spec.importable
        _header(book, sheet, [c.zh for c in columns], [c.width for c in columns])
        _lists(sheet, SheetSpec(spec.name, columns))
        text = book.add_format({"num_format": "@"})
        sheet.set_column(0, len(columns) - 1, None, text)  # keep ID numbers and codes as text
        notes = book.add_worksheet("填写说明")
        _header(book, notes, ["列", "Column", "必填", "说明"], [16, 24, 6, 80])
        for row, c in enumerate(columns, start=1):
            notes.write_row(
                row, 0, [c.zh, c.en, "是" if c.required else "", c.note or "、".join(c.choices)]
            )
        for row, (title, rule) in enumerate(RULES, start=len(columns) + 2):
            notes.write_row(
                row, 0, [title.in_language("zh"), title.in_language("en"), "", str(rule)]
            )
    return out.getvalue()


RULES = (
    (_("Blank cells"),
     _("For a person already registered, a blank cell keeps the stored value; write %(clear)s "
       "(or CLEAR) to empty it. A dry run lists every stored value the file would empty.",
       clear=CLEAR)),
    (_("Columns and rows"),
     _("Use only the template's columns: a column it does not know rejects the whole file. A "
       "row with fewer or more cells than the header (a file cut off) rejects the whole file "
       "too.")),
)  # fmt: skip
"""The general rules written under the columns of a template's notes sheet."""


def export(spec: SheetSpec, rows: Iterable[Sequence[object]]) -> bytes:
    """A workbook of rows in the spec's columns (cells written as text, so IDs stay exact)."""
    out = io.BytesIO()
    with xlsxwriter.Workbook(out, {"in_memory": True, "constant_memory": True}) as book:
        sheet = book.add_worksheet(spec.name)
        _header(book, sheet, [c.zh for c in spec.columns], [c.width for c in spec.columns])
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row):
                sheet.write_string(r, c, "" if value is None else str(value))
    return out.getvalue()


def errors(table: Table, problems: Sequence[ImportRowError]) -> bytes:
    """The rows of a rejected file as they were, each on its row of the file, with an error column
    naming each problem and the offending cells marked (cells are written as text, never as
    formulas)."""
    by_row: dict[int, list[ImportRowError]] = {}
    for problem in problems:
        by_row.setdefault(problem.row, []).append(problem)
    out = io.BytesIO()
    with xlsxwriter.Workbook(out, {"in_memory": True}) as book:
        sheet = book.add_worksheet("错误报告")
        red = book.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"})
        _header(book, sheet, ["错误", *table.headers], [60] + [14] * len(table.headers))
        positions = {h: i for i, h in enumerate(table.headers)}
        for index, row in enumerate(table.rows):
            number = table.row_number(index)  # each row where it stood in the file
            found = by_row.get(number, [])
            text = "；".join(p.zh for p in found)
            sheet.write_string(number - 1, 0, text, red if found else None)
            marked = {positions.get(p.column, -1) for p in found}
            for c, value in enumerate(row):
                sheet.write_string(number - 1, c + 1, value, red if c in marked else None)
    return out.getvalue()
