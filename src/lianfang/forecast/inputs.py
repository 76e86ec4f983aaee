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
from lianfang.i18n import _, lines, listing


def scenarios_from_json(text: str, source: str) -> list[Scenario]:
    """One scenario or a list of them, as JSON (see docs/forecast.md for the fields)."""
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(
            _(
                "%(source)s is not valid JSON: line %(lineno)s, %(msg)s",
                source=source,
                lineno=exc.lineno,
                msg=exc.msg,
            ),
        ) from exc
    items = data if isinstance(data, list) else [data]
    found = []
    for index, item in enumerate(items, start=1):
        try:
            found.append(Scenario.from_dict(item))
        except (TypeError, ValueError, AttributeError) as exc:
            raise InvalidInputError(
                _("%(source)s, scenario %(index)s: %(exc)s", source=source, index=index, exc=exc)
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
            _("%(name)s is not a UTF-8 CSV file (%(exc)s)", name=path.name, exc=exc)
        ) from exc
    unknown = [c for c in columns if c not in SERIES]
    if not rows or "date" not in rows[0] or unknown or not columns:
        needs = _(
            "%(name)s needs a date column and at least one of %(series)s",
            name=path.name,
            series=listing(SERIES),
        )
        raise ImportFileError(
            _("%(needs)s; unknown column(s): %(unknown)s", needs=needs, unknown=listing(unknown))
            if unknown
            else needs
        )
    days, errors = _parse_rows(path.name, rows, columns)
    if errors:
        raise ImportFileError(
            _(
                "%(count)s error(s) in %(name)s:\n%(errors)s",
                count=len(errors),
                name=path.name,
                errors=lines(e.text for e in errors[:20]),
            ),
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
        raise ImportFileError(_("%(name)s: %(exc)s", name=path.name, exc=exc)) from exc


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
                    message=_("'%(date)s' is not a YYYY-MM-DD date", date=row.get("date")),
                )
            )
            continue
        if day in days:
            errors.append(
                ImportRowError(sheet=sheet, row=number, column="date", message=_("date repeated"))
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
                        message=_("'%(raw)s' is not a non-negative whole number", raw=raw),
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
