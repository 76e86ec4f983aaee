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
from lianfang.columns import Coded, objects
from lianfang.errors import LianfangError
from lianfang.i18n import Text, _
from lianfang.people import hospitals, villages
from lianfang.people.choices import Sex
from lianfang.people.sheet import Checker, Parsed

CHUNK = 5000
NOT_A_DAY = np.datetime64("NaT", "D")


def areas(
    session: Session, actor: Actor, check: Checker, parsed: Parsed, area: str | None = None
) -> None:
    """Village codes, or names where one village of the area bears them (``area``, else the
    actor's scope): normalised in place to codes, each one existing, a village, within scope."""
    distinct = set(parsed.values["area_code"])
    named = villages.by_name(
        session=session, actor=actor, names={r.strip() for r in distinct if _is_name(r)}, area=area
    )
    wanted: dict[str, str | None] = {}
    unnamed: dict[str, Text] = {}  # names that match no village, or several
    for raw in distinct:
        if _is_name(raw):
            found = named[raw.strip()]
            wanted[raw] = found if isinstance(found, str) else None
            if not isinstance(found, str):
                unnamed[raw] = found
            continue
        try:
            wanted[raw] = codes.normalise(raw) if raw else None
        except LianfangError:
            wanted[raw] = None
    known = sorted({c for c in wanted.values() if c})
    found_areas = {
        a.code: a
        for start in range(0, len(known), CHUNK)
        for a in session.scalars(select(Area).where(Area.code.in_(known[start : start + CHUNK])))
    }
    problems = {
        raw: unnamed.get(raw) or _area_problem(raw, code, found_areas, actor)
        for raw, code in wanted.items()
    }
    column = parsed.values["area_code"]
    if any(problems.values()):
        for index, raw in enumerate(column):
            problem = problems[raw]
            if problem:
                check.add(index, "area_code", problem)
    normal = {raw: code or "" for raw, code in wanted.items()}
    parsed.values["area_code"] = [normal[raw] for raw in column]


def designated_hospitals(session: Session, check: Checker, parsed: Parsed) -> None:
    """The designated-hospital column (a facility's code or name) as facility ids, in the
    column ``hospital_id`` (coded alike, so blank and 「清空」 cells keep their marks); a text
    that names no hospital, or several, is an error of its rows."""
    if "hospital" not in parsed.present:
        return
    coded = parsed.coded("hospital")
    texts = [v or "" for v in coded.values.tolist()]
    found = hospitals.resolve(session, texts)
    ids: list[int | None] = []
    for position, text in enumerate(texts):
        answer = found.get(text.strip()) if text.strip() else None
        ids.append(answer if isinstance(answer, int) else None)
        if answer is not None and not isinstance(answer, int):
            for index in np.flatnonzero(coded.rows == position).tolist():
                check.add(index, "hospital", answer)
    parsed.codes["hospital_id"] = Coded(coded.rows, objects(ids))
    parsed.present = parsed.present | {"hospital_id"}


def _is_name(raw: str) -> bool:
    """A cell that names a village rather than giving its code (anything but digits)."""
    text = raw.strip()
    return bool(text) and not (text.isascii() and text.isdigit())


def _area_problem(raw: str, code: str | None, found: dict[str, Area], actor: Actor) -> Text | None:
    if not raw:
        return _("required")
    area = found.get(code or "")
    if code is None or area is None:
        return _("area code '%(raw)s' does not exist", raw=raw)
    if area.level is not AreaLevel.village:
        return _(
            "%(name)s is a %(level)s; a village code is needed",
            name=area.name,
            level=area.level.text,
        )
    if not actor.reaches(code):
        return _("%(name)s (%(code)s) is outside your scope", name=area.name, code=code)
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
            check.add(index, "sex", _("does not match the ID number"))
    if "birth_date" in parsed.values:
        days = _days(parsed, "birth_date")
        for index in np.flatnonzero(known & ~np.isnat(days) & (days != born)).tolist():
            day = born[index].item()
            check.add(index, "birth_date", _("ID number says %(day)s", day=day))
    for key in ("last_dose_on", "arrived_on", "kit_on"):
        if key in parsed.values:
            days = _days(parsed, key)
            for index in np.flatnonzero(known & ~np.isnat(days) & (days < born)).tolist():
                check.add(index, key, _("before the birth date"))
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


KIT_NOT_TYPED = _(
    "a kit is issued from a clinic's stock (issue kit, on the person page), not typed: leave "
    "the cell blank or as exported"
)


def _kits(check: Checker, parsed: Parsed, stored: dict[int, tuple[Any, Any]]) -> None:
    """The kit columns are derived from the stock ledger: a cell may only repeat what is stored
    (an export imported back); a blank cell keeps it; anything else is refused."""
    for position, key in enumerate(("kit_grade", "kit_on")):
        if key not in parsed.values:
            continue
        coded = parsed.coded(key)
        blank = _blank(parsed, key, len(coded.rows))
        for index in np.flatnonzero(~blank).tolist():
            given = coded.values[coded.rows[index]]
            held = stored[index][position] if index in stored else None
            if given != held:
                check.add(index, key, KIT_NOT_TYPED)
