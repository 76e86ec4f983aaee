"""What the resources API takes. Every body that writes is a strict ``WriteSchema``; read
schemas are built from the domain's read models (``resources.views``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field, model_validator

from lianfang.ids import RecordId
from lianfang.resources.choices import (
    Capability,
    FacilityStatus,
    FacilityType,
    ItemCategory,
    MovementKind,
    StaffMoveKind,
    StaffRole,
)
from lianfang.schemas import WriteSchema

if TYPE_CHECKING:
    from lianfang.resources.models import (
        CapacityReport,
        Facility,
        Institution,
        Item,
        Pairing,
        ReserveTarget,
        StaffMove,
        StaffStrength,
        StockMovement,
    )
    from lianfang.resources.reserve import Reserve, StockRow
    from lianfang.resources.views import FacilityRow

Count = Field(None, ge=0, le=1_000_000)


class FacilityCreate(WriteSchema):
    """A facility to register."""

    code: str = Field(
        min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.-]+$",
        description="the facility's own stable code (imports match on it)",
    )  # fmt: skip
    name: str = Field(min_length=1, max_length=100)
    type: FacilityType
    area_code: str = Field(min_length=2, max_length=12, description="area code (any form)")
    lon: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)
    address: str = Field("", max_length=200)
    hours: str = Field("", max_length=100, description="opening hours, e.g. 08:00-17:00")
    phone: str = Field("", max_length=20)
    capabilities: list[Capability] = Field(default_factory=list)
    status: FacilityStatus = FacilityStatus.open


class FacilityUpdate(WriteSchema):
    """Fields to change; those left out stay as they are."""

    name: str | None = Field(None, min_length=1, max_length=100)
    lon: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)
    address: str | None = Field(None, max_length=200)
    hours: str | None = Field(None, max_length=100)
    phone: str | None = Field(None, max_length=20)
    capabilities: list[Capability] | None = None
    status: FacilityStatus | None = None


class CapacityCreate(WriteSchema):
    """A capacity report: any figures the facility has; at least one."""

    beds_total: int | None = Count
    beds_occupied: int | None = Count
    icu_total: int | None = Count
    icu_occupied: int | None = Count
    fever_visits: int | None = Count
    staff_on_duty: int | None = Count

    @model_validator(mode="after")
    def _consistent(self) -> CapacityCreate:
        if all(v is None for v in self.model_dump().values()):
            raise ValueError("a capacity report needs at least one figure")
        for total, used in (("beds_total", "beds_occupied"), ("icu_total", "icu_occupied")):
            t, u = getattr(self, total), getattr(self, used)
            if t is not None and u is not None and u > t:
                raise ValueError(f"{used} ({u}) is more than {total} ({t})")
        return self


class MovementCreate(WriteSchema):
    """A stock movement at a facility: a receipt, an issue (to a person or a ward), a transfer
    to another facility, or a count (the number counted; the difference is booked)."""

    kind: str = Field(pattern="^(receipt|issue|transfer|count)$")
    item_id: RecordId
    quantity: int = Field(ge=0, le=10_000_000, description="units; for a count, the number counted")
    person_id: RecordId | None = None
    ward: str = Field("", max_length=50)
    to_facility_id: RecordId | None = Field(None, description="a transfer's receiving facility")
    note: str = Field("", max_length=500)


class CorrectionCreate(WriteSchema):
    """The counter-movement of a mistaken line, with the reason."""

    note: str = Field(min_length=2, max_length=500)


class InstitutionWrite(WriteSchema):
    """A key institution's state (a nursing home): beds, residents, ill, last inspection."""

    beds: int = Field(ge=0, le=100_000)
    residents: int = Field(ge=0, le=100_000)
    residents_ill: int = Field(0, ge=0, le=100_000)
    last_inspection_on: date | None = None

    @model_validator(mode="after")
    def _consistent(self) -> InstitutionWrite:
        if self.residents_ill > self.residents:
            raise ValueError("residents_ill is more than residents")
        return self


