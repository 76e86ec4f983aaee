"""The situation of an area for its commander: per child area (county, town or village) what a
meeting needs — key-population coverage, overdue follow-ups, referral alerts, beds and ICU
occupancy, stock below target, the adopted forecast's peak date, tasks behind schedule — with
the change since yesterday, the directives behind schedule and when each figure's data was
last updated. The overview page, the briefing (page, .xlsx, PDF), the API and the CLI all
show this one read model.

Figures are computed from every domain at once with the area's own system actor, stored as the
day's snapshot by the first reading of the day (so tomorrow can say what changed, and a past day
can be shown as it stood), and then cut to what the caller's role may read: a layer whose
permission the caller lacks is absent, not empty.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.alerts.models import Alert
from lianfang.areas import codes
from lianfang.areas import service as areas
from lianfang.areas.choices import AreaLevel
from lianfang.areas.models import Area
from lianfang.auth.choices import Permission, Role
from lianfang.auth.scope import Actor
from lianfang.briefing.choices import Layer
from lianfang.briefing.models import BriefingSnapshot
from lianfang.briefing.tonight import DutyRow, duty_list
from lianfang.db.engine import begin_write
from lianfang.dispatch.choices import OPEN_STATUSES, TaskStatus
from lianfang.dispatch.models import Directive, Task
from lianfang.errors import InvalidInputError, NotFoundError
from lianfang.forecast.adoption import adopted_forecast
from lianfang.i18n import Text, _
from lianfang.people import overview
from lianfang.people.models import FollowUp
from lianfang.resources import reserve
from lianfang.resources.models import Facility
from lianfang.resources.service import is_stale, latest_capacity
from lianfang.timeutil import utcnow


@dataclass
class Row:
    """The figures of one area (None where its domain has nothing to say, or the caller may not
    read it); ``previous`` is the same area's row of the day before, when one was stored."""

    code: str
    name: str
    level: AreaLevel
    lon: float | None = None
    lat: float | None = None
    followed: int | None = None  # red and yellow people
    all_four: int | None = None  # of them, reached by all four guarantees
    overdue: int | None = None  # follow-ups past their due date
    alerts: int | None = None  # open referral alerts
    beds_total: int | None = None
    beds_occupied: int | None = None
    icu_total: int | None = None
    icu_occupied: int | None = None
    stock_short: int | None = None  # facility × item rows below their reserve target
    short_facilities: int | None = None
    peak: date | None = None  # the adopted forecast's peak date
    tasks_late: int | None = None  # leaf tasks still open past their deadline
    previous: Row | None = None

    @property
    def coverage(self) -> float | None:
        """The share of red and yellow people every guarantee reaches."""
        if not self.followed or self.all_four is None:
            return None
        return self.all_four / self.followed

    @property
    def gap(self) -> int | None:
        """Red and yellow people some guarantee does not reach yet."""
        if self.followed is None or self.all_four is None:
            return None
        return self.followed - self.all_four

    @property
    def beds_share(self) -> float | None:
        if not self.beds_total or self.beds_occupied is None:
            return None
        return self.beds_occupied / self.beds_total

    @property
    def icu_share(self) -> float | None:
        if not self.icu_total or self.icu_occupied is None:
            return None
        return self.icu_occupied / self.icu_total

    def change(self, name: str) -> float | None:
        """Today's figure less yesterday's (None without both)."""
        if self.previous is None:
            return None
        now, then = getattr(self, name), getattr(self.previous, name)
        if now is None or then is None:
            return None
        return float(now - then)

    def peak_days(self, day: date) -> int | None:
        """Days from ``day`` to the forecast peak (negative once past)."""
        return None if self.peak is None else (self.peak - day).days

    def figures(self) -> dict[str, Any]:
        """The stored figures (JSON-ready)."""
        return {
            name: (value.isoformat() if isinstance(value, date) else value)
            for name in FIGURES
            if (value := getattr(self, name)) is not None
        }

    def load(self, stored: dict[str, Any]) -> None:
        for name in FIGURES:
            value = stored.get(name)
            if name == "peak" and value is not None:
                value = date.fromisoformat(value)
            setattr(self, name, value)


FIGURES = ("followed", "all_four", "overdue", "alerts", "beds_total", "beds_occupied",
           "icu_total", "icu_occupied", "stock_short", "short_facilities", "peak",
           "tasks_late")  # fmt: skip
"""The figures of a row that a snapshot keeps."""

LAYER_FIGURES: dict[Layer, tuple[str, ...]] = {
    Layer.coverage: ("followed", "all_four", "overdue"),
    Layer.alerts: ("alerts",),
    Layer.peak: ("peak",),
    Layer.stock: ("stock_short", "short_facilities"),
    Layer.beds: ("beds_total", "beds_occupied", "icu_total", "icu_occupied"),
    Layer.tasks: ("tasks_late",),
}


