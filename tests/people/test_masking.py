"""Masked outputs cannot be turned back into ID numbers: for every row of a masked CSV and xlsx
export and of an API list page, at least 30 valid numbers fit everything shown of the person."""

from __future__ import annotations

import csv
import io
import random
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from python_calamine import CalamineWorkbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.areas.choices import AreaLevel
from lianfang.areas.models import Area
from lianfang.auth.choices import Role
from lianfang.auth.scope import SYSTEM
from lianfang.io import sheets
from lianfang.people.importing import import_table
from lianfang.people.models import Person
from lianfang.people.sheet import SPEC
from tests.conftest import bearer
from tests.factories import TOWN, id_number, opening_kit
from tests.people.reidentify import Shown, consistent_numbers

FLOOR = 30
PEOPLE = 240
HEADER = ["姓名", "身份证号", "联系电话", "村(居)代码", "疫苗剂次", "末次接种日期", "入境日期",
          "药包类别", "药包发放日期", "冠心病"]  # fmt: skip
LATER_DATES = ("末次接种日期", "入境日期", "药包发放日期")


def _row(rng: random.Random, n: int, villages: list[str], today: date) -> list[str]:
    """A person of any age, some born days ago, some with dates right after their birth."""
    age_days = rng.choice([rng.randrange(0, 40), rng.randrange(0, 400), rng.randrange(0, 36_500)])
    born = today - timedelta(days=age_days)
    if n == 0:
        born = date(2020, 2, 29)  # a leap day (before the tests' pinned today)
    after = min(today, born + timedelta(days=rng.randrange(0, 3)))
    dated = rng.random() < 0.5
    return [
        f"人{n:03d}", id_number(born.strftime("%Y%m%d"), rng.randrange(1000), "320623"),
        f"13{rng.randrange(10**9):09d}", rng.choice(villages), "1" if dated else "0",
        after.isoformat() if dated else "", after.isoformat() if rng.random() < 0.2 else "",
        "黄色" if dated else "", after.isoformat() if dated else "",
        rng.choice(["", "稳定", "不稳定"]),
    ]  # fmt: skip


@pytest.fixture
def crowd(session: Session) -> int:
    """People of every age in one town, imported as the operator at the CLI would."""
    today = timeutil.today()
    villages = list(session.scalars(
        select(Area.code).where(Area.parent_code == TOWN, Area.level == AreaLevel.village)
    ))  # fmt: skip
    rng = random.Random(11)
    rows = [_row(rng, n, villages, today) for n in range(PEOPLE)]
    # kits are issued, not imported: the kit columns become opening kits after the import
    kit_at = (HEADER.index("药包类别"), HEADER.index("药包发放日期"))
    header = [h for i, h in enumerate(HEADER) if i not in kit_at]
    cut = [[c for i, c in enumerate(r) if i not in kit_at] for r in rows]
    table = sheets.read(_csv(header, cut), "crowd.csv", SPEC)
    result = import_table(session=session, actor=SYSTEM, table=table)
    session.flush()
    ids = dict(session.execute(select(Person.id_number, Person.id)).all())
    for r in rows:
        if r[kit_at[0]]:
            opening_kit(session, ids[r[1]], "yellow", date.fromisoformat(r[kit_at[1]]))
    return result.created


def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows([header, *rows])
    return out.getvalue().encode()


@pytest.fixture
def counties(session: Session) -> frozenset[str]:
    """Every 6-digit address code an ID number could start with here."""
    return frozenset(c[:6] for c in session.scalars(select(Area.code)) if c[4:6] != "00")


def _day(text: Any) -> date | None:
    return date.fromisoformat(str(text)[:10]) if text not in (None, "") else None


def _shown_in_sheet(row: dict[str, Any]) -> Shown:
    later = [d for d in (_day(row[k]) for k in LATER_DATES) if d is not None]
    return Shown(
        id_number=str(row["身份证号"]), male=row["性别"] == "男",
        age=int(row["年龄"]) if row.get("年龄") not in (None, "") else None,
        birth_date=_day(row.get("出生日期")), not_before=min(later, default=None),
    )  # fmt: skip


