"""The demo's duty rosters: a week (yesterday to a few days ahead) for the city, its counties
and towns — a leader and one or two staff per area, day and night — drawn from the demo
accounts where they exist and invented people otherwise, deterministic by seed, with a few
handover notes. Inserted in bulk (``db.bulk``); the rules the service enforces (nobody twice at
once, one leader per area and shift) hold by construction and are checked by the tests."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.areas import codes
from lianfang.areas.choices import AreaLevel
from lianfang.areas.models import Area
from lianfang.auth import audit
from lianfang.auth.choices import AuditAction, Role
from lianfang.auth.models import User
from lianfang.auth.scope import Actor
from lianfang.db.bulk import insert_columns
from lianfang.demo import story
from lianfang.demo.people import GIVEN, SURNAMES
from lianfang.duty.choices import DutyRole, Shift
from lianfang.duty.models import DutyHandover, DutyShift
from lianfang.duty.service import window

LEVELS = (AreaLevel.city, AreaLevel.county, AreaLevel.town)
ROLES = (Role.city_commander, Role.district_operator, Role.town_operator)
SHIFTS = (Shift.day, Shift.night)


@dataclass(frozen=True)
class DutyReport:
    """What the demo's rosters hold after a build."""

    shifts: int = 0
    areas: int = 0
    accounts: int = 0  # demo accounts on the rosters
    handovers: int = 0


@dataclass(frozen=True)
class _Person:
    name: str
    phone: str
    user_id: int | None = None


def _pools(
    session: Session, rng: random.Random, areas: list[tuple[str, AreaLevel]]
) -> dict[str, list[_Person]]:
    """Per area, its accounts (most senior first) then invented people with their own phones."""
    accounts: dict[str, list[_Person]] = {code: [] for code, _level in areas}
    for user_id, area_code, name in session.execute(
        select(User.id, User.area_code, User.display_name)
        .where(User.active, User.role.in_(ROLES), User.area_code.in_(list(accounts)))
        .order_by(User.area_code, User.username.like("demo-%"), User.id)
    ):  # fmt: skip
        accounts[str(area_code)].append(_Person(name, "", user_id))
    phones: set[str] = set()
    out = {}
    for code, _level in areas:
        invented: list[_Person] = []
        while len(invented) < story.ROSTER_INVENTED:
            phone = f"139{rng.randrange(10**8):08d}"
            if phone in phones:
                continue
            phones.add(phone)
            male = rng.random() < 0.6
            name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN[male], k=rng.choice((1, 2))))
            invented.append(_Person(name, phone))
        out[code] = accounts[code] + invented
    return out


def generate(*, session: Session, actor: Actor, seed: int, prefix: str, today: date) -> DutyReport:
    """The rosters of the city, its counties and towns around ``today``, and handover notes;
    nothing when the city already has a roster (a rebuild)."""
    city = codes.normalise(prefix)
    if session.scalar(select(DutyShift.id).where(DutyShift.area_code == city).limit(1)):
        return DutyReport()
    areas = [
        (code, level)
        for code, level in session.execute(
            select(Area.code, Area.level)
            .where(codes.in_subtree(Area.code, codes.short(city)), Area.level.in_(LEVELS))
            .order_by(Area.code)
        )
    ]
    rng = random.Random(f"{seed}-duty")
    pools = _pools(session, rng, areas)
    days = [today + timedelta(days=d)
            for d in range(-story.ROSTER_DAYS_BEHIND, story.ROSTER_DAYS_AHEAD + 1)]  # fmt: skip
    tonight = story.ROSTER_DAYS_BEHIND * len(SHIFTS) + SHIFTS.index(Shift.night)
    rows: dict[str, list[object]] = {k: [] for k in (
        "area_code", "on_date", "shift", "starts_at", "ends_at", "role", "leader_key",
        "user_id", "name", "phone", "note", "created_by", "created_at", "updated_at")}  # fmt: skip
    made = timeutil.start_of(today - timedelta(days=story.ROSTER_DAYS_BEHIND + 2))

    def put(code: str, day: date, shift: Shift, role: DutyRole, who: _Person) -> None:
        starts, ends = window(day, shift)
        key = f"{code}:{day.isoformat()}:{shift.value}" if role is DutyRole.leader else None
        values = (code, day, shift.value, starts, ends, role.value, key, who.user_id, who.name,
                  who.phone, "", "demo", made, made)  # fmt: skip
        for column, value in zip(rows, values, strict=True):
            rows[column].append(value)

    on_rosters: set[int] = set()
    for code, _level in areas:
        pool = pools[code]
        leaders, staff = pool[: story.ROSTER_LEADERS], pool[story.ROSTER_LEADERS :]
        slot = 0
        for day in days:
            for shift in SHIFTS:
                offset = slot - tonight
                slot += 1
                if offset == 0 and code in story.BEHIND:
                    continue
                put(code, day, shift, DutyRole.leader, leaders[offset % len(leaders)])
                count = 2 if rng.random() < story.ROSTER_SECOND_STAFF else 1
                for k in range(count):
                    put(code, day, shift, DutyRole.staff, staff[(offset * 2 + k) % len(staff)])
        on_rosters |= {p.user_id for p in pool if p.user_id}
    insert_columns(session, DutyShift.__table__, rows)  # type: ignore[arg-type]
    above = {c: pools[c] for c, lv in areas if lv is not AreaLevel.town}
    notes = _handovers(session, rng, above, today)
    audit.record(
        session=session, actor=actor, action=AuditAction.load, entity_type="duty_shift",
        entity_id="demo", area_code=city,
        detail={"shifts": len(rows["area_code"]), "from": days[0].isoformat(),
                "to": days[-1].isoformat(), "handovers": notes},
    )  # fmt: skip
    return DutyReport(len(rows["area_code"]), len(areas), len(on_rosters), notes)


def _handovers(
    session: Session, rng: random.Random, pools: dict[str, list[_Person]], today: date
) -> int:
    """Yesterday evening's and this morning's handover notes of the city and each county,
    written by one of the area's people."""
    yesterday = today - timedelta(days=1)
    moments = ((yesterday, Shift.day, time(19, 50)), (yesterday, Shift.night, time(7, 50)))
    rows: dict[str, list[object]] = {k: [] for k in (
        "area_code", "on_date", "shift", "text", "written_by_name", "created_at")}  # fmt: skip
    for code, pool in pools.items():
        for day, shift, at in moments:
            when = day if shift is Shift.day else today
            rows["area_code"].append(code)
            rows["on_date"].append(day)
            rows["shift"].append(shift.value)
            rows["text"].append(rng.choice(story.ROSTER_HANDOVERS))
            rows["written_by_name"].append(rng.choice(pool).name)
            rows["created_at"].append(
                datetime.combine(when, at, tzinfo=timeutil.LOCAL_TZ).astimezone(UTC)
            )
    return insert_columns(session, DutyHandover.__table__, rows)  # type: ignore[arg-type]
