"""The demo world's story: the day it is set on, which towns are behind and why, and every
parameter that makes the synthetic registry vary the way a real one does.

Everything here is invented for the demo (docs/demo.md tells the story): the generator
(``demo.people``, ``demo.contacts``), the tests and the docs read the same figures. A town's
*weakness* ``w`` (0: well run, 1: far behind) drives its staffing, follow-up and kit
delivery; a village's *remoteness* ``r`` (0: at the county seat, where the county hospitals
are; 1: the county's farthest village; coastal villages in the far band) drives how often it
has a designated hospital that can treat its people. The formulas are written out next to their
parameters.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

TODAY = date(2023, 1, 5)
"""The demo's day: mid-wave, three weeks before the Spring Festival (22 January 2023). Cities
peaked in late December; the countryside is rising (the forecast starts on 2022-12-01)."""
EARLIEST_TODAY = date(2022, 12, 11)
"""The earliest day a demo can be built around: the day after the last vaccination the
generator dates (``people.LAST_CAMPAIGN_DAY``), so that no stored date lies after today."""


@dataclass(frozen=True)
class Town:
    """A named town of the story: behind on the guarantees, on the coast, or both."""

    code: str
    name: str
    behind: bool
    coastal: bool
    zh: str
    en: str


TOWNS = (
    Town("320623101000", "如东县洋口镇", True, True,
         "洋口港海边的渔村，离县人民医院最远；村医少，药包靠镇卫生院一辆车送",
         "fishing villages by Yangkou port, farthest from the county hospital; few village "
         "doctors, kits delivered by the health centre's one van"),
    Town("320681110000", "启东市吕四港镇", True, True,
         "44 个村的渔港大镇，独居老人多，网格员跟不上随访",
         "a 44-village fishing port with many elderly living alone; grid workers cannot keep up"),
    Town("320685105000", "海安市角斜镇", True, True,
         "海安东北角的沿海镇，卫生院人手少，药包发放落后",
         "a coastal town in Hai'an's north-east corner; a thin health centre, kits behind"),
    Town("320682116000", "如皋市搬经镇", True, False,
         "如皋西北的内陆大镇，35 个村，村医外出支援城区后人手最薄",
         "a large inland town (35 villages) in Rugao's north-west whose village doctors were "
         "sent to the city hospitals: the thinnest staff"),
    Town("320623100000", "如东县栟茶镇", False, True, "沿海", "coastal"),
    Town("320623103000", "如东县长沙镇", False, True, "沿海", "coastal"),
    Town("320623104000", "如东县大豫镇", False, True, "沿海", "coastal"),
    Town("320681104000", "启东市东海镇", False, True, "沿海", "coastal"),
    Town("320685103000", "海安市李堡镇", False, True, "沿海", "coastal"),
    Town("320612104000", "通州区三余镇", False, True, "沿海（通州湾）", "coastal (Tongzhou Bay)"),
    Town("320614415000", "海门区海门港新区", False, True, "沿海", "coastal"),
)  # fmt: skip
BEHIND = frozenset(t.code for t in TOWNS if t.behind)
COASTAL = frozenset(t.code for t in TOWNS if t.coastal)
SEATS = {
    "320612000000": "320612001000",  # 通州区: 金沙街道
    "320613000000": "320613001000",  # 崇川区: 城东街道
    "320614000000": "320614400000",  # 海门区: the development zone holds the seat's communities
    "320623000000": "320623001000",  # 如东县: 掘港街道
    "320671000000": "320671001000",  # 开发区: 中兴街道
    "320681000000": "320681100000",  # 启东市: 汇龙镇
    "320682000000": "320682001000",  # 如皋市: 如城街道
    "320685000000": "320685100000",  # 海安市: 海安镇
}
"""The town of each county where its government and hospitals are; elsewhere, the county's
lowest-coded town (its first street or town, usually the seat)."""

# Town weakness w. Towns of a county are ranked by how far they lie from the county seat (the
# seat first): the nearest gets WEAKNESS_NEAR, the farthest WEAKNESS_FAR, linearly in between,
# plus a seeded jitter of ±WEAKNESS_JITTER; the story's behind towns get WEAKNESS_BEHIND.
WEAKNESS_NEAR = 0.05
WEAKNESS_FAR = 0.7
WEAKNESS_JITTER = 0.05
WEAKNESS_BEHIND = 1.0

# In charge (有人管). A village has no responsible person at all with probability
# NO_STAFF[0] + NO_STAFF[1]·w²; a village doctor and 1–2 grid workers otherwise (fewer where w
# is high). A red or yellow person in a staffed village is assigned one with probability
# ASSIGNED[0] − ASSIGNED[1]·w.
NO_STAFF = (0.01, 0.45)
ASSIGNED = (0.97, 0.3)

# Checked on (有人问). A followed person is overdue today with probability
# OVERDUE[0] + OVERDUE[1]·w, plus OVERDUE[2] when nobody is in charge of them. Of the overdue,
# NEVER_REACHED were never contacted; the others' contacts stopped 1–6 days past their interval.
OVERDUE = (0.05, 0.5, 0.2)
NEVER_REACHED = 0.3

# Medicine on hand (有药用). A kit was delivered with probability KIT[grade]·(1 − KIT_WEAKNESS·w),
# on one of the 1–19 days before today.
KIT = {"red": 0.9, "yellow": 0.78}
KIT_WEAKNESS = 0.65

# Place to be treated (有医治). No designated hospital with probability
# NO_HOSPITAL[0] + NO_HOSPITAL[1]·r; of those designated, the township health centre (a ward, but
# no dialysis, obstetrics or paediatrics: not enough for the people who need those) with
# probability HEALTH_CENTRE[0] + HEALTH_CENTRE[1]·r, else the county's people's or
# traditional-medicine hospital. Since a health centre's ward is enough for most people (the
# capability rule of docs/people.md), the gap between near and remote villages comes mostly from
# having no designated hospital at all: its slope is steep enough that every county's towns
# still differ by 20 points or more. The demo's placement of villages
# does not know the coastline, so a coastal village's remoteness is put in the far band:
# COASTAL_REMOTENESS + (1 − COASTAL_REMOTENESS)·r.
NO_HOSPITAL = (0.03, 0.45)
HEALTH_CENTRE = (0.08, 0.55)
COASTAL_REMOTENESS = 0.6

# Referral alerts. The wave reached the cities first (as the forecast seeds it): a contact in an
# urban community is unwell (fever, SpO2 below 93%) EPIDEMIC_AHEAD[True] times as often as the
# base rate in ``contacts``, one in a rural village EPIDEMIC_AHEAD[False] times.
EPIDEMIC_AHEAD = {True: 3.0, False: 0.5}


def no_staff(w: float) -> float:
    """Probability that a village of a town of weakness ``w`` has no responsible person."""
    return NO_STAFF[0] + NO_STAFF[1] * w * w


def assigned(w: float) -> float:
    """Probability that a followed person of a staffed village is assigned a responsible."""
    return ASSIGNED[0] - ASSIGNED[1] * w


def overdue(w: float, in_charge: bool) -> float:
    """Probability that a followed person is overdue for a check-in today."""
    return min(1.0, OVERDUE[0] + OVERDUE[1] * w + (0.0 if in_charge else OVERDUE[2]))


# Kits in stock at a village clinic, to issue (有药用 through the ledger): up to CLINIC_KITS of
# each, × (1 − KIT_WEAKNESS·w) × a uniform draw.
CLINIC_KITS = {"kit_red": 6, "kit_yellow": 10}


def kit(grade: str, w: float) -> float:
    """Probability that a red or yellow person's kit was delivered."""
    return KIT[grade] * (1.0 - KIT_WEAKNESS * w)