class StaffWrite(WriteSchema):
    """One role's staff at a facility, as counted today."""

    role: StaffRole
    total: int = Field(ge=0, le=100_000)
    on_duty: int = Field(ge=0, le=100_000)
    off_sick: int = Field(0, ge=0, le=100_000)
    infected: int = Field(0, ge=0, le=100_000)
    returned: int = Field(0, ge=0, le=100_000)
    longest_streak_days: int = Field(0, ge=0, le=366)
    over_14_days: int = Field(0, ge=0, le=100_000)

    @model_validator(mode="after")
    def _consistent(self) -> StaffWrite:
        if self.on_duty + self.off_sick > self.total:
            raise ValueError("on_duty + off_sick is more than total")
        if self.over_14_days > self.total:
            raise ValueError("over_14_days is more than total")
        return self


class StaffMoveCreate(WriteSchema):
    """Someone sent down to a village facility, or reassigned, from one date to another."""

    kind: StaffMoveKind
    name: str = Field(min_length=1, max_length=50)
    role: StaffRole
    to_facility_id: RecordId
    start_on: date
    end_on: date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> StaffMoveCreate:
        if self.end_on is not None and self.end_on < self.start_on:
            raise ValueError("end_on is before start_on")
        return self


class PairingCreate(WriteSchema):
    """An urban hospital paired with a county hospital or township health centre."""

    partner_id: RecordId
    since: date


class TargetWrite(WriteSchema):
    """An area's own reserve target for one item at one type of facility: units per facility or
    a share (0–1) of the population served."""

    area_code: str = Field(min_length=2, max_length=12)
    item_id: RecordId
    facility_type: FacilityType
    per_facility: int | None = Field(None, ge=0, le=1_000_000)
    population_share: float | None = Field(None, ge=0, le=1)

    @model_validator(mode="after")
    def _one(self) -> TargetWrite:
        if (self.per_facility is None) == (self.population_share is None):
            raise ValueError("give either per_facility or population_share")
        return self


class OperatorCreate(WriteSchema):
    """A user named operator of a facility (a hospital operator reports for it)."""

    user_id: RecordId


class SourceRead(BaseModel):
    """The nearest open facility with a surplus of the item that could transfer."""

    facility_id: int
    name: str
    surplus: int
    km: float


class StockRowRead(BaseModel):
    """One facility's stock of one item against its reserve target."""

    facility_id: int
    facility: str
    facility_type: FacilityType
    area_code: str
    item: str
    item_name: str
    unit: str
    balance: int
    reported_at: datetime | None
    stale: bool = Field(description="last movement or count older than the stale_hours setting")
    per_day: float | None = Field(description="units a day: recent use or forecast demand")
    days_of_supply: float | None
    target: int | None
    shortfall: int
    nearest_source: SourceRead | None

    @classmethod
    def of(cls, row: StockRow) -> StockRowRead:
        source = row.source
        return cls(
            facility_id=row.facility.id, facility=row.facility.name,
            facility_type=row.facility.type, area_code=row.facility.area_code,
            item=row.item.code, item_name=row.item.name, unit=row.item.unit,
            balance=row.balance, reported_at=row.moved_at, stale=row.stale,
            per_day=None if row.per_day is None else round(row.per_day, 2),
            days_of_supply=None if row.days is None else round(row.days, 1),
            target=row.target, shortfall=row.shortfall,
            nearest_source=None if source is None else SourceRead(
                facility_id=source.facility_id, name=source.name, surplus=source.surplus,
                km=source.km,
            ),
        )  # fmt: skip


