"""What the duty API reads and writes: duty shifts, who is on duty now, handover notes."""

from __future__ import annotations

from datetime import date, datetime, time

from fastapi import UploadFile
from pydantic import BaseModel, ConfigDict, Field

from lianfang import timeutil
from lianfang.auth.scope import Actor
from lianfang.duty import service
from lianfang.duty.choices import DutyRole, Shift
from lianfang.duty.importing import ImportResult
from lianfang.duty.models import DutyHandover, DutyShift
from lianfang.ids import RecordId
from lianfang.schemas import WriteSchema


class DutyShiftUpdate(WriteSchema):
    """What to change of a duty shift; fields left out stay as they are."""

    area_code: str | None = Field(None, max_length=12, description="area code (any form)")
    on_date: date | None = None
    shift: Shift | None = None
    role: DutyRole | None = None
    name: str | None = Field(None, max_length=service.NAME_MAX)
    user_id: RecordId | None = Field(None, description="the person's account, if they have one")
    phone: str | None = Field(None, max_length=service.PHONE_MAX)
    note: str | None = Field(None, max_length=service.NOTE_MAX)
    start: time | None = Field(None, description="own hours instead of the shift's usual ones")
    end: time | None = Field(None, description="not after the start means the next day")

    def data(self) -> service.ShiftIn:
        return service.ShiftIn(**self.model_dump(exclude_unset=True))


class DutyShiftCreate(DutyShiftUpdate):
    """A person to put on duty in an area for a day's shift."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "area_code": "320623",
                    "on_date": "2023-01-12",
                    "shift": "night",
                    "role": "leader",
                    "name": "陈建国",
                    "phone": "13912340001",
                }
            ]
        }
    )

    area_code: str = Field(max_length=12, description="area code (any form)")
    on_date: date
    shift: Shift
    role: DutyRole


class DutyShiftRead(BaseModel):
    """A person on duty; the phone is masked unless you may reveal personal data."""

    id: int
    area_code: str
    on_date: date
    shift: Shift
    role: DutyRole
    starts_at: datetime
    ends_at: datetime
    user_id: int | None
    name: str
    phone: str
    note: str

    @classmethod
    def of(cls, row: DutyShift, actor: Actor) -> DutyShiftRead:
        return cls(
            id=row.id, area_code=row.area_code, on_date=row.on_date, shift=row.shift,
            role=row.role, starts_at=row.starts_at, ends_at=row.ends_at, user_id=row.user_id,
            name=row.name, phone=service.shown_phone(actor, row.phone), note=row.note,
        )  # fmt: skip


class HandoverCreate(WriteSchema):
    """The outgoing shift's note to the incoming one."""

    area_code: str = Field(max_length=12, description="area code (any form)")
    on_date: date = Field(description="the outgoing shift's day")
    shift: Shift = Field(description="the outgoing shift")
    text: str = Field(min_length=1, max_length=service.HANDOVER_MAX)


class HandoversRead(WriteSchema):
    """Handover notes the incoming person has read."""

    ids: list[RecordId] = Field(min_length=1, max_length=100)


class HandoverRead(BaseModel):
    id: int
    area_code: str
    on_date: date
    shift: Shift
    text: str
    written_by_name: str
    created_at: datetime
    read_by_name: str | None
    read_at: datetime | None

    @classmethod
    def of(cls, row: DutyHandover) -> HandoverRead:
        return cls(
            id=row.id, area_code=row.area_code, on_date=row.on_date, shift=row.shift,
            text=row.text, written_by_name=row.written_by_name, created_at=row.created_at,
            read_by_name=row.read_by_name, read_at=row.read_at,
        )  # fmt: skip


class OnDutyRead(BaseModel):
    """Who is on duty for an area at a moment. ``source_code`` is the area whose roster
    answered: the area itself, or the nearest above with someone on duty (``fallback``)."""

    area_code: str
    area_name: str
    at: datetime
    at_local: str
    source_code: str | None
    source_name: str | None
    fallback: bool
    shifts: list[DutyShiftRead]
    handover: HandoverRead | None

    @classmethod
    def of(cls, found: service.OnDuty, actor: Actor) -> OnDutyRead:
        return cls(
            area_code=found.area.code, area_name=found.area.name, at=found.at,
            at_local=f"{timeutil.local(found.at):%Y-%m-%d %H:%M}",
            source_code=found.source.code if found.source else None,
            source_name=found.source.name if found.source else None, fallback=found.fallback,
            shifts=[DutyShiftRead.of(s, actor) for s in found.shifts],
            handover=HandoverRead.of(found.handover) if found.handover else None,
        )  # fmt: skip


class DutyImportOptions(WriteSchema):
    """A duty-roster sheet to import, and whether only to check it."""

    file: UploadFile = Field(description="the filled-in template, .xlsx or .csv")
    dry_run: bool = Field(False, description="check only, write nothing")


class DutyImportRead(BaseModel):
    """What an import did (or, for a dry run, would do)."""

    rows: int
    created: int
    updated: int
    dry_run: bool

    @classmethod
    def of(cls, result: ImportResult) -> DutyImportRead:
        return cls(rows=result.rows, created=result.created, updated=result.updated,
                   dry_run=result.dry_run)  # fmt: skip
