"""Synthetic key population for the demo villages: who, with which conditions and vaccination,
who is in charge, which kit and hospital, and the follow-ups of the two weeks before today.

Everything here is invented (names, ID numbers, phones, hospitals); the demo world's record says
so on every page. Grades and guarantee flags are not set here: every person goes through
``records.derive``, the same rules an import applies. At ``demo`` scale a sample of about 5% is
drawn; at ``city`` scale every resident aged 65+ of the villages' age bands is a key person.
How well each town and village is covered follows the story in ``demo.story`` (docs/demo.md).
Every date written lies on or before ``today`` (the due date of the next check-in aside).
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.areas import codes
from lianfang.areas.choices import AreaLevel
from lianfang.areas.models import Area, AreaPopulation
from lianfang.auth.scope import Actor
from lianfang.db.base import join_choices
from lianfang.db.bulk import insert_columns
from lianfang.demo import contacts, story
from lianfang.demo.population import is_community
from lianfang.people import coverage, grading, guarantees, hospitals, identity, records
from lianfang.people.choices import (
    Condition,
    DiseaseState,
    Grade,
    Living,
    ResponsibleKind,
    TrackedGroup,
)  # fmt: skip
from lianfang.people.models import (
    Person,
    Responsible,
    encode_conditions,
)  # fmt: skip
from lianfang.resources.models import Facility

SHARE = {"demo": 0.05, "city": 1.0}
"""The share of each cohort generated: demo ≈ 100k people for Nantong, city = everyone 65+."""
BATCH = 150  # villages written at a time (bounds memory at city scale)
HISTORY_DAYS = 14
REGISTERED_DAYS_AGO = 20
REGISTERED_HOUR = 9  # registrations were entered in the morning, local time
LAST_CAMPAIGN_DAY = date(2022, 12, 10)

ELDERLY_PREVALENCE = {
    # China Hypertension Survey 2012–15 (Wang Z et al., Circulation 2018): ≈ 55–60% of 65+.
    Condition.hypertension: 0.57,
    # Li Y et al., BMJ 2020;369:m997 (2018 diagnostic criteria): ≈ 20–25% of 60+ (ADA: 30%).
    Condition.diabetes: 0.23,
    # China Cardiovascular Health and Disease Report 2021: coronary disease ≈ 10% of 65+.
    Condition.coronary: 0.10,
    # NESS-China (Wang W et al., Circulation 2017): stroke survivors ≈ 5–7% of 65+.
    Condition.stroke: 0.06,
    # China Pulmonary Health study (Wang C et al., Lancet 2018): 13.7% of adults 40+
    # (27% of 60+ by spirometry, mostly undiagnosed); a register holds the diagnosed: 13.7%.
    Condition.copd: 0.137,
    # Zhang L et al., Lancet 2012 (national CKD survey): 10.8% of adults, higher when older.
    Condition.kidney: 0.10,
    # Cancer under treatment: NCC China 2022 incidence ≈ 1.5% a year among 65+; 1.5% assumed.
    Condition.cancer: 0.015,
    Condition.immune: 0.005,  # assumed (transplant, immunosuppressants)
    # Second National Sample Survey on Disability 2006: 6.3% of all residents, over half 60+.
    Condition.disability: 0.09,
}
UNSTABLE = 0.15
"""Share of a condition that is not under control (assumed; raises the grade of 65–79)."""

VACCINATION = {
    # P(0 doses), P(1–2 doses), P(3+ doses). NHC press conferences 29 Nov and 9 Dec 2022: 60+
    # 86.4% at least one dose, 68.7% booster; 80+ 65.8% at least one dose, ≈ 40% booster.
    # 65–79 is set so that 65+ together give ≈ 86% / 68%.
    "65–79": (0.09, 0.19, 0.72),
    "80+": (0.34, 0.26, 0.40),
    # Adults: ≈ 90% primary series, ≈ 75% booster by late 2022 (NHC, whole population).
    "adult": (0.08, 0.17, 0.75),
    # Children 3–11 were offered two doses from Nov 2021; ≈ 85% had them (NHC, 2022).
    "child": (0.15, 0.85, 0.0),
}
LIVING = {
    # Census 2020: ≈ 12% of 60+ live alone; bedridden and nursing-home shares assumed.
    "65–79": {Living.alone: 0.12, Living.bedridden: 0.02, Living.nursing_home: 0.015},
    "80+": {Living.alone: 0.18, Living.bedridden: 0.07, Living.nursing_home: 0.05},
}


@dataclass(frozen=True)
class Cohort:
    """Key people drawn from one age-band column at a rate, with an age range."""

    name: str
    bands: tuple[str, ...]
    rate: float
    ages: tuple[int, int]
    slope: float  # age weight exp(slope * (age - low))


COHORTS = (
    Cohort("65–79", ("age_65_79",), 1.0, (65, 79), -0.06),
    Cohort("80+", ("age_80_plus",), 1.0, (80, 99), -0.16),
    Cohort("chronic", ("age_15_59", "age_60_64"), 0.03, (35, 64), 0.06),  # unstable, under 65
    Cohort("pregnant", ("age_15_59",), 0.007, (22, 40), -0.03),  # ≈ births × 0.75 (Nantong)
    Cohort("arrival", ("age_15_59",), 0.004, (20, 55), 0.0),  # arrivals from abroad
    Cohort("child", ("age_0_14",), 0.02, (3, 14), 0.0),  # left-behind children
)

YOUNGER_CONDITIONS = (Condition.hypertension, Condition.diabetes, Condition.kidney,
                      Condition.cancer, Condition.immune)  # fmt: skip
SURNAMES = tuple("陈张王顾朱徐陆季曹施周黄吴杨刘钱沈孙李葛冒缪范邵丁蔡姜袁许宋瞿仇石陶秦钱汤")
GIVEN = {
    True: tuple("建国明华强军德福志勇海林春生荣祥宝根永金兴忠平贵友才山"),
    False: tuple("秀英兰芳桂珍凤玉梅红霞花琴娟菊萍丽云芬美翠玲燕娣素敏"),
}


@dataclass
class PeopleReport:
    """What the demo put in the registry."""

    persons: int = 0
    responsibles: int = 0
    follow_ups: int = 0
    alerts: int = 0
    overdue: int = 0  # people the generator made overdue for a check-in today
    overdue_expected: float = 0.0  # the sum of their probabilities (story.overdue)
    followed_up: int = 0  # people due for check-ins (red, yellow, green who opted in)
    by_cohort: dict[str, int] = field(default_factory=lambda: defaultdict(int))


@dataclass
class Village:
    """A village with its age bands, town and county names (for addresses and hospitals), and
    its place in the story: its town's weakness and its own remoteness (``demo.story``)."""

    code: str
    name: str
    town: str
    county: str
    bands: dict[str, int]
    weakness: float = 0.0
    remoteness: float = 0.0


