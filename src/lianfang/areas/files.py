"""Division files in the ``china-division`` format: every row checked, errors by file/row/column."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from lianfang.areas import codes
from lianfang.areas.choices import AreaLevel
from lianfang.errors import ImportFileError, ImportRowError, InvalidInputError
from lianfang.i18n import _, lines, listing

SHIPPED = resources.files("lianfang.areas") / "data"
JIANGSU = SHIPPED / "jiangsu"
MAX_REPORTED_ERRORS = 50


@dataclass(frozen=True)
class DivisionRow:
    """One division as read from a file."""

    code: str
    name: str
    parent_code: str | None
    level: AreaLevel


@dataclass(frozen=True)
class FileSpec:
    """Where a level lives and which column holds its parent's code."""

    level: AreaLevel
    stem: str
    parent_column: str | None


SPECS = (
    FileSpec(AreaLevel.city, "cities", "provinceCode"),
    FileSpec(AreaLevel.county, "areas", "cityCode"),
    FileSpec(AreaLevel.town, "streets", "areaCode"),
    FileSpec(AreaLevel.village, "villages", "streetCode"),
)


def find(directory: Traversable, stem: str) -> Traversable | None:
    """The file ``stem`` in a directory, plain or gzipped; None when absent."""
    for name in (f"{stem}.csv", f"{stem}.csv.gz", stem):
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None


def open_text(path: Traversable) -> io.TextIOBase:
    """Open a possibly gzipped UTF-8 file (a BOM is accepted)."""
    raw = path.open("rb")
    stream = gzip.GzipFile(fileobj=raw) if path.name.endswith(".gz") else raw
    return io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")


