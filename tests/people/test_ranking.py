"""Coverage tables a county can analyse: the red and yellow people each guarantee misses, and a
ranking of every town of an area by a guarantee's gap (people/overview.py), checked against
counts written out by hand and against direct counts of the people."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.areas.choices import AreaLevel
from lianfang.areas.models import Area
from lianfang.auth.choices import Role
from lianfang.auth.scope import SYSTEM
from lianfang.errors import InvalidInputError, PermissionDenied
from lianfang.people import overview
from lianfang.people.choices import CoverageSort, Grade, Guarantee
from lianfang.people.models import Person
from tests.conftest import bearer
from tests.factories import (
    CITY,
    COUNTY,
    OTHER_COUNTY_TOWN,
    OTHER_TOWN,
    OTHER_TOWN_VILLAGE,
    TOWN,
    VILLAGE,
    VILLAGE_2,
    actor_of,
    id_number,
    opening_kit,
)
from tests.people.test_service import load

MEDICINE = Guarantee.medicine
# By hand: the red and yellow people of each town and how many of them lack medicine.
#   掘港街道: 2 red (1 with a kit), 2 yellow (both with kits) → missing 1 (red 1), gap 1/4
#   栟茶镇:   2 red, no kits                                   → missing 2 (red 2), gap 2/2
#   金沙街道: 1 red, 2 yellow (1 with a kit)      → missing 2 (red 1, yellow 1), gap 2/3
EXPECTED = {
    TOWN: (4, 1, 1, 0),
    OTHER_TOWN: (2, 2, 2, 0),
    OTHER_COUNTY_TOWN: (3, 2, 1, 1),
}


@pytest.fixture
def towns(session: Session) -> str:
    """Red and yellow people in three towns of two counties; returns the third town's village."""
    village = session.scalar(
        select(func.min(Area.code)).where(
            Area.level == AreaLevel.village, Area.code.startswith(OTHER_COUNTY_TOWN[:9])
        )
    )
    assert village is not None
    kit = (timeutil.today() - timedelta(days=1)).isoformat()
    red, yellow = "不稳定", "稳定"
    rows = [
        ("掘红甲", "19400101", 1, VILLAGE, red, f"红色,{kit}"),
        ("掘红乙", "19400102", 3, VILLAGE, red, ","),
        ("掘黄甲", "19500101", 5, VILLAGE_2, yellow, f"黄色,{kit}"),
        ("掘黄乙", "19500102", 7, VILLAGE_2, yellow, f"红色,{kit}"),
        ("栟红甲", "19400103", 9, OTHER_TOWN_VILLAGE, red, ","),
        ("栟红乙", "19400104", 11, OTHER_TOWN_VILLAGE, red, ","),
        ("金红甲", "19400105", 13, village, red, ","),
        ("金黄甲", "19500103", 15, village, yellow, ","),
        ("金黄乙", "19500104", 17, village, yellow, f"黄色,{kit}"),
        ("金绿甲", "19700101", 19, village, "", ","),
    ]
    load(session, "".join(
        f"{name},{id_number(born, seq)},{area},{state},1,,\n"
        for name, born, seq, area, state, _kit in rows
    ))  # fmt: skip
    ids = dict(session.execute(select(Person.id_number, Person.id)).all())
    for _name, born, seq, _area, _state, given in rows:
        if given != ",":
            grade = {"红色": "red", "黄色": "yellow"}[given.split(",")[0]]
            opening_kit(session, ids[id_number(born, seq)], grade, date.fromisoformat(kit))
    return village


def _direct(session: Session, town: str, grade: Grade) -> int:
    """Red (or yellow) people of a town without medicine, counted from the people themselves."""
    return (
        session.scalar(
            select(func.count())
            .select_from(Person)
            .where(
                Person.area_code.startswith(town[:9]),
                Person.grade == grade,
                Person.medicine_ok.is_(False),
            )
        )
        or 0
    )


def test_missing_people_are_split_into_red_and_yellow(session: Session, towns: str) -> None:
    for town, (followed, missing, red, yellow) in EXPECTED.items():
        read = overview.coverage_read(session=session, actor=SYSTEM, code=town)
        figures = next(g for g in read.guarantees if g.guarantee is MEDICINE)
        assert (read.followed, figures.missing) == (followed, missing), town
        assert (figures.missing_red, figures.missing_yellow) == (red, yellow), town
        assert (red, yellow) == (
            _direct(session, town, Grade.red),
            _direct(session, town, Grade.yellow),
        )
        assert figures.gap == pytest.approx(missing / followed)
        assert figures.share == pytest.approx(1 - missing / followed)