def generate(
    *, session: Session, actor: Actor, seed: int, share: float, prefix: str, today: date | None
) -> PeopleReport:
    """Generate the key population of every village under ``prefix`` that has age bands.

    Writes nothing when the area already holds people (the registry is never overwritten)."""
    report = PeopleReport()
    where = codes.in_subtree(Person.area_code, prefix)
    if session.scalar(select(func.count()).select_from(Person).where(where)):
        return report
    day = today or timeutil.today()
    villages = _villages(session, prefix, seed)
    ids = IdMaker(random.Random(f"{seed}-ids"))
    places = _designated(session)
    for start in range(0, len(villages), BATCH):
        batch = villages[start : start + BATCH]
        Batch(session, actor, seed, start, day, ids, report, places).run(batch, share)
    coverage.refresh(session=session, villages=[v.code for v in villages])
    return report


CENTRAL = "320613000000"  # 崇川区: the city's hospitals, no county hospital of its own
CITY_HOSPITAL = {"人民医院": "H3-2", "中医院": "H3-3"}


def _designated(session: Session) -> tuple[dict[str, int], dict[int, guarantees.Hospital]]:
    """The register's hospitals and health centres (by code), built by ``demo.resources``
    before the people, and what 有医治 reads of each."""
    rows = session.scalars(select(Facility).where(Facility.type.in_(hospitals.DESIGNATED_TYPES)))
    places = list(rows)
    return {p.code: p.id for p in places}, {p.id: hospitals.hospital_of(p) for p in places}


