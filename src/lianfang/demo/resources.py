"""The demo world's medical resources: facilities by level, their capacity reports, staff,
nursing homes, pairing, and stock with two weeks of use, told by ``demo.story``.

Written column by column (the bulk writer) so a city's ≈2,400 facilities and their ledger build
in seconds; every ledger line is audited as it would be through the service."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.areas import codes
from lianfang.areas.choices import AreaLevel
from lianfang.areas.models import Area
from lianfang.auth import audit
from lianfang.auth.choices import AuditAction
from lianfang.auth.scope import Actor
from lianfang.db.bulk import insert_columns
from lianfang.demo import story
from lianfang.resources import policy
from lianfang.resources.choices import Capability, FacilityType, MovementKind, StaffRole
from lianfang.resources.models import (
    CapacityReport,
    Facility,
    Institution,
    Item,
    Pairing,
    ReserveTarget,
    StaffStrength,
    StockBalance,
    StockMovement,
)
from lianfang.resources.reserve import served_population

ALL = frozenset(Capability)
HOSPITAL = frozenset({Capability.general, Capability.oxygen, Capability.fever_clinic})


@dataclass(frozen=True)
class Plan:
    code: str
    name: str
    type: FacilityType
    area: str
    lon: float
    lat: float
    capabilities: frozenset[Capability] = frozenset()
    hours: str = "08:00-17:30"


@dataclass
class ResourcesReport:
    facilities: int = 0
    movements: int = 0
    capacity_reports: int = 0


def _plans(session: Session, prefix: str, rng: random.Random) -> list[Plan]:
    areas = session.execute(
        select(Area.code, Area.name, Area.level, Area.lon, Area.lat).where(
            codes.in_subtree(Area.code, prefix), Area.lon.is_not(None)
        ).order_by(Area.code)
    ).all()  # fmt: skip
    by_level: dict[AreaLevel, list[tuple[str, str, float, float]]] = defaultdict(list)
    # every row has coordinates (the query asks for them)
    for code, name, level, lon, lat in areas:
        by_level[level].append((code, name, float(lon or 0.0), float(lat or 0.0)))
    towns = {c: (n, lo, la) for c, n, lo, la in by_level[AreaLevel.town]}
    plans: list[Plan] = []
    central = "320613000000"
    for county, name, lon, lat in by_level[AreaLevel.county]:
        seat = story.seat_of(county, [t for t in towns if t.startswith(county[:6])]) or county
        s_lon, s_lat = (towns[seat][1], towns[seat][2]) if seat in towns else (lon, lat)
        short = codes.short(county)
        if county == central:
            for i, hospital in enumerate(story.TERTIARY):
                plans.append(Plan(f"H3-{i + 1}", hospital, FacilityType.tertiary_hospital, seat,
                                  s_lon + 0.01 * i, s_lat - 0.005 * i, ALL, "24h"))  # fmt: skip
        else:
            for tag, kind in (("RM", "人民医院"), ("ZY", "中医院")):
                caps = ALL - {Capability.dialysis} if tag == "ZY" else ALL
                plans.append(Plan(f"H2-{short}-{tag}", f"{name}{kind}",
                                  FacilityType.secondary_hospital, seat, s_lon + 0.008,
                                  s_lat + (0.004 if tag == "RM" else -0.004), caps,
                                  "24h"))  # fmt: skip
        plans.append(Plan(f"NH-{short}", f"{name}社会福利中心", FacilityType.nursing_home, seat,
                          s_lon - 0.01, s_lat + 0.01))  # fmt: skip
        plans.append(Plan(f"WH-{short}", f"{name}医药储备库", FacilityType.warehouse, seat,
                          s_lon + 0.02, s_lat - 0.015))  # fmt: skip
    for code, (name, lon, lat) in towns.items():
        street = name.endswith("街道")
        kind = FacilityType.community_centre if street else FacilityType.township_centre
        suffix = "社区卫生服务中心" if street else "卫生院"
        caps = HOSPITAL | ({Capability.paediatrics} if rng.random() < 0.3 else set())
        plans.append(Plan(f"TC-{codes.short(code)}", f"{name}{suffix}", kind, code, lon, lat,
                          frozenset(caps), "24h"))  # fmt: skip
        for n in range(story.PHARMACIES):
            plans.append(Plan(f"PH-{codes.short(code)}-{n + 1}", f"{name}百姓大药房{n + 1}店",
                              FacilityType.pharmacy, code, lon + rng.uniform(-0.02, 0.02),
                              lat + rng.uniform(-0.02, 0.02), hours="08:00-21:00"))  # fmt: skip
    for code, name, lon, lat in by_level[AreaLevel.village]:
        plans.append(Plan(f"VC-{code}", f"{name}卫生室", FacilityType.village_clinic, code,
                          lon + 0.002, lat + 0.002, frozenset({Capability.general}),
                          "08:00-17:00"))  # fmt: skip
    return plans


def _insert_facilities(session: Session, plans: Sequence[Plan], at: datetime) -> list[Facility]:
    n = len(plans)
    insert_columns(session, Facility.__table__, {  # type: ignore[arg-type]
        "code": [p.code for p in plans], "name": [p.name for p in plans],
        "type": [p.type.value for p in plans], "area_code": [p.area for p in plans],
        "lon": [round(p.lon, 6) for p in plans], "lat": [round(p.lat, 6) for p in plans],
        "address": [""] * n, "hours": [p.hours for p in plans], "phone": [""] * n,
        "capabilities": [",".join(sorted(c.value for c in p.capabilities)) for p in plans],
        "status": ["open"] * n, "created_at": [at] * n, "updated_at": [at] * n,
    })  # fmt: skip
    return list(session.scalars(select(Facility).order_by(Facility.id)))


def generate(
    *, session: Session, actor: Actor, seed: int, prefix: str, today: date
) -> ResourcesReport:
    """Facilities, capacity, staff, institutions, pairing and stock of the city under
    ``prefix``, dated in the days up to ``today``. Writes nothing when facilities exist."""
    report = ResourcesReport()
    if session.scalar(select(Facility.id).limit(1)) is not None:
        return report
    rng = random.Random(f"{seed}-resources")
    morning = timeutil.start_of(today) + timedelta(minutes=5)
    plans = _plans(session, prefix, rng)
    places = _insert_facilities(session, plans, morning - timedelta(days=30))
    report.facilities = len(places)
    weakness = _weakness(session, prefix, seed)
    items = {i.code: i for i in session.scalars(select(Item))}
    _targets(session, actor, prefix, items, morning)
    report.capacity_reports = _capacity(session, places, rng, morning)
    _staff_and_homes(session, places, rng, morning, today)
    report.movements = _stock(session, actor, places, items, weakness, rng, morning)
    return report


def _weakness(session: Session, prefix: str, seed: int) -> dict[str, float]:
    """Each town's weakness, as the people generator draws it (``story.weaknesses``)."""
    towns = session.execute(
        select(Area.code, Area.lon, Area.lat).where(
            codes.in_subtree(Area.code, prefix), Area.level == AreaLevel.town,
            Area.lon.is_not(None),
        )
    ).all()  # fmt: skip
    by_county: dict[str, dict[str, tuple[float, float]]] = defaultdict(dict)
    for code, lon, lat in towns:
        by_county[code[:6].ljust(12, "0")][code] = (float(lon or 0.0), float(lat or 0.0))
    out: dict[str, float] = {}
    for county, points in by_county.items():
        seat = story.seat_of(county, points) or min(points)
        jitter = [random.Random(f"{seed}-{c}").uniform(-1, 1) for c in sorted(points)]
        out.update(story.weaknesses(points, seat, jitter))
    return out


