"""Coverage of any area: how many red/yellow people each guarantee reaches, who is overdue.

Counts come from ``coverage_cell``, a roll-up per village of people sharing one state, rebuilt for
a village in the same transaction that changes its people — so it is always current — and small
enough (a few rows per village) that the whole city sums in milliseconds. Whether a check-in is
overdue depends on today, so the roll-up keeps the due date and the sum compares it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import ColumnElement, and_, case, delete, func, insert, select
from sqlalchemy.orm import Session

from lianfang.alerts.choices import AlertKind, AlertStatus
from lianfang.alerts.models import Alert
from lianfang.areas import codes
from lianfang.areas.choices import AreaLevel
from lianfang.auth.choices import Permission
from lianfang.auth.scope import Actor
from lianfang.db import locks
from lianfang.errors import InvalidInputError
from lianfang.i18n import _
from lianfang.people.choices import Grade, Guarantee
from lianfang.people.models import CoverageCell, Person

CHUNK = 1000
MANY_VILLAGES = 200  # from this many villages on, the roll-up is rebuilt from one scan
SCAN_CHUNK = 30_000  # villages per scan (bound parameters stay under both back ends' limits)
FOLLOWED = (Grade.red, Grade.yellow)


def refresh(*, session: Session, villages: Iterable[str]) -> None:
    """Rebuild the roll-up rows of these villages from their people. A few villages are read
    through the area index; many (a city-scale import) in one scan of the table, the index kept
    out of it: fetching millions of rows one index entry at a time costs several times a scan."""
    ordered = sorted(set(villages))
    many = len(ordered) >= MANY_VILLAGES
    locks.hold(session, (int(code) for code in ordered), many=many)  # PostgreSQL: one at a time
    size = SCAN_CHUNK if many else CHUNK
    for start in range(0, len(ordered), size):
        chunk = ordered[start : start + size]
        session.execute(delete(CoverageCell).where(CoverageCell.area_code.in_(chunk)))
        state = (
            Person.area_code, Person.grade, Person.responsible_id.is_not(None),
            Person.last_contact_at.is_not(None), Person.due_on, Person.medicine_ok,
            Person.treatment_ok,
        )  # fmt: skip
        area = Person.area_code + "" if many else Person.area_code  # '' added: no index use
        grouped = select(*state, func.count()).where(area.in_(chunk)).group_by(*state)
        session.execute(
            insert(CoverageCell).from_select(
                [
                    "area_code",
                    "grade",
                    "in_charge",
                    "contacted",
                    "due_on",
                    "medicine_ok",
                    "treatment_ok",
                    "persons",
                ],
                grouped,
            )
        )


State = tuple[str, Grade, bool, bool, date | None, bool, bool]
"""A roll-up row's village and state: grade, in charge, contacted, due on, medicine, treatment."""
STATE_KEYS = ("area_code", "grade", "in_charge", "contacted", "due_on", "medicine_ok",
              "treatment_ok")  # fmt: skip


def add(*, session: Session, counts: dict[State, int]) -> None:
    """Add people who were not registered before, counted by village and state, to the roll-up:
    the rows ``refresh`` would rebuild, without reading every person of those villages again
    (an import has the new people's states in hand)."""
    merged = Counter(counts)
    villages = sorted({state[0] for state in counts})
    for start in range(0, len(villages), CHUNK):
        chunk = villages[start : start + CHUNK]
        for cell in session.scalars(select(CoverageCell).where(CoverageCell.area_code.in_(chunk))):
            merged[tuple(getattr(cell, key) for key in STATE_KEYS)] += cell.persons
        session.execute(delete(CoverageCell).where(CoverageCell.area_code.in_(chunk)))
    if merged:
        session.execute(
            insert(CoverageCell),
            [dict(zip(STATE_KEYS, state, strict=True), persons=n) for state, n in merged.items()],
        )


@dataclass
class Counts:
    """The coverage figures of one area."""

    code: str
    name: str = ""
    red: int = 0
    yellow: int = 0
    green: int = 0
    covered: dict[Guarantee, int] = field(default_factory=lambda: dict.fromkeys(Guarantee, 0))
    overdue: int = 0
    alerts_open: int = 0
    all_four: int = 0  # red and yellow people every guarantee reaches
    covered_red: dict[Guarantee, int] = field(default_factory=lambda: dict.fromkeys(Guarantee, 0))
    within: str = ""  # the parent area's name, where a ranking spans several parents

    @property
    def followed(self) -> int:
        """Red and yellow people: those the four guarantees apply to."""
        return self.red + self.yellow

    @property
    def total(self) -> int:
        return self.red + self.yellow + self.green

    def missing(self, guarantee: Guarantee) -> int:
        """Red and yellow people whom a guarantee does not yet reach."""
        return self.followed - self.covered[guarantee]

    def missing_red(self, guarantee: Guarantee) -> int:
        """Red people whom a guarantee does not yet reach."""
        return self.red - self.covered_red[guarantee]

    def missing_yellow(self, guarantee: Guarantee) -> int:
        """Yellow people whom a guarantee does not yet reach."""
        return self.missing(guarantee) - self.missing_red(guarantee)

    def share(self, guarantee: Guarantee) -> float | None:
        """The share of red and yellow people a guarantee reaches (None when there are none)."""
        return self.covered[guarantee] / self.followed if self.followed else None

    def gap(self, guarantee: Guarantee) -> float | None:
        """The share of red and yellow people a guarantee does not reach (None when none)."""
        return self.missing(guarantee) / self.followed if self.followed else None