class ReserveRead(BaseModel):
    """An area's reserve: its stock rows (or only those below target), a page of them."""

    area_code: str
    area: str
    total: int = Field(description="rows in all (below target only, with short=true)")
    offset: int
    rows: list[StockRowRead]

    @classmethod
    def of(
        cls, read: Reserve, short_only: bool = False, offset: int = 0, limit: int | None = None
    ) -> ReserveRead:
        if short_only:
            rows, total = read.short_rows(limit, offset), read.short_count
        else:
            rows, total = read.rows_page(offset, limit), read.row_count
        return cls(area_code=read.area.code, area=read.area.name, total=total, offset=offset,
                   rows=[StockRowRead.of(r) for r in rows])  # fmt: skip


class CapacityRead(BaseModel):
    """One capacity report, with when it was reported and whether that is stale."""

    id: int
    facility_id: int
    reported_at: datetime
    stale: bool = Field(description="older than the stale_hours setting")
    beds_total: int | None
    beds_occupied: int | None
    icu_total: int | None
    icu_occupied: int | None
    fever_visits: int | None
    staff_on_duty: int | None
    username: str

    @classmethod
    def of(cls, r: CapacityReport, now: datetime | None = None) -> CapacityRead:
        from lianfang.resources.service import is_stale

        return cls(
            id=r.id, facility_id=r.facility_id, reported_at=r.reported_at,
            stale=is_stale(r.reported_at, now), beds_total=r.beds_total,
            beds_occupied=r.beds_occupied, icu_total=r.icu_total, icu_occupied=r.icu_occupied,
            fever_visits=r.fever_visits, staff_on_duty=r.staff_on_duty, username=r.username,
        )  # fmt: skip


class FacilityRead(BaseModel):
    """A facility with its newest capacity report and when its stock was last reported."""

    id: int
    code: str
    name: str
    type: FacilityType
    area_code: str
    lon: float | None
    lat: float | None
    address: str
    hours: str
    phone: str
    capabilities: list[Capability]
    status: FacilityStatus
    capacity: CapacityRead | None
    capacity_stale: bool | None = Field(
        description="no capacity report within stale_hours (null: a type that reports none)"
    )
    stock_reported_at: datetime | None
    stock_stale: bool | None = Field(description="null: holds no stock")

    @classmethod
    def of(cls, row: FacilityRow) -> FacilityRead:
        f = row.facility
        return cls(
            id=f.id, code=f.code, name=f.name, type=f.type, area_code=f.area_code, lon=f.lon,
            lat=f.lat, address=f.address, hours=f.hours, phone=f.phone,
            capabilities=sorted(f.capabilities, key=list(Capability).index), status=f.status,
            capacity=CapacityRead.of(row.capacity) if row.capacity else None,
            capacity_stale=row.capacity_stale, stock_reported_at=row.stock_at,
            stock_stale=row.stock_stale,
        )  # fmt: skip


class FacilityPage(BaseModel):
    """One page of facilities, by area and name."""

    items: list[FacilityRead]
    total: int
    offset: int
    limit: int


class ItemRead(BaseModel):
    """An item of the catalogue."""

    id: int
    code: str
    name: str
    unit: str
    category: ItemCategory

    @classmethod
    def of(cls, i: Item) -> ItemRead:
        return cls(id=i.id, code=i.code, name=i.name, unit=i.unit, category=i.category)


class MovementRead(BaseModel):
    """One line of the stock ledger (signed quantity, balance after it)."""

    id: int
    facility_id: int
    area_code: str
    item_id: int
    item: str
    kind: MovementKind
    quantity: int
    balance_after: int
    counterpart_id: int | None
    person_id: int | None
    ward: str
    reverses_id: int | None
    pair_id: int | None
    corrected: bool = Field(description="a correction has reversed this line")
    note: str
    moved_at: datetime
    username: str

    @classmethod
    def of(cls, m: StockMovement, code: str, corrected: bool = False) -> MovementRead:
        return cls(
            id=m.id, facility_id=m.facility_id, area_code=m.area_code, item_id=m.item_id,
            item=code, kind=m.kind, quantity=m.quantity, balance_after=m.balance_after,
            counterpart_id=m.counterpart_id, person_id=m.person_id, ward=m.ward,
            reverses_id=m.reverses_id, pair_id=m.pair_id, corrected=corrected, note=m.note,
            moved_at=m.moved_at, username=m.username,
        )  # fmt: skip