def _targets(
    session: Session, actor: Actor, prefix: str, items: dict[str, Item], at: datetime
) -> None:
    city = prefix.ljust(12, "0")
    for code, units in story.ANTIVIRAL_TARGET.items():
        row = ReserveTarget(
            area_code=city, item_id=items[code].id, facility_type=FacilityType.township_centre,
            per_facility=units, username=actor.username,
        )  # fmt: skip
        session.add(row)
    session.flush()


def _capacity(
    session: Session, places: Sequence[Facility], rng: random.Random, morning: datetime
) -> int:
    hospitals = [p for p in places if p.type.hospital]
    behind = [p for p in hospitals if p.area_code[:9] + "000" in story.BEHIND]
    stale = {p.id for p in (behind + hospitals)[: story.STALE_REPORTS]}
    cols: dict[str, list[object]] = defaultdict(list)
    for place in hospitals:
        beds = {FacilityType.tertiary_hospital: 1500, FacilityType.secondary_hospital: 600}.get(
            place.type, 40
        )
        icu = max(2, beds // 40)
        share = (
            story.NEAR_FULL_SHARE
            if place.name == story.NEAR_FULL
            else rng.uniform(*story.OCCUPANCY)
        )
        last = story.STALE_DAYS if place.id in stale else 0
        for back in range(story.REPORT_DAYS - 1, last - 1, -1):
            rise = 1 - 0.02 * back  # occupancy climbed over the fortnight
            cols["facility_id"].append(place.id)
            cols["area_code"].append(place.area_code)
            cols["reported_at"].append(morning - timedelta(days=back))
            cols["beds_total"].append(beds)
            cols["beds_occupied"].append(min(beds, round(beds * share * rise)))
            cols["icu_total"].append(icu)
            cols["icu_occupied"].append(min(icu, round(icu * min(1.0, share * 1.05) * rise)))
            cols["fever_visits"].append(round(beds * rng.uniform(0.2, 0.5) * rise))
            cols["staff_on_duty"].append(round(beds * 0.6))
            cols["username"].append("demo")
            cols["created_at"].append(morning - timedelta(days=back))
    return insert_columns(session, CapacityReport.__table__, cols)  # type: ignore[arg-type]


def _staff_and_homes(
    session: Session, places: Sequence[Facility], rng: random.Random, morning: datetime,
    today: date,
) -> None:  # fmt: skip
    for place in places:
        if place.type.hospital:
            size = {FacilityType.tertiary_hospital: 900, FacilityType.secondary_hospital: 350}.get(
                place.type, 30
            )
            for role, share in ((StaffRole.doctor, 0.35), (StaffRole.nurse, 0.5)):
                total = round(size * share)
                sick = round(total * rng.uniform(0.05, 0.3))
                session.add(StaffStrength(
                    facility_id=place.id, area_code=place.area_code, role=role, total=total,
                    on_duty=total - sick, off_sick=sick, infected=sick,
                    returned=round(sick * rng.uniform(0.2, 0.8)),
                    longest_streak_days=rng.randint(6, 24),
                    over_14_days=round(total * rng.uniform(0, 0.2)),
                    reported_at=morning,
                ))  # fmt: skip
        elif place.type is FacilityType.nursing_home:
            big = place.area_code.startswith("320623")
            beds = story.WELFARE_BEDS if big else rng.randint(120, 400)
            residents = story.WELFARE_RESIDENTS if big else round(beds * rng.uniform(0.5, 0.85))
            session.add(Institution(
                facility_id=place.id, area_code=place.area_code, beds=beds, residents=residents,
                residents_ill=rng.randint(0, 12),
                last_inspection_on=today - timedelta(days=rng.randint(1, 20)), reported_at=morning,
            ))  # fmt: skip
    tertiary = [p for p in places if p.type is FacilityType.tertiary_hospital]
    counties = [
        p for p in places if p.type is FacilityType.secondary_hospital and p.code.endswith("RM")
    ]
    for i, partner in enumerate(counties):
        urban = tertiary[i % len(tertiary)]
        session.add(Pairing(urban_id=urban.id, partner_id=partner.id, area_code=partner.area_code,
                            since=today - timedelta(days=20)))  # fmt: skip
    session.flush()


@dataclass
class Stock:
    """Balances (at the end) and issues (every other day) being drawn for the demo."""

    items: dict[str, Item]
    served: dict[int, int]
    rng: random.Random
    balances: dict[tuple[int, int], int] = field(default_factory=dict)
    use: dict[tuple[int, int], list[int]] = field(default_factory=dict)

    def uses(self, rate: float) -> list[int]:
        return [_poisson(self.rng, rate * 2) for _ in range(story.USE_DAYS // 2)]

    def primary(self, place: Facility, behind: bool) -> None:
        for thing in self.items.values():
            if not thing.category.symptomatic:
                continue
            rule = policy.default(place.type, thing.code, thing.category)
            served = self.served.get(place.id, 0)
            target = rule.units(served, thing.per_person) if rule else 0
            cover = story.BEHIND_COVER if behind else story.STOCK_COVER
            self.balances[(place.id, thing.id)] = round(target * self.rng.uniform(*cover))
            self.use[(place.id, thing.id)] = self.uses(served / 1000 * story.USE_PER_1000)

    def centre(self, place: Facility, behind: bool) -> None:
        for code, target in story.ANTIVIRAL_TARGET.items():
            share = self.rng.uniform(*(story.ANTIVIRAL_SHORT if behind else (1.0, 1.5)))
            self.balances[(place.id, self.items[code].id)] = round(target * share)
            self.use[(place.id, self.items[code].id)] = self.uses(0.5)
        self.balances[(place.id, self.items[policy.CONCENTRATOR].id)] = self.rng.choice((1, 1, 2))

    def clinic(self, place: Facility, w: float) -> None:
        lacking = self.rng.random() < story.no_oximeter(w)
        held = self.rng.choice((0, 1)) if lacking else 2
        self.balances[(place.id, self.items[policy.OXIMETER].id)] = held
        # Kits waiting to be issued to red and yellow people (a draw of its own, so the rest of
        # the story does not move): fewer where the town is behind.
        draw = random.Random(f"kits-{place.code}")
        for code, most in story.CLINIC_KITS.items():
            if code in self.items:
                units = round(most * (1.0 - story.KIT_WEAKNESS * w) * draw.random())
                self.balances[(place.id, self.items[code].id)] = units

    def other(self, place: Facility) -> None:
        if place.type is FacilityType.pharmacy:
            for thing in self.items.values():
                if thing.category.symptomatic and self.rng.random() < 0.8:
                    self.balances[(place.id, thing.id)] = self.rng.randint(5, 120)
        elif place.type is FacilityType.warehouse:
            for thing in self.items.values():
                self.balances[(place.id, thing.id)] = self.rng.randint(200, 3000)
        elif place.type.hospital:
            for code in ("azvudine", "nirmatrelvir", "ibuprofen", policy.CONCENTRATOR):
                self.balances[(place.id, self.items[code].id)] = self.rng.randint(30, 400)


def _stock(
    session: Session, actor: Actor, places: Sequence[Facility], items: dict[str, Item],
    weakness: dict[str, float], rng: random.Random, morning: datetime,
) -> int:  # fmt: skip
    stock = Stock(items, served_population(session, places), rng)
    for place in places:
        town = place.area_code[:9] + "000"
        if place.type.primary:
            stock.primary(place, town in story.BEHIND)
        if place.type is FacilityType.township_centre:
            stock.centre(place, town in story.BEHIND)
        if place.type is FacilityType.village_clinic:
            stock.clinic(place, weakness.get(town, 0.0))
        if not place.type.primary:
            stock.other(place)
    return _ledger(session, actor, places, stock.balances, stock.use, morning)


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's method; means here are small)."""
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, mean**0.5)))
    limit, k, p = pow(2.718281828459045, -mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _ledger(
    session: Session, actor: Actor, places: Sequence[Facility],
    balances: dict[tuple[int, int], int], use: dict[tuple[int, int], list[int]],
    morning: datetime,
) -> int:  # fmt: skip
    area = {p.id: p.area_code for p in places}
    stale = {p.id for p in places if p.type is FacilityType.village_clinic and p.id % 17 == 0}
    cols: dict[str, list[object]] = defaultdict(list)
    final: dict[tuple[int, int], tuple[int, datetime]] = {}
    start = morning - timedelta(days=story.USE_DAYS + 7)

    def line(fid: int, iid: int, kind: MovementKind, qty: int, after: int, at: datetime) -> None:
        for key, value in (("facility_id", fid), ("item_id", iid), ("area_code", area[fid]),
                           ("kind", kind.value), ("quantity", qty), ("balance_after", after),
                           ("counterpart_id", None), ("person_id", None), ("ward", ""),
                           ("reverses_id", None), ("pair_id", None), ("note", "demo"),
                           ("moved_at", at), ("username", "demo"), ("created_at", at)):  # fmt: skip
            cols[key].append(value)

    for (fid, iid), end in sorted(balances.items()):
        issued = use.get((fid, iid), [])
        opening = end + sum(issued)
        last = start
        if opening > 0:
            line(fid, iid, MovementKind.receipt, opening, opening, start)
        held = opening
        gap = 3 if fid in stale else 0
        for n, qty in enumerate(issued):
            back = story.USE_DAYS - 2 * n - 2 + gap
            if qty <= 0:
                continue
            held -= qty
            last = morning - timedelta(days=back)
            line(fid, iid, MovementKind.issue, -qty, held, last)
        if fid not in stale:
            last = morning  # counted this morning
        final[(fid, iid)] = (held, last)
    written = insert_columns(session, StockMovement.__table__, cols)  # type: ignore[arg-type]
    insert_columns(session, StockBalance.__table__, {  # type: ignore[arg-type]
        "facility_id": [k[0] for k in final], "item_id": [k[1] for k in final],
        "area_code": [area[k[0]] for k in final], "balance": [v[0] for v in final.values()],
        "moved_at": [v[1] for v in final.values()],
    })  # fmt: skip
    ids = session.scalars(select(StockMovement.id).order_by(StockMovement.id)).all()
    detail = {"source": "demo"}
    areas = [str(code) for code in cols["area_code"]]
    audit.record_many(session=session, actor=actor, entries=[
        audit.Entry(AuditAction.create, "stock_movement", str(i), code, detail)
        for i, code in zip(ids, areas, strict=True)
    ])  # fmt: skip
    return written
