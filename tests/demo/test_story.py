"""The demo world as `lianfang demo` builds it tells its story: one day, towns that differ.

One demo-scale build (≈100k invented people) on a fresh SQLite file, shared by this module. It is
built around a day other than the one the tests' clock is pinned to, so that a date taken from
the clock instead of the build's day shows up.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Date, DateTime, delete, func, select
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.alerts.models import Alert
from lianfang.areas.choices import AreaLevel
from lianfang.areas.models import Area
from lianfang.auth import service as auth
from lianfang.auth.choices import Role
from lianfang.auth.models import User
from lianfang.auth.scope import SYSTEM
from lianfang.briefing import read
from lianfang.db import models
from lianfang.db.base import Base
from lianfang.db.engine import make_engine, make_sessionmaker, transaction
from lianfang.db.migrate import upgrade
from lianfang.demo import directives, story, world
from lianfang.demo import duty as demo_duty
from lianfang.demo import service as demo_service
from lianfang.demo.population import is_community
from lianfang.duty import service as duty_service
from lianfang.duty.choices import DutyRole, Shift
from lianfang.duty.models import DutyHandover, DutyShift
from lianfang.people import coverage
from lianfang.people.choices import Guarantee
from lianfang.people.models import Person, Responsible
from tests.factories import make_user

DAY = date(2022, 12, 28)  # not story.TODAY, the day the tests' clock is pinned to
SEED = 7
CITY = "320600000000"
MIN_FOLLOWED = 80  # towns with fewer red and yellow people are left out of the spread

# Columns that are not dates of the world's story: the machine's record of what the system did
# (timeutil.utcnow), and deadlines, which lie ahead by nature.
MACHINE_CLOCK = {
    ("area", "updated_at"), ("area_population", "updated_at"), ("area_boundary", "updated_at"),
    ("app_user", "created_at"), ("user_session", "created_at"), ("api_token", "created_at"),
    ("audit_event", "at"), ("demo_world", "built_at"), ("forecast_run", "created_at"),
    ("forecast_run", "started_at"), ("forecast_run", "finished_at"),
    ("import_report", "created_at"), ("export_job", "created_at"), ("export_job", "finished_at"),
    ("reserve_target", "updated_at"),
}  # fmt: skip
DEADLINES = {
    ("person", "due_on"), ("coverage_cell", "due_on"), ("user_session", "expires_at"),
    ("api_token", "expires_at"), ("api_token", "revoked_at"), ("export_job", "expires_at"),
    ("directive", "deadline"), ("task", "deadline"),
    # a duty roster is arranged days ahead (the demo's runs to story.ROSTER_DAYS_AHEAD)
    ("duty_shift", "on_date"), ("duty_shift", "starts_at"), ("duty_shift", "ends_at"),
}  # fmt: skip


@dataclass
class Built:
    session: Session
    report: world.WorldReport
    directives: directives.DirectivesReport
    duty: demo_duty.DutyReport


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('story') / 'demo.db'}")
    upgrade(engine)
    with transaction(make_sessionmaker(engine)) as session:
        report = world.build(session=session, actor=SYSTEM, seed=SEED, scale="demo", today=DAY)
        commander = make_user(session, username="commander", role=Role.city_commander,
                              area_code=CITY)  # fmt: skip
        orders = directives.generate(
            session=session, actor=auth.actor_for(commander), seed=SEED, prefix="3206", today=DAY
        )
        rosters = demo_duty.generate(
            session=session, actor=auth.actor_for(commander), seed=SEED, prefix="3206", today=DAY
        )
    with Session(engine) as session:
        yield Built(session, report, orders, rosters)
    engine.dispose()


def _story_columns() -> list[tuple[str, str]]:
    assert models.__name__  # every table is registered with the metadata
    return [
        (table.name, column.name)
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if isinstance(getattr(column.type, "impl", column.type), Date | DateTime)
        and (table.name, column.name) not in MACHINE_CLOCK | DEADLINES
    ]


def test_no_stored_date_lies_after_the_demos_day(built: Built) -> None:
    end = timeutil.start_of(DAY + timedelta(days=1))
    checked = 0
    for table_name, column_name in _story_columns():
        column = Base.metadata.tables[table_name].c[column_name]
        latest = built.session.scalar(select(func.max(column)))
        if latest is None:
            continue
        checked += 1
        if isinstance(latest, datetime):
            assert latest < end, (table_name, column_name, latest)
        else:
            assert latest <= DAY, (table_name, column_name, latest)
    assert checked >= 12  # people, responsibles, follow-ups and alerts all hold dates
    build = demo_service.latest(session=built.session)
    assert build is not None
    assert build.today == DAY


def test_follow_ups_kits_and_alerts_lie_in_the_days_before_it(built: Built) -> None:
    start = timeutil.start_of(DAY)
    assert built.session.scalar(select(func.max(Person.last_contact_at))) < start
    assert built.session.scalar(select(func.max(Person.kit_on))) < DAY
    assert built.session.scalar(select(func.max(Alert.opened_at))) < start
    first = built.session.scalar(select(func.min(Person.last_contact_at)))
    assert first is not None
    assert first >= start - timedelta(days=15)


def test_the_share_overdue_is_what_the_generator_intended(built: Built) -> None:
    key = built.report.people
    total, _ = coverage.summary(session=built.session, actor=SYSTEM, code=CITY, today=DAY)
    assert total.overdue == key.overdue  # exactly the people the generator made overdue
    spread = math.sqrt(key.overdue_expected)
    assert abs(key.overdue - key.overdue_expected) < 4 * spread + 5  # as story.overdue says
    assert 0.2 < key.overdue / key.followed_up < 0.5
    later, _ = coverage.summary(
        session=built.session, actor=SYSTEM, code=CITY, today=DAY + timedelta(days=2)
    )
    assert later.overdue > total.overdue  # a day that does not come brings more due


def _towns(session: Session, county: str) -> list[coverage.Counts]:
    _, towns = coverage.summary(session=session, actor=SYSTEM, code=county, today=DAY)
    return [t for t in towns if t.followed >= MIN_FOLLOWED]


def test_towns_of_every_county_differ_by_20_points_on_each_guarantee(built: Built) -> None:
    counties = built.session.scalars(
        select(Area.code).where(Area.level == AreaLevel.county, Area.code.startswith("3206"))
    ).all()
    assert len(counties) == 8
    for county in counties:
        towns = _towns(built.session, county)
        assert len(towns) >= 3, county
        for guarantee in Guarantee:
            shares = [t.share(guarantee) or 0.0 for t in towns]
            assert max(shares) - min(shares) >= 0.20, (county, guarantee, shares)


def test_the_towns_behind_are_below_40_percent_on_medicine_and_check_ins(built: Built) -> None:
    assert len(story.BEHIND) >= 3
    for town in story.BEHIND:
        total, _ = coverage.summary(session=built.session, actor=SYSTEM, code=town, today=DAY)
        assert total.followed >= MIN_FOLLOWED
        for guarantee in (Guarantee.medicine, Guarantee.checked_on):
            share = total.share(guarantee)
            assert share is not None
            assert share < 0.40, (town, guarantee, share)
    city, _ = coverage.summary(session=built.session, actor=SYSTEM, code=CITY, today=DAY)
    assert (city.share(Guarantee.medicine) or 0) > 0.55  # the rest of the city is not


def test_villages_without_anyone_in_charge_gather_where_staff_are_thin(built: Built) -> None:
    staffed = set(built.session.scalars(select(Responsible.area_code).distinct()))
    villages = built.session.scalars(
        select(Person.area_code).distinct().where(Person.area_code.startswith("3206"))
    ).all()
    empty: dict[bool, list[bool]] = defaultdict(list)
    for village in villages:
        empty[village[:9] + "000" in story.BEHIND].append(village not in staffed)
    behind, elsewhere = (sum(empty[k]) / len(empty[k]) for k in (True, False))
    assert sum(empty[False]) > 0  # some villages elsewhere have nobody too
    assert behind > 0.25
    assert behind > 3 * elsewhere


def test_referral_alerts_gather_where_the_epidemic_is_ahead(built: Built) -> None:
    names = dict(
        built.session.execute(
            select(Area.code, Area.name).where(Area.level == AreaLevel.village)
        ).all()
    )
    people: dict[bool, int] = defaultdict(int)
    for code, n in built.session.execute(
        select(Person.area_code, func.count()).group_by(Person.area_code)
    ):
        people[is_community(names[code])] += n
    alerts: dict[bool, int] = defaultdict(int)
    for code, n in built.session.execute(
        select(Alert.area_code, func.count()).group_by(Alert.area_code)
    ):
        alerts[is_community(names[code])] += n
    urban, rural = (alerts[k] / people[k] for k in (True, False))
    assert alerts[False] > 0
    assert urban > 3 * rural


def test_remote_and_coastal_villages_are_farther_from_a_capable_hospital(built: Built) -> None:
    villages = coverage.villages(
        session=built.session, actor=SYSTEM, code="320623000000", today=DAY
    )
    remote = _remoteness(built.session, "320623")

    def share(group: list[coverage.Counts]) -> float:
        assert group
        return sum(v.covered[Guarantee.treatment] for v in group) / sum(v.followed for v in group)

    near = [v for v in villages if remote[v.code] < 0.4]
    far = [v for v in villages if remote[v.code] >= 0.7]
    assert share(near) - share(far) >= 0.15
    city = coverage.villages(session=built.session, actor=SYSTEM, code=CITY, today=DAY)
    coastal = [v for v in city if v.code[:9] + "000" in story.COASTAL]
    inland = [v for v in city if v.code[:9] + "000" not in story.COASTAL]
    assert share(inland) - share(coastal) >= 0.08


def _remoteness(session: Session, county: str) -> dict[str, float]:
    """Each village's remoteness as the story defines it, from the stored coordinates."""
    places = {
        code: (lon, lat)
        for code, lon, lat in session.execute(
            select(Area.code, Area.lon, Area.lat).where(Area.code.startswith(county))
        )
    }
    towns = [c for c in places if c.endswith("000") and not c.endswith("000000")]
    seat = story.seat_of(county + "000000", towns)
    assert seat is not None
    villages = {c: p for c, p in places.items() if not c.endswith("000")}
    return story.remoteness(villages, places[seat])