def _villages(session: Session, prefix: str, seed: int) -> list[Village]:
    names: dict[str, str] = {}
    located: dict[str, tuple[float, float]] = {}  # towns and counties with coordinates
    for code, name, lon, lat in session.execute(
        select(Area.code, Area.name, Area.lon, Area.lat).where(
            codes.in_subtree(Area.code, prefix), Area.level != AreaLevel.village
        )
    ):
        names[code] = name
        if lon is not None and lat is not None:
            located[code] = (lon, lat)
    rows = session.execute(
        select(Area.code, Area.name, Area.lon, Area.lat, AreaPopulation)
        .join(AreaPopulation, AreaPopulation.area_code == Area.code)
        .where(codes.in_subtree(Area.code, prefix))
        .order_by(Area.code)
    ).all()
    villages = [
        Village(code, village, names.get(code[:9] + "000", ""), names.get(code[:6] + "000000", ""),
                {b: getattr(p, b) for c in COHORTS for b in c.bands})
        for code, village, _lon, _lat, p in rows
    ]  # fmt: skip
    points = {
        code: (lon, lat) for code, _n, lon, lat, _p in rows if lon is not None and lat is not None
    }
    _place_in_story(villages, points, located, seed)
    return villages


def _place_in_story(
    villages: list[Village],
    points: dict[str, tuple[float, float]],
    located: dict[str, tuple[float, float]],
    seed: int,
) -> None:
    """Give each village its town's weakness and its own remoteness, county by county."""
    by_county: dict[str, list[Village]] = defaultdict(list)
    for village in villages:
        by_county[village.code[:6] + "000000"].append(village)
    for county, members in by_county.items():
        placed = {v.code: points[v.code] for v in members if v.code in points}
        towns = sorted({v.code[:9] + "000" for v in members} & located.keys())
        seat = story.seat_of(county, towns)
        if seat is None or not placed:
            continue  # no coordinates: every village keeps weakness 0 and remoteness 0
        rng = random.Random(f"{seed}-story-{county}")
        where = {town: located[town] for town in towns}
        weakness = story.weaknesses(where, seat, [rng.uniform(-1, 1) for _ in towns])
        remote = story.remoteness(placed, located[seat])
        for village in members:
            village.weakness = weakness.get(village.code[:9] + "000", 0.0)
            village.remoteness = remote.get(village.code, 0.0)


