"""Importing resources sheets all or nothing: every row is checked and written in one
transaction; any row's problem (a bad cell, an unknown facility, a count outside scope) rejects
the file with row-level errors and writes nothing. A dry run rolls back what it wrote."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.auth import audit
from lianfang.auth.choices import AuditAction
from lianfang.auth.scope import Actor
from lianfang.db.engine import begin_write
from lianfang.errors import ImportRowError, LianfangError
from lianfang.i18n import _
from lianfang.io import sheets
from lianfang.io.sheets import SheetSpec
from lianfang.resources import ledger, service
from lianfang.resources.choices import Capability, FacilityStatus, FacilityType
from lianfang.resources.models import CapacityReport, Facility, StockBalance
from lianfang.resources.schemas import CapacityCreate, FacilityCreate, FacilityUpdate
from lianfang.resources.sheet import CAPACITY, COUNTS, FACILITIES

Row = dict[str, str]


@dataclass
class ImportResult:
    kind: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0  # rows that agree with what is stored (an export imported again)
    dry_run: bool = False


def _choice(kind: type[FacilityType] | type[FacilityStatus] | type[Capability], text: str) -> str:
    for member in kind:
        if text in (member.value, member.zh, member.en):
            return member.value
    raise ValueError(text)


def _number(text: str) -> int | None:
    return int(text) if text else None


def _facility(session: Session, code: str) -> Facility:
    found = session.scalar(select(Facility).where(Facility.code == code))
    if found is None:
        raise LianfangError(_("no facility with code %(code)s", code=code))
    return found


def _facility_row(session: Session, actor: Actor, row: Row, result: ImportResult) -> None:
    caps = [
        _choice(Capability, c.strip()) for c in row.get("capabilities", "").split("、") if c.strip()
    ]
    fields = {
        "name": row["name"], "address": row.get("address", ""), "hours": row.get("hours", ""),
        "phone": row.get("phone", ""), "capabilities": caps,
        "lon": float(row["lon"]) if row.get("lon") else None,
        "lat": float(row["lat"]) if row.get("lat") else None,
    }  # fmt: skip
    if row.get("status"):
        fields["status"] = _choice(FacilityStatus, row["status"])
    existing = session.scalar(select(Facility).where(Facility.code == row["facility_code"]))
    if existing is not None:
        stored = {k: getattr(existing, k) for k in fields}
        stored["capabilities"] = sorted(c.value for c in existing.capabilities)
        fields["capabilities"] = sorted(caps)
        fields = {k: v for k, v in fields.items() if v != stored[k]}
        if not fields:
            result.unchanged += 1
            return
    if existing is None:
        data = FacilityCreate(
            code=row["facility_code"], type=_choice(FacilityType, row["type"]),
            area_code=row["area_code"], **fields,
        )  # fmt: skip
        service.create_facility(session=session, actor=actor, data=data)
        result.created += 1
    else:
        given = {k: v for k, v in fields.items() if v not in (None, "", [])}
        service.update_facility(
            session=session,
            actor=actor,
            facility_id=existing.id,
            data=FacilityUpdate(**given),
        )
        result.updated += 1


def _moment(text: str) -> datetime:
    """A sheet's time (YYYY-MM-DD[ HH:MM], Beijing time unless it says otherwise), in UTC."""
    text = text.replace("T", " ")
    local = datetime.fromisoformat(text if len(text) > 10 else f"{text} 00:00")
    if local.tzinfo is None:
        local = local.replace(tzinfo=timeutil.LOCAL_TZ)
    return local.astimezone(UTC)


MINUTE = timedelta(minutes=1)  # what a sheet's time leaves out


def _capacity_row(session: Session, actor: Actor, row: Row, result: ImportResult) -> None:
    place = _facility(session, row["facility_code"])
    at = _moment(row["reported_at"])
    keys = ("beds_total", "beds_occupied", "icu_total", "icu_occupied", "fever_visits",
            "staff_on_duty")  # fmt: skip
    data = CapacityCreate(**{k: _number(row.get(k, "")) for k in keys})
    same = session.scalars(
        select(CapacityReport).where(
            CapacityReport.facility_id == place.id,
            CapacityReport.reported_at >= at,
            CapacityReport.reported_at < at + MINUTE,
        )
    )
    if any(all(getattr(r, k) == getattr(data, k) for k in keys) for r in same):
        result.unchanged += 1  # this very report is stored already
        return
    service.report_capacity(
        session=session, actor=actor, facility_id=place.id, data=data, reported_at=at
    )
    result.created += 1


def _count_row(session: Session, actor: Actor, row: Row, result: ImportResult) -> None:
    place = _facility(session, row["facility_code"])
    thing = ledger.item_by_code(session, row["item"])
    if row.get("counted_at"):
        at = _moment(row["counted_at"])
        held = session.get(StockBalance, (place.id, thing.id))
        if held is not None and held.balance == int(row["counted"]) and held.moved_at >= at:
            result.unchanged += 1  # agrees, and no newer than what was last reported
            return
    moved = ledger.count(
        session=session, actor=actor, facility_id=place.id, item_id=thing.id,
        counted=int(row["counted"]), note=_("stock count import").in_language("zh"),
    )  # fmt: skip
    if moved is not None:
        result.updated += 1


WRITERS: dict[str, Callable[[Session, Actor, Row, ImportResult], None]] = {
    FACILITIES.name: _facility_row, CAPACITY.name: _capacity_row, COUNTS.name: _count_row,
}  # fmt: skip


def import_table(
    *, session: Session, actor: Actor, spec: SheetSpec, table: sheets.Table, dry_run: bool = False
) -> ImportResult:
    """Check and write every row of a resources sheet, all or nothing."""
    begin_write(session)
    result = ImportResult(kind=spec.name, rows=len(table), dry_run=dry_run)
    errors: list[ImportRowError] = list(table.problems)
    columns = {c.key: table.values(c.key) for c in spec.columns}
    write = WRITERS[spec.name]
    savepoint = session.begin_nested()
    for index in range(len(table)):
        row = {k: (v[index] if v is not None else "") for k, v in columns.items()}
        missing = [c for c in spec.columns if c.required and not row.get(c.key)]
        if missing:
            errors.append(sheets.row_error(table, spec, index, missing[0].key, _("required")))
            continue
        try:
            with session.begin_nested():
                write(session, actor, row, result)
        except LianfangError as error:
            errors.append(sheets.row_error(table, spec, index, spec.columns[0].key, error.text))
        except (ValueError, ValidationError) as error:
            problem = _("cannot read this row: %(problem)s", problem=str(error).splitlines()[0])
            errors.append(sheets.row_error(table, spec, index, spec.columns[0].key, problem))
    if errors:
        savepoint.rollback()
        raise sheets.failed(table, errors)
    if dry_run:
        savepoint.rollback()
        return result
    savepoint.commit()
    audit.record(
        session=session, actor=actor, action=AuditAction.load, entity_type=spec.name,
        detail={"source": table.source, "rows": result.rows, "created": result.created,
                "updated": result.updated},
    )  # fmt: skip
    return result
