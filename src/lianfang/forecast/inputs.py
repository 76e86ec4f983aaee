"""Reading forecast inputs from files: scenarios (JSON) and observed series (CSV)."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from lianfang.errors import ImportFileError, ImportRowError, InvalidInputError
from lianfang.forecast.fit import SERIES, Observed
from lianfang.forecast.presets import baseline
from lianfang.forecast.scenario import Scenario


def scenarios_from_json(text: str, source: str) -> list[Scenario]:
    """One scenario or a list of them, as JSON (see docs/forecast.md for the fields)."""
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(
            f"{source} 不是有效的 JSON：第 {exc.lineno} 行 {exc.msg}",
            f"{source} is not valid JSON: line {exc.lineno}, {exc.msg}",
        ) from exc
    items = data if isinstance(data, list) else [data]
    found = []
    for index, item in enumerate(items, start=1):
        try:
            found.append(Scenario.from_dict(item))
        except (TypeError, ValueError, AttributeError) as exc:
            raise InvalidInputError(
                f"{source} 第 {index} 个情景有误：{exc}", f"{source}, scenario {index}: {exc}"
            ) from exc
    return found


def series_from_csv(path: Path) -> Observed:
    """Daily observations from a CSV file (see ``series_from_bytes``)."""
    return series_from_bytes(path.read_bytes(), path.name)


def series_from_bytes(content: bytes, name: str) -> Observed:
    """Daily observations: a ``date`` column and any of positives, visits, admissions,
    hospital_census (empty = not reported). Days may be missing; they become gaps."""
    path = Path(name)
    try:
        rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline="")))
        columns = [c for c in (rows[0].keys() if rows else []) if c != "date"]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ImportFileError(
            f"{path.name} 不是 UTF-8 编码的 CSV 文件",
            f"{path.name} is not a UTF-8 CSV file ({exc})",
        ) from exc
    unknown = [c for c in columns if c not in SERIES]
    if not rows or "date" not in rows[0] or unknown or not columns:
        raise ImportFileError(
            f"{path.name} 需要 date 列和以下至少一列：{'、'.join(SERIES)}"
            + (f"；无法识别的列：{'、'.join(unknown)}" if unknown else ""),
            f"{path.name} needs a date column and at least one of {', '.join(SERIES)}"
            + (f"; unknown column(s): {', '.join(unknown)}" if unknown else ""),
        )
    days, errors = _parse_rows(path.name, rows, columns)
    if errors:
        raise ImportFileError(
            f"{path.name} 中有 {len(errors)} 处错误：\n" + "\n".join(e.zh for e in errors[:20]),
            f"{len(errors)} error(s) in {path.name}:\n" + "\n".join(e.en for e in errors[:20]),
            rows=errors,
        )
    start, end = min(days), max(days)
    length = (end - start).days + 1
    series = {c: np.full(length, np.nan) for c in columns}
    for day, values in days.items():
        for column, value in values.items():
            series[column][(day - start).days] = value
    try:
        return Observed(start, series)
    except ValueError as exc:
        raise ImportFileError(f"{path.name}：{exc}", f"{path.name}: {exc}") from exc


def _parse_rows(
    sheet: str, rows: list[dict[str, str]], columns: list[str]
) -> tuple[dict[date, dict[str, float]], list[ImportRowError]]:
    days: dict[date, dict[str, float]] = {}
    errors: list[ImportRowError] = []
    for number, row in enumerate(rows, start=2):
        try:
            day = date.fromisoformat((row.get("date") or "").strip())
        except ValueError:
            errors.append(
                ImportRowError(
                    sheet=sheet,
                    row=number,
                    column="date",
                    zh=f"「{row.get('date')}」不是 YYYY-MM-DD 日期",
                    en=f"{row.get('date')!r} is not a YYYY-MM-DD date",
                )
            )
            continue
        if day in days:
            errors.append(
                ImportRowError(
                    sheet=sheet, row=number, column="date", zh="日期重复", en="date repeated"
                )
            )
        values: dict[str, float] = {}
        for column in columns:
            raw = (row.get(column) or "").strip()
            if not raw:
                continue
            if not raw.isdigit():
                errors.append(
                    ImportRowError(
                        sheet=sheet,
                        row=number,
                        column=column,
                        zh=f"「{raw}」不是非负整数",
                        en=f"{raw!r} is not a non-negative whole number",
                    )
                )
                continue
            values[column] = float(raw)
        days[day] = values
    return days, errors


def fit_inputs(observed: Observed, until: date | None, days: int) -> dict[str, Any]:
    """What a fit run stores besides the population: the observations, the cut-off, the horizon."""
    return {
        "days": days,
        "seed": 0,
        "until": until.isoformat() if until else None,
        "observed_start": observed.start.isoformat(),
        "observed": {
            k: [None if np.isnan(v) else float(v) for v in values]
            for k, values in observed.series.items()
        },
        "scenarios": [baseline().to_dict()],
        "parameters": {},
    }