class IdMaker:
    """Valid, unique, invented resident ID numbers: county region code, birth date, a sequence
    number whose parity is the sex, the GB 11643 check digit."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.next: dict[tuple[str, date, int], int] = {}

    def make(self, region: str, born: date, male: bool) -> str:
        key = (region, born, int(male))
        seq = self.next.get(key)
        if seq is None:
            seq = self.rng.randrange(150) * 2 + int(male)
        if seq > 999:
            raise ValueError(f"no sequence numbers left for {key}")
        self.next[key] = seq + 2
        first17 = f"{region}{born:%Y%m%d}{seq:03d}"
        return first17 + identity.check_digit(first17)


def birth_date(age: int, offset: int, today: date) -> date:
    """A birth date giving ``age`` whole years today: ``offset`` (0–364) days before the
    latest birthday that does."""
    try:
        latest = today.replace(year=today.year - age)
    except ValueError:  # 29 February
        latest = today.replace(year=today.year - age, day=28)
    return latest - timedelta(days=offset)


def _ages(rng: random.Random, cohort: Cohort, n: int) -> list[int]:
    low, high = cohort.ages
    span = range(low, high + 1)
    return rng.choices(span, weights=[math.exp(cohort.slope * (a - low)) for a in span], k=n)


def _pick(rng: random.Random, options: dict[Any, float], default: Any) -> Any:
    keys = [*options, default]
    return rng.choices(keys, weights=[*options.values(), 1.0 - sum(options.values())])[0]


class Batch:
    """Generates and writes the people of a batch of villages."""

    def __init__(
        self, session: Session, actor: Actor, seed: int, start: int, today: date,
        ids: IdMaker, report: PeopleReport,
        designated: tuple[dict[str, int], dict[int, guarantees.Hospital]] = ({}, {}),
    ) -> None:  # fmt: skip
        self.session, self.actor, self.today = session, actor, today
        self.rng = random.Random(f"{seed}-{start}")
        self.ids, self.report = ids, report
        self.contact_rng = np.random.default_rng([seed, 14, start])
        self.registered = today - timedelta(days=REGISTERED_DAYS_AGO)
        # the registry was entered on the day of registration, not when the demo was built
        self.now = timeutil.start_of(self.registered) + timedelta(hours=REGISTERED_HOUR)
        self.last_dose_by = min(LAST_CAMPAIGN_DAY, today - timedelta(days=1))
        self.designated, self.hospitals = designated

    def run(self, villages: list[Village], share: float) -> None:
        rows: list[dict[str, Any]] = []
        staff = self._responsibles(villages)
        for village in villages:
            for cohort in COHORTS:
                base = sum(village.bands[b] for b in cohort.bands) * cohort.rate * share
                n = int(base + self.rng.random())  # stochastic rounding: exact when share = 1
                if n:
                    rows += self._people(village, cohort, n, staff[village.code])
                    self.report.by_cohort[cohort.name] += n
        intervals = [self._guarantees(row) for row in rows]
        late = [self._overdue(row, every) for row, every in zip(rows, intervals, strict=True)]
        ahead = [story.EPIDEMIC_AHEAD[is_community(row["_village"].name)] for row in rows]
        history = contacts.simulate(self.contact_rng, intervals, late, ahead, self.today)
        for row, last in zip(rows, history.last, strict=True):
            self._derive(row, last)
        self._write(rows, history)

    def _responsibles(self, villages: list[Village]) -> dict[str, list[int]]:
        columns: dict[str, list[Any]] = defaultdict(list)
        for village in villages:
            if self.rng.random() < story.no_staff(village.weakness):
                continue  # nobody in charge in this village (story: thin staff)
            grid = 1 + int(self.rng.random() < 1.0 - village.weakness)
            kinds = [ResponsibleKind.village_doctor] + [ResponsibleKind.grid_worker] * grid
            for kind in kinds:
                male = bool(self.rng.random() < 0.5)
                for key, value in (("area_code", village.code), ("name", self._name(male, 2)),
                                   ("kind", str(kind)), ("phone", self._mobile()),
                                   ("created_at", self.now)):  # fmt: skip
                    columns[key].append(value)
        self.report.responsibles += insert_columns(self.session, Responsible.__table__, columns)  # type: ignore[arg-type]
        staff: dict[str, list[int]] = defaultdict(list)
        chunk = [v.code for v in villages]
        for rid, area in self.session.execute(
            select(Responsible.id, Responsible.area_code).where(Responsible.area_code.in_(chunk))
        ):
            staff[area].append(rid)
        return staff

    def _name(self, male: bool, given: int | None = None) -> str:
        size = given or (1 if self.rng.random() < 0.3 else 2)
        pool = GIVEN[male]
        return self.rng.choice(SURNAMES) + "".join(self.rng.choices(pool, k=size))

    def _mobile(self) -> str:
        prefix = self.rng.choice(("13", "15", "18", "17", "19"))
        return f"{prefix}{self.rng.randrange(10**9):09d}"

    def _phone(self, cohort: Cohort) -> str:
        draw = self.rng.random()
        if cohort.name in ("65–79", "80+") and draw < 0.10:
            return ""  # no phone of their own; reached through family or a visit
        if cohort.name in ("65–79", "80+") and draw < 0.25:
            return f"0513-8{self.rng.randrange(10**7):07d}"  # Nantong landline
        return self._mobile()

    def _people(
        self, village: Village, cohort: Cohort, n: int, staff: list[int]
    ) -> list[dict[str, Any]]:
        rng = self.rng
        ages = _ages(rng, cohort, n)
        out = []
        for age in ages:
            born = birth_date(age, rng.randrange(365), self.today)
            male = cohort.name != "pregnant" and rng.random() < 0.46
            row: dict[str, Any] = {
                "id_number": self.ids.make(village.code[:6], born, bool(male)),
                "name": self._name(bool(male))
                if cohort.name != "child"
                else self._name(bool(male), 2),
                "phone": self._phone(cohort) if cohort.name != "child" else "",
                "area_code": village.code,
                "address": f"{village.county}{village.town}{village.name}"
                f"{rng.randrange(1, 16)}组{rng.randrange(1, 80)}号",
                "arrived_on": None,
                "groups": frozenset(),
                "_cohort": cohort.name,
                "_staff": staff,
                "_village": village,
            }
            row |= self._health(cohort, born)
            out.append(row)
        return out

    def _health(self, cohort: Cohort, born: date) -> dict[str, Any]:
        rng, name = self.rng, cohort.name
        conditions: dict[Condition, DiseaseState] = {}
        living, groups, arrived = Living.with_family, set(), None
        if name in ("65–79", "80+"):
            for condition, p in ELDERLY_PREVALENCE.items():
                if rng.random() < p:
                    conditions[condition] = _state(rng, UNSTABLE)
            living = _pick(rng, LIVING[name], Living.with_family)
            groups |= {g for g, p in ((TrackedGroup.low_income, 0.04), (TrackedGroup.veteran, 0.03),
                       (TrackedGroup.party_member_hardship, 0.01)) if rng.random() < p}  # fmt: skip
        elif name == "chronic":
            picked = rng.choices(YOUNGER_CONDITIONS, weights=[35, 30, 15, 12, 8], k=2)
            conditions = {c: _state(rng, 0.5) for c in picked[: rng.randrange(1, 3)]}
        elif name == "pregnant":
            conditions = {Condition.pregnancy: _state(rng, 0.10)}  # high-risk pregnancies
        elif name == "arrival":
            arrived = self.today - timedelta(days=rng.randrange(1, HISTORY_DAYS + 1))
        else:
            groups.add(TrackedGroup.left_behind_child)
        vaccine = VACCINATION.get(name, VACCINATION["child" if name == "child" else "adult"])
        kind = rng.choices((0, 1, 2), weights=vaccine)[0]
        doses = (0, rng.randrange(1, 3), 3 + int(rng.random() < 0.05))[kind]
        last = None
        if born > LAST_CAMPAIGN_DAY - timedelta(days=365 * 3):
            doses = 0  # too young for the 2021–22 campaign (from age 3)
        if doses:
            earliest = max(date(2021, 3, 1), born).toordinal()
            last = date.fromordinal(rng.randrange(earliest, self.last_dose_by.toordinal()))
        return {"conditions": conditions, "living": living, "groups": frozenset(groups),
                "arrived_on": arrived, "vaccine_doses": doses, "last_dose_on": last,
                "followup_opt_in": bool(rng.random() < 0.08)}  # fmt: skip

    def _rule_grade(self, row: dict[str, Any]) -> Grade:
        born = identity.birth_date(row["id_number"])
        assert born is not None
        band = grading.age_band(identity.age_on(born, self.today))
        disease = records.disease_of(row["conditions"])
        vaccination = grading.vaccination_of(row["vaccine_doses"])
        return grading.TABLE[grading.table_index_of(band, disease, vaccination)].grade

    def _guarantees(self, row: dict[str, Any]) -> int:
        """Responsible, kit and hospital, decided on the rule grade (derive confirms it later);
        returns the days between check-ins (0: not followed up)."""
        grade = row["_grade"] = self._rule_grade(row)
        rng, village = self.rng, row["_village"]
        followed = grade is not Grade.green
        staff = row.pop("_staff")
        assigned = rng.random() < (story.assigned(village.weakness) if followed else 0.25)
        row["responsible_id"] = rng.choice(staff) if assigned and staff else None
        row["kit_grade"], row["kit_on"] = None, None
        if followed and rng.random() < story.kit(grade.value, village.weakness):
            row["kit_grade"] = (
                Grade.red if grade is Grade.red or rng.random() < 0.2 else Grade.yellow
            )
            row["kit_on"] = self.today - timedelta(days=rng.randrange(1, HISTORY_DAYS + 6))
        row["kit_opening"], row["kit_opening_on"] = row["kit_grade"], row["kit_on"]
        row["hospital_id"] = self._hospital(village, grade)
        interval = {Grade.red: 1, Grade.yellow: 3}.get(grade, 7 if row["followup_opt_in"] else 0)
        return interval

    def _overdue(self, row: dict[str, Any], every: int) -> bool:
        """Whether this person is overdue for a check-in today (story.overdue), counted."""
        if not every:
            return False
        p = story.overdue(row["_village"].weakness, row["responsible_id"] is not None)
        late = self.rng.random() < p
        self.report.followed_up += 1
        self.report.overdue += late
        self.report.overdue_expected += p
        return late

    def _hospital(self, village: Village, grade: Grade) -> int | None:
        """The designated hospital (a facility of the demo's register): the county's people's or
        TCM hospital (in the central district a city hospital), or the town's health centre."""
        rng = self.rng
        if (grade is Grade.green and rng.random() < 0.8) or rng.random() < story.no_hospital(
            village.remoteness
        ):
            return None
        draw = rng.random()
        kind = (
            "卫生院"
            if draw < story.health_centre(village.remoteness)
            else "中医院"
            if draw > 0.8
            else "人民医院"
        )
        county = codes.short(village.code[:6] + "000000")
        if kind == "卫生院":
            code = f"TC-{codes.short(village.code[:9] + '000')}"
        elif village.code[:6] + "000000" == CENTRAL:
            code = CITY_HOSPITAL[kind]
        else:
            code = f"H2-{county}-{'ZY' if kind == '中医院' else 'RM'}"
        return self.designated.get(code)

    def _derive(self, row: dict[str, Any], last: datetime | None) -> None:
        inputs = {k: row[k] for k in records.INPUT_KEYS}
        derived = records.derive(inputs, id_number=row["id_number"], registered_on=self.registered,
                                 last_contact_at=last, override=None, today=self.today,
                                 hospitals=self.hospitals)  # fmt: skip
        assert derived["grade"] is row.pop("_grade"), "the rules changed under the demo"
        row |= derived | {"last_contact_at": last, "registered_on": self.registered}

    def _write(self, rows: list[dict[str, Any]], history: contacts.History) -> None:
        keys = [k for k in rows[0] if not k.startswith("_")] if rows else []
        columns = {k: [r[k] for r in rows] for k in keys}
        columns["conditions"] = list(map(encode_conditions, columns["conditions"]))
        columns["groups"] = [join_choices(v) if v else "" for v in columns["groups"]]
        columns["created_at"] = columns["updated_at"] = [self.now] * len(rows)
        self.report.persons += insert_columns(self.session, Person.__table__, columns)  # type: ignore[arg-type]
        numbers = [r["id_number"] for r in rows]
        found: dict[str, int] = {}
        for start in range(0, len(numbers), 5000):
            chunk = numbers[start : start + 5000]
            query = select(Person.id_number, Person.id).where(Person.id_number.in_(chunk))
            found.update((n, i) for n, i in self.session.execute(query))
        people = [(found[r["id_number"]], r["area_code"]) for r in rows]
        written, alerts = contacts.write(self.session, history, people)
        self.report.follow_ups += written
        self.report.alerts += alerts


def _state(rng: random.Random, unstable: float) -> DiseaseState:
    return DiseaseState.unstable if rng.random() < unstable else DiseaseState.stable
