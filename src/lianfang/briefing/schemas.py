"""What the API answers about an area's situation (the briefing's read model as JSON)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from lianfang.areas.choices import AreaLevel
from lianfang.briefing.choices import Layer
from lianfang.briefing.read import FIGURES, Behind, Briefing, Row, Updated
from lianfang.briefing.render import share_change
from lianfang.briefing.tonight import DutyRow, Person
from lianfang.duty.choices import Shift

CHANGED = ("followed", "all_four", "overdue", "alerts", "beds_occupied", "icu_occupied",
           "stock_short", "tasks_late")  # fmt: skip
"""The figures whose change since yesterday a row states."""


class FiguresRead(BaseModel):
    """One area's figures; null where its domain has nothing here or your role may not read it."""

    code: str = Field(description="12-digit area code")
    name: str
    level: AreaLevel
    lon: float | None = None
    lat: float | None = None
    followed: int | None = Field(None, description="red and yellow key people")
    all_four: int | None = Field(None, description="of them, reached by all four guarantees")
    coverage: float | None = Field(None, description="all_four / followed")
    overdue: int | None = Field(None, description="follow-ups past their due date")
    alerts: int | None = Field(None, description="open referral alerts")
    beds_total: int | None = None
    beds_occupied: int | None = None
    beds_share: float | None = None
    icu_total: int | None = None
    icu_occupied: int | None = None
    icu_share: float | None = None
    stock_short: int | None = Field(None, description="facility × item rows below target")
    short_facilities: int | None = None
    peak: date | None = Field(None, description="the adopted forecast's peak date")
    tasks_late: int | None = Field(None, description="leaf tasks open past their deadline")
    changes: dict[str, float | None] = Field(
        default_factory=dict,
        description="today's figure less yesterday's stored one (null when either is missing); "
        "`coverage` in shares",
    )

    @classmethod
    def of(cls, row: Row) -> FiguresRead:
        changes = {name: row.change(name) for name in CHANGED} if row.previous else {}
        if row.previous:
            changes["coverage"] = share_change(row)
        return cls(
            code=row.code, name=row.name, level=row.level, lon=row.lon, lat=row.lat,
            **{name: getattr(row, name) for name in FIGURES},
            coverage=row.coverage, beds_share=row.beds_share, icu_share=row.icu_share,
            changes=changes,
        )  # fmt: skip


class BehindRead(BaseModel):
    directive_id: int
    title: str
    deadline: date
    total: int = Field(description="its leaf tasks under the area")
    done: int
    late: int

    @classmethod
    def of(cls, b: Behind) -> BehindRead:
        return cls(directive_id=b.directive_id, title=b.title, deadline=b.deadline,
                   total=b.total, done=b.done, late=b.late)  # fmt: skip


class UpdatedRead(BaseModel):
    layer: Layer
    newest: datetime | None = Field(description="the newest record behind the layer")
    oldest: datetime | None = Field(None, description="beds: the oldest of the latest reports")
    stale: int = Field(0, description="reports or stock rows older than the stale age")
    note: str | None = None

    @classmethod
    def of(cls, layer: Layer, u: Updated) -> UpdatedRead:
        return cls(layer=layer, newest=u.newest, oldest=u.oldest, stale=u.stale,
                   note=str(u.note) if u.note else None)  # fmt: skip


class OnDutyRead(BaseModel):
    name: str
    phone: str = Field(description="masked unless your role may reveal personal data")
    shift: Shift
    hours: str = Field(description="local start–end, e.g. 20:00–08:00")

    @classmethod
    def of(cls, p: Person) -> OnDutyRead:
        return cls(name=p.name, phone=p.phone, shift=p.shift, hours=p.hours)


class DutyRowRead(BaseModel):
    code: str
    name: str
    leaders: list[OnDutyRead]
    staff: list[OnDutyRead]

    @classmethod
    def of(cls, d: DutyRow) -> DutyRowRead:
        return cls(code=d.code, name=d.name, leaders=[OnDutyRead.of(p) for p in d.leaders],
                   staff=[OnDutyRead.of(p) for p in d.staff])  # fmt: skip


class BriefingRead(BaseModel):
    """An area's situation on a day: its figures, each child area's worst first, the
    directives behind schedule and when each layer's data was last updated."""

    day: date
    live: bool = Field(description="today's live figures (else those stored on `day`)")
    taken_at: datetime | None = Field(description="when a past day's figures were stored")
    compared: bool = Field(description="yesterday's figures were stored: changes are given")
    layers: list[Layer] = Field(description="the layers your role may read")
    area: FiguresRead
    rows: list[FiguresRead] = Field(description="child areas, worst first")
    behind: list[BehindRead]
    updated: list[UpdatedRead]
    duty: list[DutyRowRead] | None = Field(
        description="on duty at 22:00 of the day, the area then each child area (null without "
        "dispatch.read)"
    )

    @classmethod
    def of(cls, b: Briefing) -> BriefingRead:
        return cls(
            day=b.day, live=b.live, taken_at=b.taken_at, compared=b.compared, layers=b.layers,
            area=FiguresRead.of(b.area), rows=[FiguresRead.of(r) for r in b.rows],
            behind=[BehindRead.of(d) for d in b.behind],
            updated=[UpdatedRead.of(layer, u) for layer, u in b.updated.items()],
            duty=None if b.duty is None else [DutyRowRead.of(d) for d in b.duty],
        )  # fmt: skip