def _sum_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, CoverageCell.persons), else_=0)), 0)


def _figures(today: date) -> list[ColumnElement[int]]:
    followed = CoverageCell.grade.in_(FOLLOWED)
    red = CoverageCell.grade == Grade.red
    checked = and_(CoverageCell.contacted, CoverageCell.due_on >= today)
    return [
        _sum_if(CoverageCell.grade == Grade.red),
        _sum_if(CoverageCell.grade == Grade.yellow),
        _sum_if(CoverageCell.grade == Grade.green),
        _sum_if(and_(followed, CoverageCell.in_charge)),
        _sum_if(and_(followed, checked)),
        _sum_if(and_(followed, CoverageCell.medicine_ok)),
        _sum_if(and_(followed, CoverageCell.treatment_ok)),
        _sum_if(CoverageCell.due_on < today),
        _sum_if(and_(followed, CoverageCell.in_charge, checked, CoverageCell.medicine_ok,
                     CoverageCell.treatment_ok)),
        _sum_if(and_(red, CoverageCell.in_charge)),
        _sum_if(and_(red, checked)),
        _sum_if(and_(red, CoverageCell.medicine_ok)),
        _sum_if(and_(red, CoverageCell.treatment_ok)),
    ]  # fmt: skip


def _fill(counts: Counts, row: tuple[int, ...]) -> None:
    counts.red, counts.yellow, counts.green = row[0], row[1], row[2]
    counts.covered = dict(zip(Guarantee, row[3:7], strict=True))
    counts.overdue, counts.all_four = row[7], row[8]
    counts.covered_red = dict(zip(Guarantee, row[9:13], strict=True))


def summary(
    *, session: Session, actor: Actor, code: str, today: date, level: AreaLevel | None = None
) -> tuple[Counts, list[Counts]]:
    """Coverage of an area and of each area with people under it: its children, or every area
    of a deeper ``level`` (all the towns of a city). Empty for a village."""
    actor.require(Permission.people_read)
    actor.require_area(code)
    prefix = codes.short(code)
    where = codes.in_subtree(CoverageCell.area_code, prefix)
    total = Counts(code)
    _fill(total, tuple(session.execute(select(*_figures(today)).where(where)).one()))
    total.alerts_open = _alerts(session, prefix, None).get(prefix, 0)
    width = below(code, level)
    children = _grouped(session, prefix, today, width) if width else []
    return total, children


def below(code: str, level: AreaLevel | None) -> int | None:
    """The code length of the areas a coverage breaks down into: the children's by default
    (None under a village), else the given level's, which must lie below the area."""
    prefix = codes.short(code)
    if level is None:
        deeper = [n for n in sorted(codes.LEVEL_LENGTHS.values()) if n > len(prefix)]
        return deeper[0] if deeper else None
    width = codes.LEVEL_LENGTHS[level]
    if width <= len(prefix):
        raise InvalidInputError(
            _("no %(level)s lies below the %(area_level)s %(code)s", level=level.text,
              area_level=codes.level_of(code).text, code=prefix)
        )  # fmt: skip
    return width


def villages(*, session: Session, actor: Actor, code: str, today: date) -> list[Counts]:
    """Coverage of every village under an area that has key people (for maps)."""
    actor.require(Permission.people_read)
    actor.require_area(code)
    return _grouped(session, codes.short(code), today, 12)


def _grouped(session: Session, prefix: str, today: date, width: int) -> list[Counts]:
    """Coverage per area of the given code length under a prefix."""
    child = func.substr(CoverageCell.area_code, 1, width)
    rows = session.execute(
        select(child, *_figures(today))
        .where(codes.in_subtree(CoverageCell.area_code, prefix))
        .group_by(child)
    ).all()
    alerts = _alerts(session, prefix, width)
    out = []
    for row in rows:
        counts = Counts(str(row[0]).ljust(12, "0"))
        _fill(counts, tuple(row[1:]))
        counts.alerts_open = alerts.get(str(row[0]), 0)
        out.append(counts)
    return out


def _alerts(session: Session, prefix: str, width: int | None) -> dict[str, int]:
    """Open referral alerts under a prefix, in all (keyed by the prefix) or per child."""
    where = (
        codes.in_subtree(Alert.area_code, prefix),
        Alert.status == AlertStatus.open,
        Alert.kind == AlertKind.referral,
    )
    if width is None:
        return {prefix: session.scalar(select(func.count()).where(*where)) or 0}
    key = func.substr(Alert.area_code, 1, width)
    return {
        str(k): n for k, n in session.execute(select(key, func.count()).where(*where).group_by(key))
    }