def no_hospital(r: float) -> float:
    """Probability that a person of a village of remoteness ``r`` has no designated hospital."""
    return NO_HOSPITAL[0] + NO_HOSPITAL[1] * r


def health_centre(r: float) -> float:
    """Probability that a designated hospital is the township health centre."""
    return HEALTH_CENTRE[0] + HEALTH_CENTRE[1] * r


Point = tuple[float, float]


def km(a: Point, b: Point) -> float:
    """Approximate distance in kilometres between two (lon, lat) points (equirectangular)."""
    scale = math.cos(math.radians((a[1] + b[1]) / 2))
    return 111.2 * math.hypot((a[0] - b[0]) * scale, a[1] - b[1])


def seat_of(county: str, towns: Iterable[str]) -> str | None:
    """The county seat among a county's towns (None when it has none)."""
    known = SEATS.get(county)
    listed = sorted(towns)
    if known in listed:
        return known
    return listed[0] if listed else None


def weaknesses(towns: Mapping[str, Point], seat: str, jitter: list[float]) -> dict[str, float]:
    """Weakness of each town of one county (placed at ``towns``) from its distance to the seat.

    ``jitter`` holds one draw in [-1, 1] per town, in the order of ``sorted(towns)``.

    >>> w = weaknesses({"a": (0.0, 0.0), "b": (0.1, 0.0)}, "a", [0.0, 0.0])
    >>> [round(w[code], 2) for code in "ab"]
    [0.05, 0.7]
    """
    centre = towns[seat]
    order = sorted(towns, key=lambda code: (km(towns[code], centre), code))
    span = max(len(order) - 1, 1)
    out = {}
    for code, noise in zip(sorted(towns), jitter, strict=True):
        rank = order.index(code) / span
        base = WEAKNESS_NEAR + (WEAKNESS_FAR - WEAKNESS_NEAR) * rank
        out[code] = min(1.0, max(0.0, base + WEAKNESS_JITTER * noise))
        if code in BEHIND:
            out[code] = WEAKNESS_BEHIND
    return out