def test_the_city_ranks_every_town_by_a_guarantees_gap(session: Session, towns: str) -> None:
    read = overview.coverage_read(
        session=session, actor=SYSTEM, code=CITY, level=AreaLevel.town,
        sort=CoverageSort.medicine_pct,
    )  # fmt: skip
    all_towns = session.scalars(
        select(Area.code).where(Area.level == AreaLevel.town, Area.code.startswith("3206"))
    ).all()
    assert sorted(c.code for c in read.children) == sorted(all_towns)  # all, not only counties'
    assert len(all_towns) > 8
    assert (read.level, read.sort, read.descending) == (
        AreaLevel.town,
        CoverageSort.medicine_pct,
        True,
    )
    # by the share missing: 栟茶镇 2/2, 金沙街道 2/3, 掘港街道 1/4, then towns without key people
    assert [c.code for c in read.children[:3]] == [OTHER_TOWN, OTHER_COUNTY_TOWN, TOWN]
    assert all(c.followed == 0 for c in read.children[3:])
    counties = dict(
        session.execute(select(Area.code, Area.name).where(Area.level == AreaLevel.county)).all()
    )
    for row in read.children:
        assert row.within == counties[row.code[:6] + "000000"]
    by_count = overview.coverage_read(
        session=session, actor=SYSTEM, code=CITY, level=AreaLevel.town, sort=CoverageSort.medicine
    )
    # 金沙街道 and 栟茶镇 both miss 2: ties keep the code order (320612… before 320623…)
    assert [c.code for c in by_count.children[:3]] == [OTHER_COUNTY_TOWN, OTHER_TOWN, TOWN]
    rising = overview.coverage_read(
        session=session, actor=SYSTEM, code=CITY, level=AreaLevel.town,
        sort=CoverageSort.medicine_pct, descending=False,
    )  # fmt: skip
    assert [c.code for c in rising.children if c.followed] == [TOWN, OTHER_COUNTY_TOWN, OTHER_TOWN]
    assert all(c.followed == 0 for c in rising.children[3:])  # no share: last either way


def test_a_county_ranks_only_its_own_towns(session: Session, towns: str) -> None:
    operator = actor_of(Role.district_operator)
    read = overview.coverage_read(
        session=session, actor=operator, code=COUNTY, level=AreaLevel.town,
        sort=CoverageSort.medicine,
    )  # fmt: skip
    assert {c.code[:6] for c in read.children} == {COUNTY[:6]}
    assert [c.code for c in read.children[:2]] == [OTHER_TOWN, TOWN]
    assert all(c.within == "" for c in read.children)  # the county's own children
    with pytest.raises(PermissionDenied):
        overview.coverage_read(session=session, actor=operator, code=CITY, level=AreaLevel.town)


def test_villages_of_a_county_and_levels_that_are_not_below(session: Session, towns: str) -> None:
    read = overview.coverage_read(
        session=session, actor=SYSTEM, code=COUNTY, level=AreaLevel.village,
        sort=CoverageSort.red,
    )  # fmt: skip
    # two red people each: code order; then the villages without red people
    assert [c.code for c in read.children[:2]] == [VILLAGE, OTHER_TOWN_VILLAGE]
    assert all(c.red == 0 for c in read.children[2:])
    town_names = dict(
        session.execute(select(Area.code, Area.name).where(Area.level == AreaLevel.town)).all()
    )
    assert read.children[1].within == town_names[OTHER_TOWN]
    for level in (AreaLevel.county, AreaLevel.city):
        with pytest.raises(InvalidInputError):
            overview.coverage_read(session=session, actor=SYSTEM, code=COUNTY, level=level)


def test_every_sort_key_orders_by_its_figure(session: Session, towns: str) -> None:
    for sort in CoverageSort:
        read = overview.coverage_read(session=session, actor=SYSTEM, code=COUNTY, sort=sort)
        rows = read.children
        if sort is CoverageSort.code:
            assert [c.code for c in rows] == sorted(c.code for c in rows)
            continue
        values = []
        for c in rows:
            g = sort.guarantee
            if g is None:
                values.append(
                    c.alerts_open if sort is CoverageSort.alerts else getattr(c, sort.value)
                )
            else:
                figures = next(f for f in c.guarantees if f.guarantee is g)
                values.append(figures.gap if sort.share else figures.missing)
        shown = [v for v in values if v is not None]
        assert shown == sorted(shown, reverse=True), sort


def test_the_api_ranks_towns_as_the_service_does(
    client: TestClient, session: Session, towns: str
) -> None:
    headers = bearer(client, Role.city_commander)
    answer = client.get(
        "/api/areas/3206/coverage",
        params={"level": "town", "sort": "medicine_pct", "order": "desc"},
        headers=headers,
    )
    assert answer.status_code == 200, answer.text
    read = answer.json()
    assert (read["level"], read["sort"], read["descending"]) == ("town", "medicine_pct", True)
    assert [c["code"] for c in read["children"][:3]] == [OTHER_TOWN, OTHER_COUNTY_TOWN, TOWN]
    third = next(c for c in read["children"] if c["code"] == OTHER_COUNTY_TOWN)
    medicine = next(g for g in third["guarantees"] if g["guarantee"] == "medicine")
    assert (medicine["missing"], medicine["missing_red"], medicine["missing_yellow"]) == (2, 1, 1)
    assert third["within"]  # 通州区
    rising = client.get(
        "/api/areas/3206/coverage",
        params={"level": "town", "sort": "medicine", "order": "asc"},
        headers=headers,
    ).json()
    assert rising["children"][-1]["code"] == OTHER_TOWN  # the code order breaks the tie
    county = bearer(client, Role.district_operator)
    refused = client.get("/api/areas/3206/coverage", params={"level": "town"}, headers=county)
    assert refused.status_code == 403
    not_below = client.get("/api/areas/320623/coverage", params={"level": "county"}, headers=county)
    assert not_below.status_code == 400
    unknown = client.get("/api/areas/320623/coverage", params={"sort": "bogus"}, headers=county)
    assert unknown.status_code == 422
