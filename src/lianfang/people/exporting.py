"""Exports of filtered people lists (masked unless revealed with a reason) and the error
workbooks of rejected imports, kept for their uploader to download."""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta

import pyarrow as pa
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, joinedload

from lianfang import timeutil
from lianfang.areas import codes
from lianfang.areas import service as areas
from lianfang.auth import audit
from lianfang.auth.choices import AuditAction, Permission
from lianfang.auth.scope import Actor
from lianfang.db.engine import begin_write
from lianfang.errors import ImportFileError, InvalidInputError, NotFoundError
from lianfang.io import sheets, workbooks
from lianfang.people import identity, service
from lianfang.people.choices import Condition, Guarantee
from lianfang.people.models import ImportReport, Person
from lianfang.people.service import PeopleFilter
from lianfang.people.sheet import CONDITION_KEY, SPEC, day, label, labels, yes_no

REPORT_DAYS = 7
BATCH = 2000


def cells(person: Person, village: str, today: date, reveal: bool) -> list[str]:
    """A person as one row of the people sheet (ID and phones masked and the birth date left
    out unless revealed; the age is always there)."""
    responsible = person.responsible
    met = {s.guarantee: s.met for s in service.guarantee_states(person, today)}
    shown_id = person.id_number if reveal else identity.mask_id(person.id_number)

    def phone(value: str) -> str:
        return value if reveal or not value else identity.mask_phone(value)

    values: dict[str, str] = {
        "name": person.name, "id_number": shown_id, "sex": label(person.sex),
        "birth_date": day(person.birth_date) if reveal else "",
        "age": str(identity.age_on(person.birth_date, today)), "phone": phone(person.phone),
        "area_code": person.area_code, "village": village, "address": person.address,
        "living": label(person.living), "vaccine_doses": str(person.vaccine_doses),
        "last_dose_on": day(person.last_dose_on), "arrived_on": day(person.arrived_on),
        "groups": labels(person.groups), "followup_opt_in": yes_no(person.followup_opt_in),
        "responsible": responsible.name if responsible else "",
        "responsible_kind": label(responsible.kind) if responsible else "",
        "responsible_phone": phone(responsible.phone) if responsible else "",
        "kit_grade": label(person.kit_grade), "kit_on": day(person.kit_on),
        "hospital": person.hospital, "hospital_capabilities": labels(person.hospital_capabilities),
        "grade": label(person.grade), "grade_method": label(person.grade_method),
        "last_contact": timeutil.format_local(person.last_contact_at)
        if person.last_contact_at else "",
        "due_on": day(person.due_on),
    } | {
        g.value: yes_no(met[g]) if person.grade.followed else "" for g in Guarantee
    } | {
        CONDITION_KEY + c.value: label(person.conditions[c]) if c in person.conditions else ""
        for c in Condition
    }  # fmt: skip
    return [values[c.key] for c in SPEC.columns]


def _local_day(moment: datetime | None) -> date | None:
    return timeutil.local(moment).date() if moment else None


def export(
    *, session: Session, actor: Actor, f: PeopleFilter, file_format: str = "xlsx",
    reveal: bool = False, reason: str = "",
) -> tuple[bytes, int]:  # fmt: skip
    """A file of the people matching a filter, and how many rows it holds; masked unless
    ``reveal`` (which needs the permission and a reason, and is audited as a reveal)."""
    actor.require(Permission.people_export)
    if reveal:
        actor.require(Permission.pii_reveal)
        if len(reason.strip()) < service.MIN_REASON:
            raise InvalidInputError(
                "导出完整信息须说明理由（至少4个字）", "an unmasked export needs a reason"
            )
    if file_format not in ("xlsx", "csv"):
        raise InvalidInputError("导出格式应为 xlsx 或 csv", "the format must be xlsx or csv")
    rows = list(_rows(session, actor, f, reveal))
    data = workbooks.export(SPEC, rows) if file_format == "xlsx" else sheets.write_csv(SPEC, rows)
    begin_write(session)  # a GET reads first: the audit row is a short write of its own
    audit.record(
        session=session, actor=actor, action=AuditAction.reveal if reveal else AuditAction.export,
        entity_type="person", area_code=f.area,
        detail={"rows": len(rows), "format": file_format, "masked": not reveal,
                "reason": reason.strip() or None, "filter": _described(f)},
    )  # fmt: skip
    return data, len(rows)


def _rows(session: Session, actor: Actor, f: PeopleFilter, reveal: bool) -> Iterator[list[str]]:
    today = timeutil.today()
    names = areas.names_below(session=session, prefix=codes.short(f.area))
    statement = service.query(actor, f, today).options(joinedload(Person.responsible))
    for person in session.scalars(statement.execution_options(yield_per=BATCH)):
        yield cells(person, names.get(person.area_code, ""), today, reveal)


def _described(f: PeopleFilter) -> dict[str, object]:
    return {"area": f.area, "grades": sorted(f.grades), "missing": f.missing, "overdue": f.overdue,
            "alert_open": f.alert_open, "q": _shown_query(f.q)}  # fmt: skip


def _shown_query(q: str) -> str | None:
    """A search as the audit log keeps it: an ID number masked."""
    number = service.id_query(q)
    return identity.mask_id(number) if number else q.strip() or None


def keep_report(
    *, session: Session, actor: Actor, error: ImportFileError, table: sheets.Table
) -> str:
    """Store the error workbook of a rejected import for its uploader; return its token."""
    session.execute(
        delete(ImportReport).where(
            ImportReport.created_at < timeutil.utcnow() - timedelta(days=REPORT_DAYS)
        )
    )
    token = secrets.token_urlsafe(16)
    session.add(ImportReport(
        token=token, username=actor.username, source=table.source,
        content=workbooks.errors(shown_to(actor, table), error.rows),
    ))  # fmt: skip
    session.flush()
    return token


def _left_out(_: str) -> str:
    return ""


MASKED_CELLS: dict[str, Callable[[str], str]] = {
    "id_number": identity.mask_id, "phone": identity.mask_phone,
    "responsible_phone": identity.mask_phone, "birth_date": _left_out,
}  # fmt: skip


def shown_to(actor: Actor, table: sheets.Table) -> sheets.Table:
    """A table as its uploader may see it again: as it was for someone who may reveal; else with
    ID numbers and phones masked and birth dates left out, as every masked output."""
    if actor.can(Permission.pii_reveal):
        return table
    columns = list(table.columns)
    for key, index in table.keys.items():
        mask = MASKED_CELLS.get(key)
        if mask is not None:
            cells = columns[index].to_pylist()
            columns[index] = pa.array([mask(c) if c else c for c in cells], pa.string())
    return dataclasses.replace(table, columns=columns, _lists={})


def report(*, session: Session, actor: Actor, token: str) -> ImportReport:
    """An error workbook kept for the user who uploaded the file."""
    found = session.scalar(select(ImportReport).where(ImportReport.token == token))
    if found is None or found.username != actor.username:
        raise NotFoundError("错误报告不存在或已过期", "no such error report (they are kept 7 days)")
    return found