def _rows(path: Traversable, required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows of a CSV file with their line numbers; the header must hold ``required``."""
    try:
        with open_text(path) as handle:
            reader = csv.DictReader(handle)
            missing = [column for column in required if column not in (reader.fieldnames or [])]
            if missing:
                raise ImportFileError(
                    _(
                        "%(name)s lacks column(s): %(columns)s",
                        name=path.name,
                        columns=listing(missing),
                    )
                )
            yield from enumerate(reader, start=2)
    except (UnicodeDecodeError, gzip.BadGzipFile, EOFError, csv.Error) as exc:
        raise ImportFileError(
            _(
                "%(name)s is not a UTF-8 CSV file (%(kind)s: %(exc)s)",
                name=path.name,
                kind=type(exc).__name__,
                exc=exc,
            )
        ) from exc


def _check_row(
    spec: FileSpec, sheet: str, number: int, row: dict[str, str]
) -> DivisionRow | ImportRowError:
    raw = (row.get("code") or "").strip()
    digits = codes.LEVEL_LENGTHS[spec.level]
    if not (raw.isascii() and raw.isdigit() and len(raw) == digits):
        return ImportRowError(
            sheet=sheet,
            row=number,
            column="code",
            message=_(
                "'%(raw)s' is not a %(digits)s-digit %(level)s code",
                raw=raw,
                digits=digits,
                level=spec.level.text,
            ),
        )
    name = (row.get("name") or "").strip()
    if not name:
        return ImportRowError(sheet=sheet, row=number, column="name", message=_("empty"))
    parent_raw = (row.get(spec.parent_column or "") or "").strip()
    code = codes.normalise(raw)
    parent = codes.parent_of(code)
    if spec.parent_column and parent is not None and parent_raw != codes.short(parent):
        return ImportRowError(
            sheet=sheet,
            row=number,
            column=spec.parent_column,
            message=_(
                "'%(parent_raw)s' does not match the parent %(short)s of code %(raw)s",
                parent_raw=parent_raw,
                short=codes.short(parent),
                raw=raw,
            ),
        )
    return DivisionRow(code=code, name=name, parent_code=parent, level=spec.level)


def province_names(directory: Traversable | None = None) -> dict[str, str]:
    """Province codes and names: the directory's provinces.csv, else the shipped one."""
    path = (find(directory, "provinces") if directory else None) or find(SHIPPED, "provinces")
    assert path is not None, "the package ships provinces.csv"
    return {row["code"].strip(): row["name"].strip() for _, row in _rows(path, ("code", "name"))}


def read_divisions(directory: Traversable, *, within: str | None = None) -> list[DivisionRow]:
    """Every division in a directory (optionally only those within one area), parents first.

    Raises ImportFileError listing every bad row (up to 50) when any row is invalid."""
    prefix = codes.short(codes.normalise(within)) if within else ""
    found: list[DivisionRow] = []
    errors: list[ImportRowError] = []
    for spec in SPECS:
        path = find(directory, spec.stem)
        if path is None:
            if spec.level is AreaLevel.city:
                raise ImportFileError(_("no cities.csv in %(directory)s", directory=directory))
            continue
        required = ("code", "name") + ((spec.parent_column,) if spec.parent_column else ())
        for number, row in _rows(path, required):
            checked = _check_row(spec, path.name, number, row)
            if isinstance(checked, ImportRowError):
                errors.append(checked)
            elif checked.code.startswith(prefix) or prefix.startswith(codes.short(checked.code)):
                found.append(checked)
    _raise_if_errors(errors, directory)
    provinces = province_names(directory)
    top = {row.code[:2] for row in found}
    heads = [
        DivisionRow(codes.normalise(p), provinces.get(p, p), None, AreaLevel.province)
        for p in sorted(top)
    ]
    return heads + [row for row in found if row.level is not AreaLevel.province]


def _raise_if_errors(errors: list[ImportRowError], directory: Traversable) -> None:
    if not errors:
        return
    shown = errors[:MAX_REPORTED_ERRORS]
    raise ImportFileError(
        _(
            "%(count)s invalid row(s) in %(directory)s; nothing was written:\n%(errors)s",
            count=len(errors),
            directory=directory,
            errors=lines(error.text for error in shown),
        ),
        rows=errors,
    )


def read_boundaries(directory: Traversable) -> dict[str, dict[str, Any]]:
    """County (or any level) boundary geometries by 12-digit code, from boundaries.geojson."""
    path = find(directory, "boundaries.geojson") or find(directory, "boundaries.geojson.gz")
    if path is None:
        return {}
    with open_text(path) as handle:
        try:
            collection = json.load(handle)
        except json.JSONDecodeError as exc:
            raise ImportFileError(
                _(
                    "%(name)s is not valid GeoJSON: line %(lineno)s, %(msg)s",
                    name=path.name,
                    lineno=exc.lineno,
                    msg=exc.msg,
                ),
            ) from exc
    shapes: dict[str, dict[str, Any]] = {}
    for index, feature in enumerate(collection.get("features", []), start=1):
        raw = str((feature.get("properties") or {}).get("code", ""))
        try:
            shapes[codes.normalise(raw)] = feature["geometry"]
        except (InvalidInputError, KeyError) as exc:
            raise ImportFileError(
                _(
                    "%(name)s, feature %(index)s: invalid code '%(raw)s'",
                    name=path.name,
                    index=index,
                    raw=raw,
                ),
            ) from exc
    return shapes


def read_points(
    path: Path | Traversable, sheet: str | None = None
) -> dict[str, tuple[float, float]]:
    """Coordinates by 12-digit code from a CSV with columns code, lon, lat (WGS-84 degrees)."""
    name = sheet or path.name
    points: dict[str, tuple[float, float]] = {}
    errors: list[ImportRowError] = []
    for number, row in _rows(path, ("code", "lon", "lat")):
        problem = _check_point(name, number, row)
        if isinstance(problem, ImportRowError):
            errors.append(problem)
        else:
            code, lon, lat = problem
            points[code] = (lon, lat)
    if errors:
        _raise_if_errors(errors, path)
    return points


def _check_point(
    sheet: str, number: int, row: dict[str, str]
) -> tuple[str, float, float] | ImportRowError:
    try:
        code = codes.normalise(row["code"] or "")
    except InvalidInputError as exc:
        return ImportRowError(sheet=sheet, row=number, column="code", message=exc.text)
    values: list[float] = []
    for column, low, high in (("lon", 73.0, 136.0), ("lat", 3.0, 54.0)):
        try:
            value = float(row[column])
        except (TypeError, ValueError):
            value = float("nan")
        if not low <= value <= high:
            return ImportRowError(
                sheet=sheet,
                row=number,
                column=column,
                message=_(
                    "'%(row)s' is not a coordinate inside China (%(low)s–%(high)s)",
                    row=row[column],
                    low=low,
                    high=high,
                ),
            )
        values.append(value)
    return code, values[0], values[1]


POPULATION_COLUMNS = ("age_0_14", "age_15_59", "age_60_64", "age_65_79", "age_80_plus")


def read_population(path: Path | Traversable) -> dict[str, list[int]]:
    """Village populations from a CSV: code, age_0_14, age_15_59, age_60_64, age_65_79,
    age_80_plus (whole numbers of residents)."""
    found: dict[str, list[int]] = {}
    errors: list[ImportRowError] = []
    for number, row in _rows(path, ("code", *POPULATION_COLUMNS)):
        try:
            code = codes.normalise(row["code"] or "")
        except InvalidInputError as exc:
            errors.append(
                ImportRowError(sheet=path.name, row=number, column="code", message=exc.text)
            )
            continue
        values: list[int] = []
        for column in POPULATION_COLUMNS:
            raw = (row[column] or "").strip()
            if not raw.isdigit():
                errors.append(
                    ImportRowError(
                        sheet=path.name,
                        row=number,
                        column=column,
                        message=_("'%(raw)s' is not a non-negative whole number", raw=raw),
                    )
                )
                break
            values.append(int(raw))
        else:
            found[code] = values
    if errors:
        _raise_if_errors(errors, path)
    return found