def remoteness(villages: Mapping[str, Point], centre: Point) -> dict[str, float]:
    """Remoteness of each village of one county: its distance to the county seat over the
    farthest village's, in the far band for coastal villages.

    >>> remoteness({"320623101001": (0.05, 0.0), "320623001001": (0.1, 0.0)}, (0.0, 0.0))
    {'320623101001': 0.8, '320623001001': 1.0}
    """
    far = max((km(p, centre) for p in villages.values()), default=0.0) or 1.0
    out = {}
    for code, point in villages.items():
        r = km(point, centre) / far
        out[code] = COASTAL_REMOTENESS + (1 - COASTAL_REMOTENESS) * r if _coastal(code) else r
    return out


def _coastal(village: str) -> bool:
    return village[:9] + "000" in COASTAL


# Medical resources (``demo.resources``). Facilities: the city's tertiary hospitals in its
# central district (TERTIARY), a people's and a TCM hospital per county seat, a township health
# centre per town (a community health centre per street), a clinic per village, a welfare centre
# per county (如东's with WELFARE_BEDS beds and WELFARE_RESIDENTS residents), PHARMACIES per town
# and a medicine warehouse per county.
TERTIARY = ("南通大学附属医院", "南通市第一人民医院", "南通市中医院", "南通市第三人民医院")
NEAR_FULL = "南通市第三人民医院"  # the designated infectious-disease hospital: NEAR_FULL_SHARE full
NEAR_FULL_SHARE = 0.97
WELFARE_BEDS, WELFARE_RESIDENTS = 280, 183
PHARMACIES = 2
# Stock. A primary facility holds STOCK_COVER × its target of each symptomatic item (drawn
# uniformly), except in the story's behind towns (BEHIND_COVER). Township centres' antivirals:
# ANTIVIRAL_TARGET units per centre (an area target the demo sets city-wide); centres of behind
# towns hold ANTIVIRAL_SHORT of it. A clinic lacks its oximeters (holds 0 or 1) with
# probability NO_OXIMETER[0] + NO_OXIMETER[1]·w. Daily use over the last USE_DAYS days is
# USE_PER_1000 units per 1,000 people served, per symptomatic item.
STOCK_COVER = (1.0, 1.6)
BEHIND_COVER = (0.3, 0.7)
ANTIVIRAL_TARGET = {"azvudine": 20, "nirmatrelvir": 10}
ANTIVIRAL_SHORT = (0.0, 0.3)
NO_OXIMETER = (0.04, 0.5)
USE_DAYS = 14
USE_PER_1000 = 1.5
# Capacity. Hospitals report every morning for REPORT_DAYS days; STALE_REPORTS of them (centres
# of behind towns first) stopped STALE_DAYS days ago. Occupancy OCCUPANCY (uniform) elsewhere.
REPORT_DAYS = 14
STALE_REPORTS = 4
STALE_DAYS = 3
OCCUPANCY = (0.55, 0.9)


