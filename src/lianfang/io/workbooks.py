"""Writing .xlsx workbooks: templates with drop-down lists, exports and error workbooks."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from lianfang.errors import ImportRowError
from lianfang.i18n import LIST_SEPARATOR, SENTENCE_SEPARATOR, _, listing
from lianfang.io.sheets import CLEAR, Column, SheetSpec, Table

VALIDATED_ROWS = 10_000  # rows of a template that carry the drop-down lists
ZH = "zh"  # workbooks are written for the people who fill them in: in Chinese


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
                 "error_title": column.zh,
                 "error_message": _("choose from the drop-down list").in_language(ZH)},
            )  # fmt: skip


def _note(column: Column) -> str:
    if column.note is not None:
        return column.note.in_language(ZH)
    return LIST_SEPARATOR.in_language(ZH).join(column.choices)


@dataclass(frozen=True)
class Listing:
    """A sheet of reference rows a template carries after its first sheet (the user's villages
    with their codes): what may be written in a column, to look up or copy from."""

    name: str
    headers: Sequence[str]
    widths: Sequence[int]
    rows: Sequence[Sequence[str]]
    note: str = ""  # written in the notes sheet under the rules


def template(spec: SheetSpec, listings: Sequence[Listing] = ()) -> bytes:
    """An empty workbook to fill in: Chinese headers, drop-down lists, then each listing's
    sheet, and a sheet of notes."""
    out = io.BytesIO()
    with xlsxwriter.Workbook(out, {"in_memory": True}) as book:
        sheet = book.add_worksheet(spec.name)
        columns = spec.importable
        _header(book, sheet, [c.zh for c in columns], [c.width for c in columns])
        _lists(sheet, SheetSpec(spec.name, columns))
        text = book.add_format({"num_format": "@"})
        sheet.set_column(0, len(columns) - 1, None, text)  # keep ID numbers and codes as text
        for listed in listings:
            reference = book.add_worksheet(listed.name)
            _header(book, reference, listed.headers, listed.widths)
            for row, values in enumerate(listed.rows, start=1):
                for col, value in enumerate(values):
                    reference.write_string(row, col, value)
            if listed.rows:
                reference.autofilter(0, 0, len(listed.rows), len(listed.headers) - 1)
        notes = book.add_worksheet(_("How to fill in").in_language(ZH))
        _header(book, notes, ["列", "Column", "必填", "说明"], [16, 24, 6, 80])  # both languages
        for row, c in enumerate(columns, start=1):
            notes.write_row(row, 0, [c.zh, c.en, "是" if c.required else "", _note(c)])
        for row, (title, rule) in enumerate(RULES, start=len(columns) + 2):
            notes.write_row(
                row, 0, [title.in_language("zh"), title.in_language("en"), "", str(rule)]
            )
        below = len(columns) + 2 + len(RULES)
        for row, listed in enumerate([li for li in listings if li.note], start=below):
            notes.write_row(row, 0, [listed.name, "", "", listed.note])
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
        sheet = book.add_worksheet(_("Error report").in_language(ZH))
        red = book.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"})
        header = _("Errors").in_language(ZH)
        _header(book, sheet, [header, *table.headers], [60] + [14] * len(table.headers))
        positions = {h: i for i, h in enumerate(table.headers)}
        for index, row in enumerate(table.rows):
            number = table.row_number(index)  # each row where it stood in the file
            found = by_row.get(number, [])
            text = listing((p.text for p in found), SENTENCE_SEPARATOR).in_language(ZH)
            sheet.write_string(number - 1, 0, text, red if found else None)
            marked = {positions.get(p.column, -1) for p in found}
            for c, value in enumerate(row):
                sheet.write_string(number - 1, c + 1, value, red if c in marked else None)
    return out.getvalue()