def test_docs_tell_the_story_the_generator_reads() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "demo.md").read_text(encoding="utf-8")
    assert f"**{story.TODAY}**" in text
    for town in story.TOWNS:
        short = town.name.removeprefix(town.name[:3])  # 如东县洋口镇 → 洋口镇
        assert town.name in text or short.removesuffix("镇") in text, town.name
        if town.behind:
            assert f"| {town.name} |" in text, town.name
            assert town.en in text, town.name


def test_behind_towns_centres_are_short_of_antivirals_and_the_seat_is_not(built: Built) -> None:
    from lianfang.resources import reserve

    def short_centres(area: str) -> tuple[int, int]:
        rows = [
            r for r in reserve.reserve(session=built.session, actor=SYSTEM, area_code=area).rows
            if r.item.code == "azvudine" and r.facility.type.primary and r.target
        ]  # fmt: skip
        return sum(r.shortfall > 0 for r in rows), len(rows)

    for town in sorted(story.BEHIND):
        short, centres = short_centres(town)
        assert short == centres == 1, town
    assert short_centres("320623001")[0] == 0  # 掘港街道, the county seat


def test_directives_hold_tasks_in_every_state_each_with_an_owner(built: Built) -> None:
    from lianfang.dispatch.choices import TaskStatus
    from lianfang.dispatch.models import Directive, Task

    s = built.session
    assert s.scalar(select(func.count()).select_from(Directive)) == len(story.DIRECTIVES)
    leaves = s.execute(select(Task.status, Task.owner_id, Task.escalated_at).where(Task.leaf)).all()
    assert {status for status, _o, _e in leaves} == {
        TaskStatus.new, TaskStatus.accepted, TaskStatus.in_progress, TaskStatus.done,
        TaskStatus.verified, TaskStatus.rejected,
    }  # fmt: skip
    assert all(owner is not None for _s, owner, _e in leaves)
    escalated = [e for _s, _o, e in leaves if e is not None]
    assert len(escalated) == built.directives.escalated > 0
    linked = s.scalar(select(func.count()).select_from(Responsible).where(
        Responsible.user_id.is_not(None)))  # fmt: skip
    assert linked
    assert linked >= built.report.villages * 0.8  # village doctors own their tasks