def no_oximeter(w: float) -> float:
    """Probability that a village clinic of a town of weakness ``w`` lacks its oximeters."""
    return NO_OXIMETER[0] + NO_OXIMETER[1] * w


# ---- directives (demo.directives) ---------------------------------------------------------
@dataclass(frozen=True)
class DemoDirective:
    """A directive of the 2022–23 response the city issued before the demo's day."""

    title: str
    text: str
    to_level: str  # county, town or village
    issued_days_ago: int
    due_in_days: int  # from today: negative = already past its deadline (escalated)
    done: float  # share of its tasks carried out in an ordinary town
    verified: float  # share of those done that the level above has verified


DIRECTIVES = (
    DemoDirective(
        "养老机构封闭管理检查", "对辖区养老机构逐一开展封闭管理、人员健康监测和物资储备检查，"
        "问题清单当日整改。", "county", 6, 2, 0.6, 0.5,
    ),
    DemoDirective(
        "药品储备动态清零短缺", "乡镇卫生院、村卫生室按服务人口15%-20%储备退热药和抗原，"
        "短缺品种动态清零，每日报送库存。", "town", 9, -2, 0.7, 0.6,
    ),
    DemoDirective(
        "重点人群健康服务全覆盖", "65岁以上老人和重点人群逐户摸排，落实有人管、有人问、"
        "有药用、有医治，每户留痕。", "village", 5, 3, 0.45, 0.4,
    ),
    DemoDirective(
        "一村（居）至少一个便民检测点", "春节前每个村（社区）至少设立一个便民检测点，公布地址和"
        "开放时间。", "village", 10, -1, 0.8, 0.5,
    ),
)  # fmt: skip
BEHIND_DONE = 0.45
"""In a town behind (``BEHIND``), the share of tasks done is the directive's ``done`` × this."""
REJECTED = 0.01
"""Share of a directive's tasks refused by their owner with a reason (taken up again later)."""
STARTED = 0.5
"""Of the tasks not done, the share already accepted or in progress (the rest not started)."""

# --- duty rosters (值班值守) ---------------------------------------------------------------------
# The city, every county and every town keep a roster from yesterday to ROSTER_DAYS_AHEAD days
# ahead: each day's day shift (08:00–20:00) and night shift (20:00–08:00) has one leader
# (带班领导) and 1 or 2 staff (值班员; 2 with probability ROSTER_SECOND_STAFF). Each area's
# people are its demo accounts (the commander, the 如东县 and town operators, the staff accounts
# of the directives) and ROSTER_INVENTED invented people; leaders come from the first
# ROSTER_LEADERS of them. Both rotations start so that the area's accounts are on duty tonight,
# which is why alerts reach them in the application. Tonight the towns behind (BEHIND) have
# nobody on duty (their staff were sent to the villages): the overview's 今晚值班 card and the
# briefing's duty list name them. Each county and the city hand over twice: yesterday evening
# and this morning (ROSTER_HANDOVERS).
ROSTER_DAYS_BEHIND, ROSTER_DAYS_AHEAD = 1, 5
ROSTER_INVENTED = 6
ROSTER_LEADERS = 3
ROSTER_SECOND_STAFF = 0.4
ROSTER_HANDOVERS = (
    "县医院ICU床位紧张，夜间转运需先电话联系床位",
    "洋口镇两名红码老人血氧偏低，已安排村医上门复测，请跟进结果",
    "明早8点前报送药品库存日报，吕四港镇尚未报送",
    "春运返乡人员摸排名单已下发乡镇，夜间接到来电请登记",
    "120转运车辆一辆检修中，调度时注意",
    "养老机构封闭管理检查发现两处问题，整改情况待核实",
)
