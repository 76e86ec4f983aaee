"""The demo's key population: drawn from the age bands, valid IDs, graded by the rules."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.alerts.models import Alert
from lianfang.areas.models import AreaPopulation
from lianfang.auth.scope import SYSTEM
from lianfang.demo import people
from lianfang.people import coverage, grading, hospitals, identity, records, service
from lianfang.people.choices import Grade, Guarantee
from lianfang.people.models import FollowUp, Person
from tests.factories import TOWN, VILLAGE

ELDERLY = ("65–79", "80+")


def _generate(session: Session, prefix: str, share: float, seed: int = 11) -> people.PeopleReport:
    return people.generate(
        session=session, actor=SYSTEM, seed=seed, share=share, prefix=prefix, today=None
    )


def _persons(session: Session, prefix: str) -> list[Person]:
    return list(session.scalars(select(Person).where(Person.area_code.startswith(prefix))))


def _band(person: Person, today: date) -> int:
    return grading.age_band(identity.age_on(person.birth_date, today))


def test_city_scale_draws_every_resident_aged_65_and_over(session: Session) -> None:
    report = _generate(session, VILLAGE, share=1.0)
    bands = session.get(AreaPopulation, VILLAGE)
    assert bands is not None
    today = timeutil.today()
    found = [_band(p, today) for p in _persons(session, VILLAGE)]
    assert found.count(1) >= bands.age_65_79  # plus younger ones with conditions: band 0
    assert found.count(2) == bands.age_80_plus
    assert report.by_cohort["65–79"] == bands.age_65_79
    assert report.by_cohort["80+"] == bands.age_80_plus
    assert report.persons == len(found) == sum(report.by_cohort.values())


def test_demo_scale_is_a_five_percent_sample_of_the_elderly(session: Session) -> None:
    town = TOWN[:9]
    report = _generate(session, town, share=people.SHARE["demo"])
    rows = session.execute(
        select(func.sum(AreaPopulation.age_65_79), func.sum(AreaPopulation.age_80_plus)).where(
            AreaPopulation.area_code.startswith(town)
        )
    ).one()
    for cohort, residents in zip(ELDERLY, rows, strict=True):
        expected = residents * people.SHARE["demo"]
        assert abs(report.by_cohort[cohort] - expected) < 3 * expected**0.5 + 5
    assert report.by_cohort["chronic"] > 0
    assert report.by_cohort["65–79"] > 2 * report.by_cohort["80+"]


def test_ids_are_valid_unique_and_match_the_village_and_age(session: Session) -> None:
    _generate(session, VILLAGE, share=1.0)
    found = _persons(session, VILLAGE)
    numbers = [p.id_number for p in found]
    assert len(set(numbers)) == len(numbers) > 100
    for person in found:
        assert identity.id_problem(person.id_number) is None
        assert identity.birth_date(person.id_number) == person.birth_date
        assert identity.sex_of(person.id_number) is person.sex
        assert person.id_number[:6] == VILLAGE[:6]
        assert not person.phone or identity.phone_ok(person.phone)


def test_grades_and_guarantee_flags_are_the_rules(session: Session) -> None:
    _generate(session, VILLAGE, share=1.0)
    today = timeutil.today()
    found = _persons(session, VILLAGE)
    designated = hospitals.facts(session, (p.hospital_id for p in found))
    assert any(p.treatment_ok for p in found)
    assert not all(p.treatment_ok for p in found)
    for person in found:
        inputs = {key: getattr(person, key) for key in records.INPUT_KEYS}
        derived = records.derive(
            inputs, id_number=person.id_number, registered_on=person.registered_on,
            last_contact_at=person.last_contact_at, override=None, today=today,
            hospitals=designated,
        )  # fmt: skip
        for key in ("grade", "rule_grade", "grade_method", "due_on", "medicine_ok",
                    "treatment_ok", "disease"):  # fmt: skip
            assert getattr(person, key) == derived[key], (person.id_number, key)
    grades = {g: sum(p.grade is g for p in found) for g in Grade}
    assert all(grades.values())  # the sample holds every grade


def test_follow_ups_leave_realistic_gaps_and_raise_alerts_by_the_rules(session: Session) -> None:
    _generate(session, TOWN[:9], share=0.3)
    total, _ = coverage.summary(session=session, actor=SYSTEM, code=TOWN, today=timeutil.today())
    checked = total.share(Guarantee.checked_on)
    assert checked is not None
    assert 0.6 < checked < 0.97
    assert 0 < total.covered[Guarantee.in_charge] < total.followed
    alerts = session.scalars(select(Alert).where(Alert.area_code.startswith(TOWN[:9]))).all()
    assert alerts
    for alert in alerts:
        visit = session.get(FollowUp, alert.follow_up_id or 0)
        assert visit is not None
        assert alert.person_id == visit.person_id
        assert (visit.spo2_pct or 100) < 93 or (visit.temperature_c or 0) >= 38.5 or visit.symptoms


def test_coverage_matches_a_direct_count(session: Session) -> None:
    _generate(session, TOWN[:9], share=0.05)
    today = timeutil.today()
    total, children = coverage.summary(session=session, actor=SYSTEM, code=TOWN, today=today)
    found = _persons(session, TOWN[:9])
    followed = [p for p in found if p.grade is not Grade.green]
    assert total.red == sum(p.grade is Grade.red for p in found)
    assert total.yellow == sum(p.grade is Grade.yellow for p in found)
    assert total.green == sum(p.grade is Grade.green for p in found)
    assert total.covered[Guarantee.in_charge] == sum(p.responsible_id is not None for p in followed)
    assert total.covered[Guarantee.medicine] == sum(p.medicine_ok for p in followed)
    assert total.covered[Guarantee.treatment] == sum(p.treatment_ok for p in followed)
    checked = sum(
        p.last_contact_at is not None and p.due_on is not None and p.due_on >= today
        for p in followed
    )
    assert total.covered[Guarantee.checked_on] == checked
    assert total.overdue == sum(p.due_on is not None and p.due_on < today for p in found)
    assert sum(c.total for c in children) == len(found)


def _snapshot(session: Session, seed: int) -> list[tuple[str, str, str, int]]:
    nested = session.begin_nested()
    _generate(session, VILLAGE, share=0.2, seed=seed)
    rows = session.execute(
        select(Person.id_number, Person.name, Person.grade, func.count(FollowUp.id))
        .outerjoin(FollowUp, FollowUp.person_id == Person.id)
        .where(Person.area_code == VILLAGE)
        .group_by(Person.id_number, Person.name, Person.grade)
        .order_by(Person.id_number)
    ).all()
    nested.rollback()
    return [(a, b, str(c), d) for a, b, c, d in rows]


def test_same_seed_same_people(session: Session) -> None:
    first = _snapshot(session, 5)
    assert first == _snapshot(session, 5)
    assert first != _snapshot(session, 6)


def test_an_area_that_holds_people_is_left_alone(session: Session) -> None:
    first = _generate(session, VILLAGE, share=0.2)
    again = _generate(session, VILLAGE, share=0.2)
    assert first.persons > 0
    assert again.persons == 0


def test_a_list_paged_is_the_whole_list_in_order_across_grades(session: Session) -> None:
    _generate(session, VILLAGE, share=1.0)
    f = service.PeopleFilter(area=VILLAGE)
    whole = [p.id for p in session.scalars(service.query(SYSTEM, f, timeutil.today()))]
    paged: list[int] = []
    for page in range(1, len(whole) // 7 + 3):
        found = service.list_people(session=session, actor=SYSTEM, f=f, page=page, size=7)
        assert found.total == len(whole)
        paged += [p.id for p in found.items]
    assert paged == whole
    assert len({p.grade for p in _persons(session, VILLAGE)}) == 3  # pages span every grade
