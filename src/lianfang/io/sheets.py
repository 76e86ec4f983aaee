"""Sheet specifications and the tables read from, and written to, .xlsx and .csv files.

A ``SheetSpec`` names its columns once, with their Chinese and English headers, whether a file
must hold them, the values a cell may take (written as drop-down lists into templates) and whether
the column is only exported (computed, ignored on import). Import and export share it, so an
export reads back in.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from lianfang.errors import ImportFileError, ImportRowError
from lianfang.i18n import Text, _
from lianfang.memory import gc_paused

MAX_REPORTED_ERRORS = 200
BOM = "\ufeff".encode()
THREADS = max(2, min(8, pa.cpu_count()))  # columns stripped side by side
FIRST_DATA_ROW = 2  # row 1 holds the headers, as a spreadsheet numbers it
CLEAR = "清空"  # a cell that empties a stored value (a blank cell keeps it); CLEAR_WORDS in English
CLEAR_WORDS = frozenset({CLEAR, "CLEAR"})
FORMULA_START = r"[=+@\t\r-]"  # a spreadsheet may run a cell that starts so as a formula
RISKY = re.compile("^'*" + FORMULA_START)  # after any quotes: '=x must keep its own quote too
QUOTED = "^'('*" + FORMULA_START + ")"  # the quote our export added (Arrow's RE2)
RISKY_IN_ROW = re.compile("(?:^|\x00)'*" + FORMULA_START)  # any cell of a row joined by NULs


@dataclass(frozen=True)
class Column:
    """One column of a sheet."""

    key: str
    zh: str
    en: str
    required: bool = False
    choices: tuple[str, ...] = ()  # allowed cell values, offered as a drop-down list
    export_only: bool = False
    width: int = 12
    note: str = ""  # what to write, shown in the template's second sheet


@dataclass(frozen=True)
class SheetSpec:
    """The columns of one kind of sheet, in order."""

    name: str
    columns: tuple[Column, ...]

    def column(self, key: str) -> Column:
        """The column with this key."""
        return next(c for c in self.columns if c.key == key)

    @property
    def importable(self) -> tuple[Column, ...]:
        """The columns an import reads."""
        return tuple(c for c in self.columns if not c.export_only)


@dataclass
class Table:
    """Cells of a sheet as text (stripped), one Arrow string array per column, by column key,
    with the file's name for messages. Checks work on whole columns; ``values`` gives a column as
    Python strings for the few that need them."""

    source: str
    headers: list[str]
    columns: list[pa.Array]
    keys: dict[str, int] = field(default_factory=dict)  # column key -> index in the headers
    numbers: npt.NDArray[np.int64] | None = None  # each row's number in the file (None: 2, 3…)
    problems: list[ImportRowError] = field(default_factory=list)  # rows the file itself broke
    _lists: dict[int, list[str]] = field(default_factory=dict, repr=False)

    @classmethod
    def of_rows(cls, source: str, headers: list[str], rows: Sequence[Sequence[str]]) -> Table:
        """A table from rows of cells; short rows are padded, long ones cut to the headers."""
        width = len(headers)
        padded = [list(r) if len(r) == width else (list(r) + [""] * width)[:width] for r in rows]
        columns = list(zip(*padded, strict=True)) if padded else [()] * width
        return cls(source, headers, [_stripped(pa.array(c, pa.string())) for c in columns])

    def row_number(self, index: int) -> int:
        """The number a spreadsheet shows for data row ``index`` (0-based) of the table: blank
        rows the reader skipped still count."""
        return index + FIRST_DATA_ROW if self.numbers is None else int(self.numbers[index])

    def array(self, key: str) -> pa.Array | None:
        """Every cell of a column as an Arrow string array, or None when the file lacks it."""
        index = self.keys.get(key)
        return None if index is None else self.columns[index]

    def values(self, key: str) -> list[str] | None:
        """Every cell of a column as Python strings, or None when the file lacks it."""
        index = self.keys.get(key)
        if index is None:
            return None
        if index not in self._lists:
            self._lists[index] = self.columns[index].to_pylist()
        return self._lists[index]

    @property
    def rows(self) -> list[list[str]]:
        """The cells row by row, as the file held them (for error reports)."""
        return [list(row) for row in zip(*(c.to_pylist() for c in self.columns), strict=True)]

    def __len__(self) -> int:
        return len(self.columns[0]) if self.columns else 0


def _stripped(column: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    return pc.utf8_trim_whitespace(column)


def cell_text(value: object) -> str:
    """A cell as the text a user typed (whole numbers without '.0', dates as YYYY-MM-DD)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return (
            value.date().isoformat()
            if value.time() == datetime.min.time()
            else value.isoformat(" ")
        )
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _decode(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data":  # UTF-8 up to a character cut in two
            raise ImportFileError(
                _("%(file)s ends in the middle of a character: the file is incomplete (cut "
                  "off?); nothing was written", file=source)
            ) from exc  # fmt: skip
    for encoding in ("gb18030",):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(
        f"{source} 不是 UTF-8 或 GB18030 编码的文本", f"{source} is not UTF-8 or GB18030 text"
    )


def _csv_rows(data: bytes, source: str) -> list[list[str]]:
    try:
        return list(csv.reader(io.StringIO(_decode(data, source), newline="")))
    except csv.Error as exc:
        raise ImportFileError(
            f"{source} 不是有效的 CSV：{exc}", f"{source} is not valid CSV: {exc}"
        ) from exc


def _csv_table(data: bytes, source: str) -> Table | None:
    """A UTF-8 CSV read column by column in C (Arrow, both cores); None when the file is not one
    Arrow reads as it stands (another encoding, rows of different lengths, blank headers), which
    the row-by-row reader then handles."""
    start = len(BOM) if data.startswith(BOM) else 0
    try:
        first_line = data[start : data.find(b"\n", start) + 1 or len(data)]
        headers = next(csv.reader(io.StringIO(first_line.decode("utf-8"))))
    except (UnicodeDecodeError, StopIteration, csv.Error):
        return None
    names = [f"c{i}" for i in range(len(headers))]
    try:
        read = pa_csv.read_csv(
            pa.py_buffer(data).slice(start),
            read_options=pa_csv.ReadOptions(column_names=names, skip_rows=1),
            # A line break inside a cell needs quotes; without any, Arrow may split the file
            # at every line break and parse the pieces in parallel (twice as fast).
            # Empty lines are kept (as rows of blanks, skipped below) so rows keep their numbers.
            parse_options=pa_csv.ParseOptions(
                newlines_in_values=b'"' in data, ignore_empty_lines=False
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )  # fmt: skip
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return None
    with ThreadPoolExecutor(THREADS) as pool:  # Arrow's kernels let go of the GIL
        columns = list(
            pool.map(
                lambda i: _unquoted(_stripped(read.column(i)).combine_chunks()), range(len(names))
            )
        )
    numbers = None
    if columns and len(columns[0]):
        filled = _any_filled(columns)
        if not pc.all(filled).as_py():
            columns = [c.filter(filled) for c in columns]
            numbers = np.flatnonzero(filled.to_numpy(zero_copy_only=False)) + FIRST_DATA_ROW
    return Table(source, [h.strip() for h in headers], columns, numbers=numbers)


def _unquoted(column: pa.Array) -> pa.Array:
    """CSV cells without the quote our export put before a cell a spreadsheet would take as a
    formula (``'=1+1`` reads back as ``=1+1``; ``'abc`` stays as written)."""
    if not pc.any(pc.starts_with(column, "'")).as_py():
        return column
    return pc.replace_substring_regex(column, pattern=QUOTED, replacement=r"\1")


def neutralised(cell: str) -> str:
    """A cell as a CSV file carries it: one starting with ``= + - @``, a tab or a carriage
    return (after any quotes) gets a leading quote, so a spreadsheet shows it as text instead of
    running it as a formula (OWASP's advice); the reader takes the quote off again."""
    return "'" + cell if RISKY.match(cell) else cell


def _any_filled(columns: list[pa.Array]) -> pa.Array:
    filled = pc.not_equal(columns[0], "")
    for column in columns[1:]:
        filled = pc.or_(filled, pc.not_equal(column, ""))
    return filled


def _xlsx_rows(data: bytes, source: str) -> list[list[str]]:
    from python_calamine import CalamineWorkbook  # imported here: only imports of xlsx need it

    try:
        sheet = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0)
        rows = sheet.to_python(skip_empty_area=False)
        return [
            [v if type(v) is str else cell_text(v) for v in row] for row in rows
        ]  # stripped later
    except Exception as exc:  # calamine raises its own errors for every kind of broken file
        raise ImportFileError(
            f"{source} 不是有效的 Excel 工作簿（.xlsx）：{exc}",
            f"{source} is not a valid .xlsx workbook: {exc}",
        ) from exc


def read(data: bytes, source: str, spec: SheetSpec) -> Table:
    """The table in a .xlsx or .csv file, its headers matched to the spec (Chinese or English)."""
    with gc_paused():
        return _read(data, source, spec)


def _read(data: bytes, source: str, spec: SheetSpec) -> Table:
    suffix = Path(source).suffix.lower()
    table = None
    if suffix in (".xlsx", ".xlsm"):
        rows = _xlsx_rows(data, source)
    elif suffix in (".csv", ".txt"):
        table = _csv_table(data, source)
        rows = [] if table is not None else _csv_rows(data, source)
    else:
        raise ImportFileError(
            f"{source}：只接受 .xlsx 或 .csv 文件",
            f"{source}: only .xlsx and .csv files are accepted",
        )
    if table is None:
        if not rows:
            raise ImportFileError(f"{source} 是空的", f"{source} is empty")
        table = _of_file_rows(source, rows)
        if suffix not in (".xlsx", ".xlsm"):
            table.columns = [_unquoted(c) for c in table.columns]
    _match_headers(table, spec)
    return table


def _of_file_rows(source: str, rows: list[list[str]]) -> Table:
    """The table of a file's rows (the first its headers), blank rows skipped but counted; a
    row with fewer or more fields than the headers is a problem of that row (a file cut off
    ends in one), reported with the others so that nothing is written."""
    headers = [h.strip() for h in rows[0]]
    kept = [n for n, r in enumerate(rows[1:], start=FIRST_DATA_ROW) if "".join(r).strip()]
    body = [rows[n - 1] for n in kept]
    table = Table.of_rows(source, headers, body)
    if len(kept) != len(rows) - 1:
        table.numbers = np.array(kept, dtype=np.int64)
    for number, row in zip(kept, body, strict=True):
        if len(row) != len(headers):
            table.problems.append(_ragged(source, headers, number, len(row)))
    return table


def _ragged(source: str, headers: list[str], number: int, fields: int) -> ImportRowError:
    first = min(fields, len(headers))  # the first column missing, or the first one too many
    where = headers[first] if first < len(headers) else letter(first)
    return ImportRowError(
        sheet=source, row=number, column=where or letter(first),
        message=_("row %(row)s has %(fields)s fields, the header %(width)s (is the file cut "
                  "off?)", row=number, fields=fields, width=len(headers)),
    )  # fmt: skip


def letter(index: int) -> str:
    """The letters a spreadsheet names a column by (0 → A, 26 → AA)."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(ord("A") + rest) + name
    return name


def _match_headers(table: Table, spec: SheetSpec) -> None:
    by_header = {c.zh: c for c in spec.columns} | {c.en.lower(): c for c in spec.columns}
    unknown: list[Text] = []  # each column the spec does not know
    for index, header in enumerate(table.headers):
        column = by_header.get(header) or by_header.get(header.lower())
        if column is None:
            if header or _has_data(table.columns[index]):
                unknown.append(_unknown(index, header, spec))
        elif column.key in table.keys and not column.export_only:
            first, where = letter(table.keys[column.key]), letter(index)
            unknown.append(_("column %(column)s \"%(header)s\" repeats column %(first)s",
                             column=where, header=header, first=first))  # fmt: skip
        elif not column.export_only:
            table.keys[column.key] = index
    if unknown:
        raise ImportFileError(
            _("%(file)s has columns the template does not know; nothing was written: %(columns)s",
              file=table.source, columns=Listed(unknown))
        )  # fmt: skip
    missing = [c for c in spec.columns if c.required and c.key not in table.keys]
    if missing:
        raise ImportFileError(
            f"{table.source} 缺少必填列：{'、'.join(c.zh for c in missing)}",
            f"{table.source} lacks required column(s): {', '.join(c.en for c in missing)}",
        )


def _has_data(column: pa.Array) -> bool:
    return bool(len(column)) and bool(pc.any(pc.not_equal(column, "")).as_py())


def _unknown(index: int, header: str, spec: SheetSpec) -> Text:
    where = letter(index)
    if not header:
        return _("column %(column)s has data but no header", column=where)
    names = {c.zh: c.zh for c in spec.columns} | {c.en: c.en for c in spec.columns}
    close = difflib.get_close_matches(header, list(names), n=1, cutoff=0.5)
    if not close:
        return _("column %(column)s \"%(header)s\" is not in the template", column=where,
                 header=header)  # fmt: skip
    return _("column %(column)s \"%(header)s\" is not in the template (did you mean \"%(hint)s\"?)",
             column=where, header=header, hint=close[0])  # fmt: skip


class Listed(Text):
    """Several messages shown as one list, separated as the language writes lists."""

    def __init__(self, items: list[Text]) -> None:
        super().__init__("")
        self.items = items

    def in_language(self, language: str) -> str:
        separator = "；" if language == "zh" else "; "
        return separator.join(item.in_language(language) for item in self.items)


def row_error(
    table: Table, spec: SheetSpec, index: int, key: str, zh: str, en: str
) -> ImportRowError:
    """An error in data row ``index`` (0-based) of a table, named as the spreadsheet shows it."""
    position = table.keys.get(key)
    header = spec.column(key).zh if position is None else table.headers[position]
    return ImportRowError(
        sheet=table.source, row=table.row_number(index), column=header, zh=zh, en=en
    )


def failed(table: Table, errors: Sequence[ImportRowError]) -> ImportFileError:
    """The error that rejects a whole file because some rows are invalid."""
    broken = {p.row for p in table.problems}  # a cut-off row: its own problem says it all
    if broken:
        errors = [e for e in errors if e.row not in broken or e in table.problems]
    rows = len({e.row for e in errors})
    return ImportFileError(
        f"{table.source} 有 {rows} 行数据有误，未写入任何数据",
        f"{table.source} has {rows} invalid row(s); nothing was written",
        list(errors)[:MAX_REPORTED_ERRORS],
    )


def write_csv(spec: SheetSpec, rows: Iterable[Sequence[object]], language: str = "zh") -> bytes:
    """A CSV file (UTF-8 with BOM, which Excel opens correctly) with the spec's headers."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow([c.zh if language == "zh" else c.en for c in spec.columns])
    writer.writerows(map(_neutralised_row, rows))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _neutralised_row(row: Sequence[object]) -> Sequence[object]:
    cells = ["" if v is None else str(v) for v in row]
    if not RISKY_IN_ROW.search("\x00".join(cells)):  # one search for the usual row
        return cells
    return [neutralised(c) for c in cells]