class StaffRead(BaseModel):
    """One role's staff strength at a facility."""

    id: int
    facility_id: int
    area_code: str
    role: StaffRole
    total: int
    on_duty: int
    off_sick: int
    infected: int
    returned: int
    longest_streak_days: int
    over_14_days: int
    reported_at: datetime
    stale: bool

    @classmethod
    def of(cls, s: StaffStrength) -> StaffRead:
        from lianfang.resources.service import is_stale

        return cls(
            id=s.id, facility_id=s.facility_id, area_code=s.area_code, role=s.role,
            total=s.total, on_duty=s.on_duty, off_sick=s.off_sick, infected=s.infected,
            returned=s.returned, longest_streak_days=s.longest_streak_days,
            over_14_days=s.over_14_days, reported_at=s.reported_at,
            stale=is_stale(s.reported_at),
        )  # fmt: skip


class StaffMoveRead(BaseModel):
    """Someone sent down or reassigned: from where to where, from when to when."""

    id: int
    kind: StaffMoveKind
    name: str
    role: StaffRole
    from_id: int
    from_name: str
    to_id: int
    to_name: str
    area_code: str
    start_on: date
    end_on: date | None

    @classmethod
    def of(cls, m: StaffMove, origin: Facility, target: Facility) -> StaffMoveRead:
        return cls(
            id=m.id, kind=m.kind, name=m.name, role=m.role, from_id=origin.id,
            from_name=origin.name, to_id=target.id, to_name=target.name, area_code=m.area_code,
            start_on=m.start_on, end_on=m.end_on,
        )  # fmt: skip


class InstitutionRead(BaseModel):
    """A key institution (nursing home): beds, residents, ill, outbreak, last inspection."""

    facility_id: int
    name: str
    area_code: str
    status: FacilityStatus
    beds: int
    residents: int
    residents_ill: int
    last_inspection_on: date | None
    reported_at: datetime
    stale: bool

    @classmethod
    def of(cls, i: Institution, f: Facility) -> InstitutionRead:
        from lianfang.resources.service import is_stale

        return cls(
            facility_id=f.id, name=f.name, area_code=i.area_code, status=f.status, beds=i.beds,
            residents=i.residents, residents_ill=i.residents_ill,
            last_inspection_on=i.last_inspection_on, reported_at=i.reported_at,
            stale=is_stale(i.reported_at),
        )  # fmt: skip


class PairingRead(BaseModel):
    """An urban hospital supporting a county hospital or township health centre."""

    id: int
    urban_id: int
    urban: str
    partner_id: int
    partner: str
    area_code: str
    since: date

    @classmethod
    def of(cls, p: Pairing, urban: Facility, partner: Facility) -> PairingRead:
        return cls(
            id=p.id, urban_id=urban.id, urban=urban.name, partner_id=partner.id,
            partner=partner.name, area_code=p.area_code, since=p.since,
        )  # fmt: skip


class TargetRead(BaseModel):
    """An area's own reserve target for one item at one type of facility."""

    id: int
    area_code: str
    item_id: int
    item: str
    facility_type: FacilityType
    per_facility: int | None
    population_share: float | None
    username: str

    @classmethod
    def of(cls, t: ReserveTarget, i: Item) -> TargetRead:
        return cls(
            id=t.id, area_code=t.area_code, item_id=i.id, item=i.code,
            facility_type=t.facility_type, per_facility=t.per_facility,
            population_share=t.population_share, username=t.username,
        )  # fmt: skip


class OperatorRead(BaseModel):
    """A user named operator of a facility."""

    facility_id: int
    user_id: int
    username: str
    display_name: str
    area_code: str
