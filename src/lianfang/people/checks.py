"""Checks of an imported people table that look across cells or into the database (each cell on
its own is checked by ``sheet.parse``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lianfang.areas import codes
from lianfang.areas.choices import AreaLevel
from lianfang.areas.models import Area
from lianfang.auth.scope import Actor
from lianfang.errors import LianfangError
from lianfang.people import identity
from lianfang.people.sheet import Checker, Parsed

CHUNK = 5000


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
    column = parsed.values["area_code"]
    for index, raw in enumerate(column):
        problem = _area_problem(raw, wanted[raw], found, actor)
        if problem:
            check.add(index, "area_code", *problem)
        column[index] = wanted[raw] or ""


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


def cells_together(check: Checker, parsed: Parsed) -> None:
    """Sex and birth date against the ID, dates not before birth, a kit with its date."""
    values = parsed.values
    blank: list[Any] = [None] * len(values["id_number"])
    sexes, births = values.get("sex") or blank, values.get("birth_date") or blank
    dated = [(k, values[k]) for k in ("last_dose_on", "arrived_on", "kit_on") if k in values]
    born_of: dict[str, date | None] = {}
    for index, number in enumerate(values["id_number"]):
        if len(number) != 18:
            continue
        born = born_of.get(number[6:14], blank)
        if born is blank:
            born = born_of[number[6:14]] = identity.birth_date(number)
        if born is None:
            continue
        if sexes[index] not in (None, identity.sex_of(number)):
            check.add(index, "sex", "与身份证号不符", "does not match the ID number")
        if births[index] not in (None, born):
            check.add(index, "birth_date", f"与身份证号不符（{born}）", f"ID number says {born}")
        for key, column in dated:
            if column[index] is not None and column[index] < born:
                check.add(index, key, "早于出生日期", "before the birth date")
    _kits(check, values, blank)


def _kits(check: Checker, values: dict[str, list[Any]], blank: list[Any]) -> None:
    if "kit_grade" not in values:
        return
    kits = zip(values["kit_grade"], values.get("kit_on") or blank, strict=True)
    for index, (kit, on) in enumerate(kits):
        if (kit is None) != (on is None):
            key, zh, en = (
                ("kit_on", "已填药包类别，须填发放日期", "a kit needs its delivery date")
                if kit
                else ("kit_grade", "已填发放日期，须填药包类别", "a delivery date needs its kit")
            )
            check.add(index, key, zh, en)
