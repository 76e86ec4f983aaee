"""Checks of an imported people table that look across cells or into the database (each cell on
its own is checked by ``sheet.parse``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.orm import Session

from lianfang.areas import codes
from lianfang.areas.choices import AreaLevel
from lianfang.areas.models import Area
from lianfang.auth.scope import Actor
from lianfang.errors import LianfangError
from lianfang.people.choices import Sex
from lianfang.people.sheet import Checker, Parsed

CHUNK = 5000
NOT_A_DAY = np.datetime64("NaT", "D")


def areas(session: Session, actor: Actor, check: Checker, parsed: Parsed) -> None:
    """Village codes: normalised in place, and each one existing, a village, within scope."""
    wanted: dict[str, str | None] = {}
    for raw in set(parsed.values["area_code"]):
        try:
            wanted[raw] = codes.normalise(raw) if raw else None
        except LianfangError:
            wanted[raw] = None
    known = sorted({c for c in wanted.values() if c})
    found = {
        a.code: a
        for start in range(0, len(known), CHUNK)
        for a in session.scalars(select(Area).where(Area.code.in_(known[start : start + CHUNK])))
    }
    problems = {raw: _area_problem(raw, code, found, actor) for raw, code in wanted.items()}
    column = parsed.values["area_code"]
    if any(problems.values()):
        for index, raw in enumerate(column):
            problem = problems[raw]
            if problem:
                check.add(index, "area_code", *problem)
    normal = {raw: code or "" for raw, code in wanted.items()}
    parsed.values["area_code"] = [normal[raw] for raw in column]


def _area_problem(
    raw: str, code: str | None, found: dict[str, Area], actor: Actor
) -> tuple[str, str] | None:
    if not raw:
        return "必填", "required"
    area = found.get(code or "")
    if code is None or area is None:
        return f"区划代码「{raw}」不存在", f"area code {raw!r} does not exist"
    if area.level is not AreaLevel.village:
        return (f"「{area.name}」是{area.level.zh}，应填村（居）代码",
                f"{area.name} is a {area.level.en}; a village code is needed")  # fmt: skip
    if not actor.reaches(code):
        return f"{area.name}（{code}）不在您的管辖范围内", f"{code} is outside your scope"
    return None


def cells_together(
    check: Checker, parsed: Parsed, stored_kits: dict[int, tuple[Any, Any]] | None = None
) -> None:
    """Sex and birth date against the ID, dates not before birth, a kit with its date: column
    by column, against what the ID numbers say. ``stored_kits`` holds the stored kit and date of
    rows that re-import a person, which their blank cells keep."""
    assert parsed.ids is not None
    born, known = parsed.ids.born, ~np.isnat(parsed.ids.born)
    if "sex" in parsed.values:
        rows, distinct = parsed.coded("sex").rows, parsed.coded("sex").values
        given = np.array([v is not None for v in distinct], dtype=bool)[rows]
        male = np.array([v is Sex.male for v in distinct], dtype=bool)[rows]
        for index in np.flatnonzero(known & given & (male != parsed.ids.male)).tolist():
            check.add(index, "sex", "与身份证号不符", "does not match the ID number")
    if "birth_date" in parsed.values:
        days = _days(parsed, "birth_date")
        for index in np.flatnonzero(known & ~np.isnat(days) & (days != born)).tolist():
            day = born[index].item()
            check.add(index, "birth_date", f"与身份证号不符（{day}）", f"ID number says {day}")
    for key in ("last_dose_on", "arrived_on", "kit_on"):
        if key in parsed.values:
            days = _days(parsed, key)
            for index in np.flatnonzero(known & ~np.isnat(days) & (days < born)).tolist():
                check.add(index, key, "早于出生日期", "before the birth date")
    _kits(check, parsed, stored_kits or {})


def _blank(parsed: Parsed, key: str, size: int) -> npt.NDArray[np.bool_]:
    """Rows whose cell in a column is blank (every row, when the file lacks the column)."""
    if key not in parsed.values:
        return np.ones(size, dtype=bool)
    marks = parsed.marks.get(key)
    return np.zeros(size, dtype=bool) if marks is None else marks.blank_rows(parsed.coded(key).rows)


def _days(parsed: Parsed, key: str) -> npt.NDArray[np.datetime64]:
    """A column of dates (or None) as days, NaT for None."""
    coded = parsed.coded(key)
    rows, distinct = coded.rows, coded.values
    days = np.array([np.datetime64(v, "D") if v else NOT_A_DAY for v in distinct], "datetime64[D]")
    return days[rows] if len(days) else np.full(len(rows), NOT_A_DAY, "datetime64[D]")


def _kits(check: Checker, parsed: Parsed, stored: dict[int, tuple[Any, Any]]) -> None:
    if "kit_grade" not in parsed.values:
        return
    coded = parsed.coded("kit_grade")
    rows, distinct = coded.rows, coded.values
    kit = np.array([v is not None for v in distinct], dtype=bool)[rows]
    dated = (
        ~np.isnat(_days(parsed, "kit_on"))
        if "kit_on" in parsed.values
        else np.zeros(len(rows), dtype=bool)
    )
    if stored:  # a blank cell of a stored person keeps the stored kit or date
        for key, given in (("kit_grade", kit), ("kit_on", dated)):
            blank = _blank(parsed, key, len(rows))
            for index in np.flatnonzero(blank).tolist():
                if index in stored:
                    given[index] = stored[index][key == "kit_on"] is not None
    for index in np.flatnonzero(kit != dated).tolist():
        key, zh, en = (
            ("kit_on", "已填药包类别，须填发放日期", "a kit needs its delivery date")
            if kit[index]
            else ("kit_grade", "已填发放日期，须填药包类别", "a delivery date needs its kit")
        )
        check.add(index, key, zh, en)
