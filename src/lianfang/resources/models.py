"""Tables of medical resources: facilities, capacity reports, key institutions, pairing, staff,
the item catalogue, the stock ledger with its running balances, and reserve targets."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from lianfang.db.base import Base, ChoiceSet, choice_column
from lianfang.resources.choices import (
    Capability,
    FacilityStatus,
    FacilityType,
    ItemCategory,
    MovementKind,
    StaffMoveKind,
    StaffRole,
)
from lianfang.timeutil import now, utcnow


class Facility(Base):
    """A place that treats, houses, stocks or sells: a hospital, a township health centre, a
    village clinic, a nursing home, a pharmacy, a fever clinic, a testing point, an ambulance
    station or a warehouse. ``code`` is the facility's own stable code (imports match on it)."""

    __tablename__ = "facility"
    __table_args__ = (Index("ix_facility_area_code_type", "area_code", "type"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    type: Mapped[FacilityType] = mapped_column(choice_column(FacilityType, 24))
    area_code: Mapped[str] = mapped_column(String(12), ForeignKey("area.code"))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    address: Mapped[str] = mapped_column(String(200), default="")
    hours: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    capabilities: Mapped[frozenset[Capability]] = mapped_column(
        ChoiceSet(Capability, 100), default=frozenset
    )
    status: Mapped[FacilityStatus] = mapped_column(
        choice_column(FacilityStatus, 10), default=FacilityStatus.open
    )
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)


class FacilityOperator(Base):
    """A user who reports for one facility: a hospital operator reports capacity and stock of
    the facilities they are named for here, and of no other."""

    __tablename__ = "facility_operator"

    facility_id: Mapped[int] = mapped_column(
        ForeignKey("facility.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    area_code: Mapped[str] = mapped_column(String(12))


class CapacityReport(Base):
    """What a facility reported at one moment: beds (general and intensive care, total and
    occupied), fever-clinic visits that day and staff on duty. Reports are a time series; the
    newest is the facility's current figure, stale once older than the configured age."""

    __tablename__ = "capacity_report"
    __table_args__ = (
        Index("ix_capacity_report_facility_id_reported_at", "facility_id", "reported_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id", ondelete="CASCADE"))
    area_code: Mapped[str] = mapped_column(String(12), index=True)
    reported_at: Mapped[datetime] = mapped_column()
    beds_total: Mapped[int | None] = mapped_column(Integer)
    beds_occupied: Mapped[int | None] = mapped_column(Integer)
    icu_total: Mapped[int | None] = mapped_column(Integer)
    icu_occupied: Mapped[int | None] = mapped_column(Integer)
    fever_visits: Mapped[int | None] = mapped_column(Integer)
    staff_on_duty: Mapped[int | None] = mapped_column(Integer)
    username: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Institution(Base):
    """A key institution (重点机构) guarded over the holiday — a nursing home — with its beds,
    residents, residents ill, outbreak state and last inspection."""

    __tablename__ = "institution"

    facility_id: Mapped[int] = mapped_column(
        ForeignKey("facility.id", ondelete="CASCADE"), primary_key=True
    )
    area_code: Mapped[str] = mapped_column(String(12), index=True)
    beds: Mapped[int] = mapped_column(Integer)
    residents: Mapped[int] = mapped_column(Integer)
    residents_ill: Mapped[int] = mapped_column(Integer, default=0)
    last_inspection_on: Mapped[date | None] = mapped_column(Date)
    reported_at: Mapped[datetime] = mapped_column(default=now)


class Pairing(Base):
    """Urban–rural hospital pairing (城乡医院对口帮扶): an urban hospital supports a county
    hospital or a township health centre."""

    __tablename__ = "pairing"
    __table_args__ = (UniqueConstraint("urban_id", "partner_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    urban_id: Mapped[int] = mapped_column(ForeignKey("facility.id", ondelete="CASCADE"))
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("facility.id", ondelete="CASCADE"), index=True
    )
    area_code: Mapped[str] = mapped_column(String(12), index=True)  # the partner's
    since: Mapped[date] = mapped_column(Date)


class StaffStrength(Base):
    """One role's staff at one facility as last reported: how many in all, on duty, off sick,
    infected, back at work after illness; the longest run of consecutive days anyone has worked
    and how many have worked 14 days or more without rest (关心关爱)."""

    __tablename__ = "staff_strength"
    __table_args__ = (UniqueConstraint("facility_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id", ondelete="CASCADE"))
    area_code: Mapped[str] = mapped_column(String(12), index=True)
    role: Mapped[StaffRole] = mapped_column(choice_column(StaffRole, 12))
    total: Mapped[int] = mapped_column(Integer)
    on_duty: Mapped[int] = mapped_column(Integer)
    off_sick: Mapped[int] = mapped_column(Integer, default=0)
    infected: Mapped[int] = mapped_column(Integer, default=0)
    returned: Mapped[int] = mapped_column(Integer, default=0)
    longest_streak_days: Mapped[int] = mapped_column(Integer, default=0)
    over_14_days: Mapped[int] = mapped_column(Integer, default=0)
    reported_at: Mapped[datetime] = mapped_column(default=now)


class StaffMove(Base):
    """A member of staff sent down to a village facility (医疗力量下沉) or reassigned between
    facilities, from one date to another."""

    __tablename__ = "staff_move"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[StaffMoveKind] = mapped_column(choice_column(StaffMoveKind, 12))
    name: Mapped[str] = mapped_column(String(50))
    role: Mapped[StaffRole] = mapped_column(choice_column(StaffRole, 12))
    from_id: Mapped[int] = mapped_column(ForeignKey("facility.id", ondelete="CASCADE"))
    to_id: Mapped[int] = mapped_column(ForeignKey("facility.id", ondelete="CASCADE"), index=True)
    area_code: Mapped[str] = mapped_column(String(12), index=True)  # where they went
    start_on: Mapped[date] = mapped_column(Date)
    end_on: Mapped[date | None] = mapped_column(Date)


class Item(Base):
    """A drug or piece of equipment in the catalogue, counted in one unit (box, kit, device).
    ``per_person`` is how many units cover one person for the population-share reserve rule."""

    __tablename__ = "item"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    unit: Mapped[str] = mapped_column(String(16))
    category: Mapped[ItemCategory] = mapped_column(choice_column(ItemCategory, 16))
    per_person: Mapped[float] = mapped_column(Float, default=1.0)


class StockBalance(Base):
    """How many units of one item one facility holds now: the running sum of its movements,
    changed in the same transaction as each movement (a conditional UPDATE that refuses to go
    below zero), so that reading a balance never sums the ledger."""

    __tablename__ = "stock_balance"
    __table_args__ = (
        CheckConstraint("balance >= 0", name="not_negative"),
        Index("ix_stock_balance_area_code_item_id", "area_code", "item_id"),
    )

    facility_id: Mapped[int] = mapped_column(
        ForeignKey("facility.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), primary_key=True)
    area_code: Mapped[str] = mapped_column(String(12))
    balance: Mapped[int] = mapped_column(Integer, default=0)
    moved_at: Mapped[datetime] = mapped_column()  # the last movement: when stock was reported


class StockMovement(Base):
    """One line of the stock ledger: a receipt, an issue (to a person or a ward), one side of a
    transfer, a count adjustment, or a correction that reverses an earlier line. ``quantity`` is
    signed (in: positive, out: negative); ``balance_after`` is the facility's balance of the
    item once it was applied. Lines are never changed or deleted."""

    __tablename__ = "stock_movement"
    __table_args__ = (
        Index(
            "ix_stock_movement_facility_id_item_id_moved_at", "facility_id", "item_id", "moved_at"
        ),
        # recent use (resources.reserve.recent_use): the window's lines from one index range
        Index(
            "ix_stock_movement_moved_at_area_code",
            "moved_at",
            "area_code",
            "item_id",
            "facility_id",
            "kind",
            "quantity",
            "reverses_id",
        ),
        CheckConstraint("quantity <> 0", name="not_zero"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    area_code: Mapped[str] = mapped_column(String(12), index=True)
    kind: Mapped[MovementKind] = mapped_column(choice_column(MovementKind, 16))
    quantity: Mapped[int] = mapped_column(Integer)
    balance_after: Mapped[int] = mapped_column(Integer)
    counterpart_id: Mapped[int | None] = mapped_column(ForeignKey("facility.id"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    ward: Mapped[str] = mapped_column(String(50), default="")
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("stock_movement.id"), unique=True)
    pair_id: Mapped[int | None] = mapped_column(ForeignKey("stock_movement.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    moved_at: Mapped[datetime] = mapped_column(default=now)
    username: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReserveTarget(Base):
    """A reserve target set for an area (and everything below it) for one item at one type of
    facility, replacing the default of ``resources.policy``: either units per facility or a share
    of the population the facility serves."""

    __tablename__ = "reserve_target"
    __table_args__ = (UniqueConstraint("area_code", "item_id", "facility_type"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    area_code: Mapped[str] = mapped_column(String(12), ForeignKey("area.code"))
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    facility_type: Mapped[FacilityType] = mapped_column(choice_column(FacilityType, 24))
    per_facility: Mapped[int | None] = mapped_column(Integer)
    population_share: Mapped[float | None] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    username: Mapped[str] = mapped_column(String(64))