def _fewest(shown: list[Shown], counties: frozenset[str]) -> tuple[int, Shown]:
    today = timeutil.today()
    counts = {s: consistent_numbers(s, today, counties) for s in set(shown)}
    return min((n, s) for s, n in counts.items())


def _assert_unrecoverable(shown: list[Shown], counties: frozenset[str]) -> None:
    assert len(shown) >= PEOPLE
    fewest, which = _fewest(shown, counties)
    assert fewest >= FLOOR, f"only {fewest} numbers fit {which}"


def test_masked_csv_rows_fit_many_numbers(
    client: TestClient, crowd: int, counties: frozenset[str]
) -> None:
    assert crowd == PEOPLE
    town = bearer(client, Role.town_operator)
    answer = client.get("/api/people/export", params={"area": TOWN, "format": "csv"}, headers=town)
    assert answer.status_code == 200
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert all(not r["出生日期"] for r in rows)
    _assert_unrecoverable([_shown_in_sheet(r) for r in rows], counties)


def test_masked_xlsx_rows_fit_many_numbers(
    client: TestClient, crowd: int, counties: frozenset[str]
) -> None:
    town = bearer(client, Role.town_operator)
    answer = client.get("/api/people/export", params={"area": TOWN}, headers=town)
    assert answer.status_code == 200
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(answer.content)).get_sheet_by_index(0)
    header, *cells = sheet.to_python()
    rows = [dict(zip(header, r, strict=True)) for r in cells]
    _assert_unrecoverable([_shown_in_sheet(r) for r in rows], counties)


def test_api_list_rows_fit_many_numbers(
    client: TestClient, crowd: int, counties: frozenset[str]
) -> None:
    viewer = bearer(client, Role.viewer)
    answer = client.get("/api/people", params={"area": TOWN, "size": 500}, headers=viewer)
    assert answer.status_code == 200
    shown = []
    for p in answer.json()["items"]:
        later = [d for d in (_day(p[k]) for k in ("last_dose_on", "arrived_on", "kit_on")) if d]
        shown.append(Shown(
            id_number=p["id_number"], male=p["sex"] == "male", age=p["age"],
            birth_date=_day(p.get("birth_date")), not_before=min(later, default=None),
        ))  # fmt: skip
    _assert_unrecoverable(shown, counties)


def test_the_count_finds_a_number_when_too_much_is_shown(counties: frozenset[str]) -> None:
    """The count is the attacker's: the old mask with the birth date beside it left one number;
    with the age instead, its tail of four leaves some 365 / 11; the area and check character
    alone leave thousands."""
    today = timeutil.today()
    number = id_number("19410305", 2)
    old = Shown(number[:6] + "*" * 8 + number[-4:], male=False, birth_date=date(1941, 3, 5))
    assert consistent_numbers(old, today, counties) == 1
    tail = Shown(number[:6] + "*" * 8 + number[-4:], male=False, age=age(date(1941, 3, 5)))
    assert 1 <= consistent_numbers(tail, today, counties) < 100
    masked = Shown(number[:6] + "*" * 11 + number[-1], male=False, age=age(date(1941, 3, 5)))
    assert consistent_numbers(masked, today, counties) > 10_000
    newborn = Shown(number[:6] + "*" * 11 + number[-1], male=True, age=0, not_before=today)
    assert consistent_numbers(newborn, today, counties) > 10_000


def test_the_count_agrees_with_listing_the_numbers(counties: frozenset[str]) -> None:
    """On a small case, the residue sums give what listing every candidate gives."""
    from lianfang.people import identity

    born = date(1950, 7, 1)
    shown = Shown("320623" + "*" * 11 + "5", male=True, birth_date=born)
    listed = sum(
        1
        for n in range(0, 1000)
        if n % 2 == 1 and identity.id_problem(f"320623{born:%Y%m%d}{n:03d}5") is None
    )
    assert consistent_numbers(shown, timeutil.today(), counties) == listed > 0


def age(born: date) -> int:
    from lianfang.people.identity import age_on

    return age_on(born, timeutil.today())