@dataclass(frozen=True)
class Behind:
    """A directive with work under the area still open past its deadline."""

    directive_id: int
    title: str
    deadline: date
    total: int  # its leaf tasks under the area
    done: int
    late: int

    @property
    def done_share(self) -> float:
        return self.done / self.total if self.total else 0.0


@dataclass(frozen=True)
class Updated:
    """When a layer's data was last updated: the newest record behind it and, for reported
    figures (beds), the oldest of the latest reports and how many are stale."""

    newest: datetime | None
    oldest: datetime | None = None
    stale: int = 0
    note: Text | None = None  # e.g. the area a forecast was adopted for


@dataclass
class Briefing:
    """An area's situation on a day, per child area, worst first."""

    area: Row
    day: date
    live: bool  # today's figures (else those stored on ``day``)
    rows: list[Row]
    layers: list[Layer]
    behind: list[Behind] = field(default_factory=list)
    updated: dict[Layer, Updated] = field(default_factory=dict)
    taken_at: datetime | None = None  # when a past day's figures were stored
    duty: list[DutyRow] | None = None  # tonight's duty, the area then its children (by code)

    @property
    def compared(self) -> bool:
        """True when yesterday's figures were stored (changes can be shown)."""
        return self.area.previous is not None

    @property
    def child_level(self) -> AreaLevel | None:
        return self.area.level.child


def briefing(*, session: Session, actor: Actor, code: str, day: date | None = None) -> Briefing:
    """The situation of an area on a day (today by default): live figures for today, stored on
    the day's first reading; a past day as it was stored then. The change is against the day
    before when its figures were stored."""
    actor.require(Permission.areas_read)
    area = areas.get_area(session=session, actor=actor, code=code)
    today = timeutil.today()
    day = day or today
    if day > today:
        raise InvalidInputError(
            _("the briefing date %(day)s is after today (%(today)s)", day=day, today=today)
        )
    kids = _children(session, area)
    top = Row(area.code, area.name, area.level, area.lon, area.lat)
    behind: list[Behind]
    updated: dict[Layer, Updated] = {}
    taken_at = None
    if day == today:
        behind, updated = _live(session, area, top, kids, today)
        _store(session, today, [top, *kids], behind)
    else:
        taken_at, behind = _stored(session, day, top, kids)
    previous = _previous(session, day - timedelta(days=1), [top, *kids])
    for row in [top, *kids]:
        row.previous = previous.get(row.code)
    layers = [layer for layer in Layer if actor.can(layer.permission)]
    hidden = [name for layer in Layer if layer not in layers for name in LAYER_FIGURES[layer]]
    for row in [top, *kids, *(r.previous for r in [top, *kids] if r.previous)]:
        for name in hidden:
            setattr(row, name, None)
    return Briefing(
        area=top,
        day=day,
        live=day == today,
        rows=worst_first(kids),
        layers=layers,
        behind=behind if Layer.tasks in layers else [],
        updated={layer: u for layer, u in updated.items() if layer in layers},
        taken_at=taken_at,
        duty=duty_list(session, actor, [(r.code, r.name) for r in [top, *kids]], day),
    )


def worst_first(rows: Iterable[Row]) -> list[Row]:
    """Rows ordered worst first: the lowest coverage, then the most overdue follow-ups, open
    alerts, late tasks and stock rows short, ties in code order."""

    def key(r: Row) -> tuple[float, int, int, int, int, str]:
        share = r.coverage
        return (
            share if share is not None else 2.0,
            -(r.overdue or 0), -(r.alerts or 0), -(r.tasks_late or 0), -(r.stock_short or 0),
            r.code,
        )  # fmt: skip

    return sorted(rows, key=key)


def _children(session: Session, area: Area) -> list[Row]:
    found = session.execute(
        select(Area.code, Area.name, Area.level, Area.lon, Area.lat)
        .where(Area.parent_code == area.code)
        .order_by(Area.code)
    ).all()
    return [Row(code, name, level, lon, lat) for code, name, level, lon, lat in found]


def _system(area: Area) -> Actor:
    """The actor the figures are computed with: every layer, the area's scope only. A caller's
    role decides afterwards which layers it sees (so a snapshot is whole whoever read first)."""
    return Actor(user_id=None, username="briefing", role=Role.admin, area_code=area.code)


def _key(code: str, width: int | None) -> str:
    return code[:width].ljust(12, "0") if width else code