def test_towns_behind_are_behind_on_the_village_directive_too(built: Built) -> None:
    from lianfang.dispatch import rollup
    from lianfang.dispatch.models import Directive

    commander = auth.actor_for(
        built.session.scalars(select(User).where(User.username == "commander")).one()
    )
    village_level = next(p for p in story.DIRECTIVES if p.to_level == "village")
    directive = built.session.scalars(
        select(Directive).where(Directive.title == village_level.title)
    ).one()
    done: dict[bool, list[float]] = {True: [], False: []}
    for county in {code[:6] for code in story.BEHIND}:
        tree = rollup.rollup(session=built.session, actor=commander, directive_id=directive.id,
                             area=county)  # fmt: skip
        for row in tree.rows:
            done[row.area_code in story.BEHIND].append(row.counts.done / row.counts.total)
    behind, others = done[True], done[False]
    assert sum(behind) / len(behind) < sum(others) / len(others) - 0.15


def _roster(session: Session) -> list[tuple[object, ...]]:
    return list(session.execute(
        select(DutyShift.area_code, DutyShift.on_date, DutyShift.shift, DutyShift.role,
               DutyShift.name, DutyShift.phone, DutyShift.user_id)
        .order_by(DutyShift.area_code, DutyShift.starts_at, DutyShift.role, DutyShift.name)
    ).all())  # fmt: skip


