"""Sheet specifications and the tables read from, and written to, .xlsx and .csv files.

A ``SheetSpec`` names its columns once, with their header (``_()``; an import reads it in either
language), whether a file must hold them, the values a cell may take (written as drop-down lists
into templates) and whether the column is only exported (computed, ignored on import). Import and
export share it, so an export reads back in.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from lianfang.errors import ImportFileError, ImportRowError
from lianfang.i18n import Text, _, current_language, listing
from lianfang.memory import gc_paused

MAX_REPORTED_ERRORS = 200
BOM = "\ufeff".encode()
THREADS = max(2, min(8, pa.cpu_count()))  # columns stripped side by side
FIRST_DATA_ROW = 2  # row 1 holds the headers, as a spreadsheet numbers it


@dataclass(frozen=True)
class Column:
    """One column of a sheet."""

    key: str
    text: Text  # the header
    required: bool = False
    choices: tuple[str, ...] = ()  # allowed cell values, offered as a drop-down list
    export_only: bool = False
    width: int = 12
    note: Text | None = None  # what to write, shown in the template's second sheet

    def header(self, language: str | None = None) -> str:
        """The header in the given language (the current one by default)."""
        return self.text.in_language(language or current_language())

    @property
    def zh(self) -> str:
        """The Chinese header (templates and exports are written with it)."""
        return self.text.in_language("zh")

    @property
    def en(self) -> str:
        """The English header."""
        return self.text.in_language("en")


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
    _lists: dict[int, list[str]] = field(default_factory=dict, repr=False)

    @classmethod
    def of_rows(cls, source: str, headers: list[str], rows: Sequence[Sequence[str]]) -> Table:
        """A table from rows of cells; short rows are padded, long ones cut to the headers."""
        width = len(headers)
        padded = [list(r) if len(r) == width else (list(r) + [""] * width)[:width] for r in rows]
        columns = list(zip(*padded, strict=True)) if padded else [()] * width
        return cls(source, headers, [_stripped(pa.array(c, pa.string())) for c in columns])

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
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(_("%(source)s is not UTF-8 or GB18030 text", source=source))


def _csv_rows(data: bytes, source: str) -> list[list[str]]:
    try:
        return list(csv.reader(io.StringIO(_decode(data, source), newline="")))
    except csv.Error as exc:
        raise ImportFileError(
            _("%(source)s is not valid CSV: %(exc)s", source=source, exc=exc)
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
            parse_options=pa_csv.ParseOptions(newlines_in_values=b'"' in data),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )  # fmt: skip
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return None
    with ThreadPoolExecutor(THREADS) as pool:  # Arrow's kernels let go of the GIL
        columns = list(
            pool.map(lambda i: _stripped(read.column(i)).combine_chunks(), range(len(names)))
        )
    if columns and len(columns[0]):
        filled = _any_filled(columns)
        if not pc.all(filled).as_py():
            columns = [c.filter(filled) for c in columns]
    return Table(source, [h.strip() for h in headers], columns)


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
            _("%(source)s is not a valid .xlsx workbook: %(exc)s", source=source, exc=exc),
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
            _("%(source)s: only .xlsx and .csv files are accepted", source=source),
        )
    if table is None:
        if not rows:
            raise ImportFileError(_("%(source)s is empty", source=source))
        body = [r for r in rows[1:] if "".join(r).strip()]
        table = Table.of_rows(source, [h.strip() for h in rows[0]], body)
    _match_headers(table, spec)
    return table


def _match_headers(table: Table, spec: SheetSpec) -> None:
    by_header = {c.zh: c for c in spec.columns} | {c.en.lower(): c for c in spec.columns}
    # a header in either language names the column
    for index, header in enumerate(table.headers):
        column = by_header.get(header) or by_header.get(header.lower())
        if column is not None and not column.export_only:
            table.keys[column.key] = index
    missing = [c for c in spec.columns if c.required and c.key not in table.keys]
    if missing:
        raise ImportFileError(
            _(
                "%(source)s lacks required column(s): %(columns)s",
                source=table.source,
                columns=listing(c.text for c in missing),
            )
        )


def row_error(table: Table, spec: SheetSpec, index: int, key: str, message: Text) -> ImportRowError:
    """An error in data row ``index`` (0-based) of a table, named as the spreadsheet shows it."""
    position = table.keys.get(key)
    header = spec.column(key).zh if position is None else table.headers[position]
    return ImportRowError(
        sheet=table.source, row=index + FIRST_DATA_ROW, column=header, message=message
    )


def failed(table: Table, errors: Sequence[ImportRowError]) -> ImportFileError:
    """The error that rejects a whole file because some rows are invalid."""
    rows = len({e.row for e in errors})
    return ImportFileError(
        _(
            "%(source)s has %(rows)s invalid row(s); nothing was written",
            source=table.source,
            rows=rows,
        ),
        list(errors)[:MAX_REPORTED_ERRORS],
    )


def write_csv(spec: SheetSpec, rows: Iterable[Sequence[object]], language: str = "zh") -> bytes:
    """A CSV file (UTF-8 with BOM, which Excel opens correctly) with the spec's headers."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow([c.header(language) for c in spec.columns])
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")