@dataclass
class _Scope:
    """What the per-layer readers share: the area, its rows and how child codes are cut."""

    session: Session
    area: Area
    top: Row
    kids: list[Row]
    today: date

    def __post_init__(self) -> None:
        self.actor = _system(self.area)
        self.prefix = codes.short(self.area.code)
        child = self.area.level.child
        self.width = codes.LEVEL_LENGTHS[child] if child else None
        self.by_code = {r.code: r for r in self.kids}

    @property
    def rows(self) -> list[Row]:
        return [self.top, *self.kids]

    def owners(self, code: str) -> list[Row]:
        """The area's row and the child row a record at ``code`` counts in."""
        kid = self.by_code.get(_key(code, self.width)) if self.width else None
        return [self.top] if kid is None else [self.top, kid]

    def newest(self, column: Any, area_column: Any, *where: Any) -> datetime | None:
        found: datetime | None = self.session.scalar(
            select(func.max(column)).where(codes.in_subtree(area_column, self.prefix), *where)
        )
        return found


def _live(
    session: Session, area: Area, top: Row, kids: list[Row], today: date
) -> tuple[list[Behind], dict[Layer, Updated]]:
    scope = _Scope(session, area, top, kids, today)
    updated = _people(session, scope) | _beds(session, scope) | _stock(session, scope)
    updated |= _peak(session, scope)
    behind, tasks = _tasks(session, scope)
    return behind, updated | tasks


def _people(session: Session, scope: _Scope) -> dict[Layer, Updated]:
    """Key-population coverage, overdue follow-ups and open referral alerts."""
    total, counted = overview.area_coverage(
        session=session, actor=scope.actor, code=scope.area.code, today=scope.today
    )
    for row in scope.kids:
        row.followed = row.all_four = row.overdue = row.alerts = 0
    for counts, kid in [(total, scope.top), *((c, scope.by_code.get(c.code)) for c in counted)]:
        if kid is not None:
            kid.followed, kid.all_four = counts.followed, counts.all_four
            kid.overdue, kid.alerts = counts.overdue, counts.alerts_open
    return {
        Layer.coverage: Updated(scope.newest(FollowUp.contacted_at, FollowUp.area_code)),
        Layer.alerts: Updated(scope.newest(Alert.opened_at, Alert.area_code)),
    }


def _beds(session: Session, scope: _Scope) -> dict[Layer, Updated]:
    """Beds and ICU beds from the latest capacity report of each facility."""
    facilities = dict(
        session.execute(
            select(Facility.id, Facility.area_code).where(
                codes.in_subtree(Facility.area_code, scope.prefix)
            )
        ).all()
    )
    reports = latest_capacity(session, list(facilities))
    if not reports:
        return {}
    for row in scope.rows:
        row.beds_total = row.beds_occupied = row.icu_total = row.icu_occupied = 0
    for report in reports.values():
        for row in scope.owners(facilities[report.facility_id]):
            row.beds_total = (row.beds_total or 0) + (report.beds_total or 0)
            row.beds_occupied = (row.beds_occupied or 0) + (report.beds_occupied or 0)
            row.icu_total = (row.icu_total or 0) + (report.icu_total or 0)
            row.icu_occupied = (row.icu_occupied or 0) + (report.icu_occupied or 0)
    times = [r.reported_at for r in reports.values()]
    return {Layer.beds: Updated(max(times), min(times), stale=sum(1 for t in times if is_stale(t)))}


def _stock(session: Session, scope: _Scope) -> dict[Layer, Updated]:
    """Facility × item rows below their reserve target, and the facilities short."""
    stock = reserve.below_target(session=session, actor=scope.actor, prefix=scope.prefix)
    if not stock.rows:
        return {}
    short: dict[str, set[int]] = defaultdict(set)
    for row in scope.rows:
        row.stock_short = 0
    for facility_id, area_code in stock.short:
        for row in scope.owners(area_code):
            row.stock_short = (row.stock_short or 0) + 1
            short[row.code].add(facility_id)
    for row in scope.rows:
        row.short_facilities = len(short[row.code])
    return {Layer.stock: Updated(stock.newest, stale=stock.stale)}


def _peak(session: Session, scope: _Scope) -> dict[Layer, Updated]:
    """The adopted forecast's peak date, for the area and each child area."""
    adopted = None
    for row in scope.rows:
        try:
            read = adopted_forecast(session=session, actor=scope.actor, area=row.code)
        except NotFoundError:
            continue
        row.peak = read.peak_date
        if row is scope.top:
            adopted = read
    if adopted is None:
        return {}
    note = (
        _("stale: adopted for %(area)s", area=adopted.adopted_area_name)
        if adopted.stale
        else _("adopted for %(area)s", area=adopted.adopted_area_name)
    )
    return {Layer.peak: Updated(adopted.made_at, note=note)}


