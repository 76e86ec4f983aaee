"""The registry's shared read models (people/overview.py, people/profile.py) against a real
database: what the API, the pages and the CLI all show."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.areas.models import Area
from lianfang.auth.choices import Role
from lianfang.auth.scope import SYSTEM
from lianfang.people import overview, profile, service
from lianfang.people.choices import Grade, Guarantee
from lianfang.people.models import Person
from tests.factories import TOWN, VILLAGE, actor_of
from tests.people.test_service import VILLAGE_ACTOR, people

__all__ = ["people"]  # the fixture, shared with test_service


def test_coverage_read_names_the_area_and_sums_its_children(
    session: Session, people: dict[str, int]
) -> None:
    read = overview.coverage_read(session=session, actor=SYSTEM, code="320623001")
    town_name = session.scalar(select(Area.name).where(Area.code == TOWN))
    assert (read.code, read.name, read.as_of) == (TOWN, town_name, timeutil.today())
    assert [c.code for c in read.children] == sorted(c.code for c in read.children)
    assert all(c.name and c.name != c.code for c in read.children)
    for grade in ("red", "yellow", "green"):
        assert getattr(read, grade) == sum(getattr(c, grade) for c in read.children)
    grades = Counter(
        session.scalars(select(Person.grade).where(Person.area_code.startswith(TOWN[:9])))
    )
    assert (read.red, read.yellow) == (grades[Grade.red], grades[Grade.yellow])


def test_village_points_count_followed_people_where_the_village_lies(
    session: Session, people: dict[str, int]
) -> None:
    points = overview.village_points(session=session, actor=SYSTEM, code=TOWN)
    followed = Counter(
        session.scalars(
            select(Person.area_code).where(
                Person.area_code.startswith(TOWN[:9]), Person.grade.in_([Grade.red, Grade.yellow])
            )
        )
    )
    assert points, "the demo world places the town's villages"
    for point in points:
        assert point["followed"] == followed[point["code"]] > 0
        assert point["lon"] is not None
        assert point["covered"]["all"] <= min(point["covered"][g.value] for g in Guarantee)


def test_open_alerts_counts_only_open_ones(session: Session, people: dict[str, int]) -> None:
    assert overview.open_alerts(session=session, person_ids=list(people.values())) == {}


def test_profile_masks_and_offers_only_what_the_actor_may_do(
    session: Session, people: dict[str, int]
) -> None:
    pid = people["红一"]
    today = timeutil.today()
    seen = profile.profile(session=session, actor=VILLAGE_ACTOR, person_id=pid, today=today)
    assert seen.person.area_code == seen.info.area.code == VILLAGE
    assert seen.person.id_number[6:14] not in seen.masked_id
    assert all(seen.reason)
    assert [r.name for r in seen.responsibles] == ["王医生"]
    viewer = actor_of(Role.viewer)
    assert (
        profile.profile(session=session, actor=viewer, person_id=pid, today=today).responsibles
        == []
    )
    service.override_grade(
        session=session, actor=SYSTEM, person_id=pid, grade=Grade.yellow, reason="家属已接走照护"
    )
    assert profile.grade_reason(
        service.get(session=session, actor=SYSTEM, person_id=pid), today
    ) == (
        "家属已接走照护",
        "家属已接走照护",
    )
