"""Tables of duty rosters: who is on duty in an area for a shift, and the notes one shift hands
to the next."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lianfang.db.base import Base, choice_column
from lianfang.duty.choices import DutyRole, Shift
from lianfang.timeutil import utcnow


class DutyShift(Base):
    """One person on duty (值班) for an area — the headquarters of a city, county or town, or a
    village — on a day's shift, as its leader (带班领导) or as staff (值班员), with the phone to
    reach them. ``starts_at``/``ends_at`` are the shift's hours (aware UTC), so that who is on
    duty at a moment is one range query; ``leader_key`` is set for leaders only and is unique, so
    an area's shift has one leader even when two writers race."""

    __tablename__ = "duty_shift"
    __table_args__ = (
        Index("ix_duty_shift_area_code_starts_at", "area_code", "starts_at"),
        Index("ix_duty_shift_starts_at_ends_at", "starts_at", "ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    area_code: Mapped[str] = mapped_column(String(12), ForeignKey("area.code"))
    on_date: Mapped[date] = mapped_column(Date)
    shift: Mapped[Shift] = mapped_column(choice_column(Shift))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    role: Mapped[DutyRole] = mapped_column(choice_column(DutyRole))
    leader_key: Mapped[str | None] = mapped_column(String(40), unique=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("app_user.id", ondelete="SET NULL"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(20), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class DutyHandover(Base):
    """What the outgoing shift of an area hands to the incoming one (交接班记录): open matters,
    calls to return, what to watch. Written by the outgoing person; the incoming person marks it
    read."""

    __tablename__ = "duty_handover"
    __table_args__ = (Index("ix_duty_handover_area_code_on_date", "area_code", "on_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    area_code: Mapped[str] = mapped_column(String(12), ForeignKey("area.code"))
    on_date: Mapped[date] = mapped_column(Date)  # the outgoing shift's day
    shift: Mapped[Shift] = mapped_column(choice_column(Shift))  # the outgoing shift
    text: Mapped[str] = mapped_column(Text)
    written_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    written_by_name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    read_by_name: Mapped[str | None] = mapped_column(String(100))
    read_at: Mapped[datetime | None]