def test_every_area_keeps_a_week_of_rosters_by_the_two_rules(built: Built) -> None:
    session = built.session
    areas = session.scalars(
        select(Area.code).where(Area.level.in_((AreaLevel.city, AreaLevel.county,
                                                AreaLevel.town)))
    ).all()  # fmt: skip
    rows = _roster(session)
    days = {DAY + timedelta(days=d) for d in range(-1, 6)}
    assert {r[1] for r in rows} == days
    assert {r[0] for r in rows} == set(areas)
    assert built.duty.areas == len(areas)
    assert built.duty.shifts == len(rows)
    slots: dict[tuple[object, ...], list[tuple[object, ...]]] = defaultdict(list)
    for r in rows:
        slots[r[:3]].append(r)
    # every area's day and night of every day has one leader and one or two staff, except the
    # towns behind tonight
    missing = {(a, d, s) for a in areas for d in days for s in (Shift.day, Shift.night)} - set(
        slots
    )
    assert missing == {(code, DAY, Shift.night) for code in story.BEHIND}
    for found in slots.values():
        roles = sorted(r[3] for r in found)
        assert roles.count(DutyRole.leader) == 1
        assert 1 <= roles.count(DutyRole.staff) <= 2
    # nobody twice at once: each person (account, else phone) on one area's roster, one shift
    # of a slot, never two slots that overlap (a day and a night never do)
    for found in slots.values():
        people = [r[6] or r[5] for r in found]
        assert len(people) == len(set(people))
    where: dict[object, set[object]] = defaultdict(set)
    for r in rows:
        where[r[6] or r[5]].add(r[0])
    assert all(len(places) == 1 for places in where.values())
    assert all(r[5] or r[6] for r in rows)  # a phone, or an account to reach in the application


def test_the_demo_accounts_are_on_duty_tonight_and_alerts_reach_them(built: Built) -> None:
    session = built.session
    commander = session.scalar(select(User.id).where(User.username == "commander"))
    at = duty_service.tonight_at(DAY)
    assert duty_service.user_ids_on_duty(session, CITY, at) == [commander]
    town = session.scalar(select(Area.code).where(Area.level == AreaLevel.town,
                                                  Area.code.not_in(story.BEHIND)))  # fmt: skip
    village = session.scalar(select(Area.code).where(Area.parent_code == town))
    staff = session.scalar(select(User.id).where(User.username == f"demo-{town}"))
    assert staff in duty_service.user_ids_on_duty(session, str(village), at)
    assert built.duty.accounts >= 100  # the commander and the staff accounts of the towns
    notes = session.scalars(select(DutyHandover.text)).all()
    assert len(notes) == built.duty.handovers == 2 * 9  # the city and its 8 counties
    assert set(notes) <= set(story.ROSTER_HANDOVERS)


def test_tonights_duty_list_names_the_towns_behind_as_uncovered(built: Built) -> None:
    before = timeutil.use(timeutil.Clock(DAY, "demo"))
    try:
        found = read.briefing(session=built.session, actor=SYSTEM, code="320623")
    finally:
        timeutil.use(before)
    assert found.duty is not None
    uncovered = {d.code for d in found.duty if not d.covered}
    assert uncovered == {c for c in story.BEHIND if c.startswith("320623")}  # 洋口镇
    built.session.rollback()  # the reading stored the day's figures


def test_the_rosters_are_the_same_for_the_same_seed(built: Built) -> None:
    session = built.session
    before = _roster(session)
    with session.begin_nested() as again:
        session.execute(delete(DutyHandover))
        session.execute(delete(DutyShift))
        demo_duty.generate(session=session, actor=SYSTEM, seed=SEED, prefix="3206", today=DAY)
        assert _roster(session) == before
        again.rollback()
    session.rollback()