def _tasks(session: Session, scope: _Scope) -> tuple[list[Behind], dict[Layer, Updated]]:
    """Leaf tasks open past their deadline, per child area, and the directives behind."""
    late = and_(Task.leaf, Task.status.in_(OPEN_STATUSES), Task.deadline < scope.today)
    under = codes.in_subtree(Task.area_code, scope.prefix)
    if not session.scalar(select(func.count()).where(under, Task.leaf)):
        return [], {}
    scope.top.tasks_late = session.scalar(select(func.count()).where(under, late)) or 0
    for row in scope.kids:
        row.tasks_late = 0
    if scope.width:
        key = func.substr(Task.area_code, 1, scope.width)
        for found, n in session.execute(select(key, func.count()).where(under, late).group_by(key)):
            kid = scope.by_code.get(str(found).ljust(12, "0"))
            if kid is not None:
                kid.tasks_late = n
    behind = directives_behind(session=session, prefix=scope.prefix, today=scope.today)
    return behind, {Layer.tasks: Updated(scope.newest(Task.updated_at, Task.area_code, Task.leaf))}


def directives_behind(*, session: Session, prefix: str, today: date) -> list[Behind]:
    """Directives with leaf tasks under the area open past their deadline, most late first."""
    late = and_(Task.status.in_(OPEN_STATUSES), Task.deadline < today)
    done = Task.status.in_((TaskStatus.done, TaskStatus.verified))
    n_late = func.sum(case((late, 1), else_=0))
    counted = (func.count(), func.sum(case((done, 1), else_=0)), n_late)
    rows = session.execute(
        select(Directive.id, Directive.title, Directive.deadline, *counted)
        .join(Task, Task.directive_id == Directive.id)
        .where(Task.leaf, codes.in_subtree(Task.area_code, prefix))
        .group_by(Directive.id, Directive.title, Directive.deadline)
        .having(n_late > 0)
    ).all()
    found = [Behind(i, t, d, int(n), int(ok or 0), int(lt or 0)) for i, t, d, n, ok, lt in rows]
    return sorted(found, key=lambda b: (-b.late, b.deadline, b.directive_id))


def _store(session: Session, day: date, rows: Sequence[Row], behind: Sequence[Behind]) -> None:
    """The day's first reading stores the figures of the area and its children (a second
    reading, or a race with another process, keeps the first)."""
    have = set(
        session.scalars(
            select(BriefingSnapshot.area_code).where(
                BriefingSnapshot.day == day,
                BriefingSnapshot.area_code.in_([r.code for r in rows]),
            )
        )
    )
    missing = [r for r in rows if r.code not in have]
    if not missing:
        return
    begin_write(session)
    top = rows[0].code
    for row in missing:
        figures = row.figures()
        if row.code == top:
            figures["behind"] = [asdict(b) | {"deadline": b.deadline.isoformat()} for b in behind]
        try:
            with session.begin_nested():
                session.execute(
                    insert(BriefingSnapshot).values(
                        area_code=row.code, day=day, figures=json.dumps(figures), taken_at=utcnow()
                    )
                )
        except IntegrityError:
            continue  # stored meanwhile by another reading


def _stored(
    session: Session, day: date, top: Row, kids: list[Row]
) -> tuple[datetime, list[Behind]]:
    found = {
        s.area_code: s
        for s in session.scalars(
            select(BriefingSnapshot).where(
                BriefingSnapshot.day == day,
                BriefingSnapshot.area_code.in_([top.code, *(r.code for r in kids)]),
            )
        )
    }
    own = found.get(top.code)
    if own is None:
        raise NotFoundError(
            _(
                "no figures of %(area)s were stored on %(day)s (they are stored by the first "
                "reading of each day's overview or briefing)",
                area=top.name,
                day=day,
            )
        )
    stored = json.loads(own.figures)
    top.load(stored)
    for row in kids:
        if row.code in found:
            row.load(json.loads(found[row.code].figures))
    behind = [
        Behind(**(b | {"deadline": date.fromisoformat(b["deadline"])}))
        for b in stored.get("behind", [])
    ]
    return own.taken_at, behind


def _previous(session: Session, day: date, rows: Sequence[Row]) -> dict[str, Row]:
    out: dict[str, Row] = {}
    by_code = {r.code: r for r in rows}
    for s in session.scalars(
        select(BriefingSnapshot).where(
            BriefingSnapshot.day == day, BriefingSnapshot.area_code.in_(list(by_code))
        )
    ):
        base = by_code[s.area_code]
        row = Row(base.code, base.name, base.level)
        row.load(json.loads(s.figures))
        out[s.area_code] = row
    return out
