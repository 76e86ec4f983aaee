"""Exports of filtered people lists (masked unless revealed with a reason) and the error
workbooks of rejected imports, kept for their uploader to download."""

from __future__ import annotations

import dataclasses
import json
import secrets
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta

import pyarrow as pa
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, joinedload, sessionmaker

from lianfang import timeutil
from lianfang.areas import codes
from lianfang.areas import service as areas
from lianfang.auth import audit
from lianfang.auth import service as auth
from lianfang.auth.choices import AuditAction, Permission
from lianfang.auth.models import User
from lianfang.auth.scope import Actor
from lianfang.db.engine import begin_write, transaction
from lianfang.errors import ImportFileError, InvalidInputError, NotFoundError
from lianfang.i18n import _
from lianfang.io import sheets, workbooks
from lianfang.people import hospitals, identity, service
from lianfang.people.choices import Condition, ExportStatus, Grade, Guarantee
from lianfang.people.models import ExportJob, ImportReport, Person
from lianfang.people.service import PeopleFilter
from lianfang.people.sheet import CONDITION_KEY, SPEC, day, label, labels, yes_no
from lianfang.resources.models import Facility

REPORT_DAYS = 7
BATCH = 2000
FORMATS = ("xlsx", "csv")
KEEP_HOURS = 24.0
"""How long a background export is kept for its requester (the setting's default)."""


def cells(
    person: Person, village: str, today: date, reveal: bool, places: Mapping[int, Facility]
) -> list[str]:
    """A person as one row of the people sheet (ID and phones masked and the birth date left
    out unless revealed; the age is always there); ``places`` holds the designated hospitals
    of the batch (read once for it)."""
    responsible = person.responsible
    hospital = places.get(person.hospital_id) if person.hospital_id is not None else None
    designated = {hospital.id: hospitals.hospital_of(hospital)} if hospital else {}
    met = {s.guarantee: s.met for s in service.guarantee_states(person, today, designated)}
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
        "hospital": hospital.name if hospital else "",
        "hospital_capabilities": labels(hospital.capabilities) if hospital else "",
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


def _check(actor: Actor, file_format: str, reveal: bool, reason: str) -> None:
    actor.require(Permission.people_export)
    if reveal:
        actor.require(Permission.pii_reveal)
        if len(reason.strip()) < service.MIN_REASON:
            raise InvalidInputError(_("an unmasked export needs a reason"))
    if file_format not in FORMATS:
        raise InvalidInputError(_("the format must be xlsx or csv"))


def size(*, session: Session, actor: Actor, f: PeopleFilter) -> int:
    """How many rows an export of a filter holds: the list's total, said before it is made."""
    actor.require(Permission.people_export)
    return service.count(session=session, actor=actor, f=f, today=timeutil.today())


def export(
    *, session: Session, actor: Actor, f: PeopleFilter, file_format: str = "xlsx",
    reveal: bool = False, reason: str = "",
) -> tuple[bytes, int]:  # fmt: skip
    """A file of the people matching a filter, and how many rows it holds; masked unless
    ``reveal`` (which needs the permission and a reason, and is audited as a reveal)."""
    _check(actor, file_format, reveal, reason)
    today = timeutil.today()
    ids = _ids(session, actor, f, today)
    names = areas.names_below(session=session, prefix=codes.short(f.area))
    rows = [
        row
        for start in range(0, len(ids), BATCH)
        for row in _cells_of(session, ids[start : start + BATCH], names, today, reveal)
    ]
    data = _file(rows, file_format)
    begin_write(session)  # a GET reads first: the audit row is a short write of its own
    _audit(session, actor, f, file_format, reveal, reason, {"rows": len(rows)})
    return data, len(rows)


def _audit(
    session: Session, actor: Actor, f: PeopleFilter, file_format: str, reveal: bool, reason: str,
    detail: dict[str, object],
) -> None:  # fmt: skip
    audit.record(
        session=session, actor=actor, action=AuditAction.reveal if reveal else AuditAction.export,
        entity_type="person", area_code=f.area,
        detail=detail | {"format": file_format, "masked": not reveal,
                         "reason": reason.strip() or None, "filter": _described(f)},
    )  # fmt: skip


def _file(rows: list[list[str]], file_format: str) -> bytes:
    return workbooks.export(SPEC, rows) if file_format == "xlsx" else sheets.write_csv(SPEC, rows)


def _ids(session: Session, actor: Actor, f: PeopleFilter, today: date) -> list[int]:
    """The ids of the people matching a filter, in the list's order (most urgent first)."""
    return list(session.scalars(service.query(actor, f, today).with_only_columns(Person.id)))


def _cells_of(
    session: Session, ids: list[int], names: dict[str, str], today: date, reveal: bool
) -> list[list[str]]:
    """Rows of the people sheet for some people, in the order of ``ids``."""
    found = session.scalars(
        select(Person).where(Person.id.in_(ids)).options(joinedload(Person.responsible))
    ).unique()
    by_id = {p.id: p for p in found}
    wanted = sorted({p.hospital_id for p in by_id.values() if p.hospital_id is not None})
    places = {f.id: f for f in session.scalars(select(Facility).where(Facility.id.in_(wanted)))}
    return [
        cells(by_id[i], names.get(by_id[i].area_code, ""), today, reveal, places)
        for i in ids
        if i in by_id
    ]


def queue(
    *, session: Session, actor: Actor, f: PeopleFilter, file_format: str = "xlsx",
    reveal: bool = False, reason: str = "", keep_hours: float = KEEP_HOURS,
) -> ExportJob:  # fmt: skip
    """Ask for an export to be made in the background (the caller commits, then starts it).

    The same rules as an immediate export: the permission, a reason for an unmasked one, and
    the audit row (``export``, or ``reveal`` with the reason) written now, naming the job.
    Expired jobs of everyone are deleted first."""
    _check(actor, file_format, reveal, reason)
    today = timeutil.today()
    rows = service.count(session=session, actor=actor, f=f, today=today)
    begin_write(session)
    session.execute(delete(ExportJob).where(ExportJob.expires_at < timeutil.utcnow()))
    job = ExportJob(
        area_code=f.area, username=actor.username, filter=json.dumps(stored_filter(f)), today=today,
        file_format=file_format, masked=not reveal, status=ExportStatus.queued, rows=rows,
        rows_done=0, expires_at=timeutil.utcnow() + timedelta(hours=keep_hours),
    )  # fmt: skip
    session.add(job)
    session.flush()
    _audit(session, actor, f, file_format, reveal, reason, {"rows": rows, "job": job.id})
    return job


def stored_filter(f: PeopleFilter) -> dict[str, object]:
    return {"area": f.area, "grades": sorted(g.value for g in f.grades),
            "missing": f.missing.value if f.missing else None, "overdue": f.overdue,
            "alert_open": f.alert_open, "responsible_id": f.responsible_id, "q": f.q,
            "no_hospital": f.no_hospital}  # fmt: skip


def filter_of(job: ExportJob) -> PeopleFilter:
    """The filter a job was asked for."""
    stored = json.loads(job.filter)
    return PeopleFilter(
        area=stored["area"], grades=frozenset(Grade.of(g) for g in stored["grades"]),
        missing=Guarantee.of(stored["missing"]) if stored["missing"] else None,
        overdue=stored["overdue"], alert_open=stored["alert_open"],
        responsible_id=stored["responsible_id"], q=stored["q"],
        no_hospital=stored.get("no_hospital", False),
    )  # fmt: skip


def described(job: ExportJob) -> dict[str, object]:
    """A job's filter as callers may see it again (a searched ID number masked)."""
    return _described(filter_of(job))


def progress(job: ExportJob) -> float:
    """The share of a job made (1 when done)."""
    if job.status is ExportStatus.done:
        return 1.0
    return min(1.0, job.rows_done / job.rows) if job.rows else 0.0


def get_job(*, session: Session, actor: Actor, job_id: int) -> ExportJob:
    """An export job, for the user who asked for it only (anyone else: not found), while it is
    kept; the permissions it needed are checked again."""
    actor.require(Permission.people_export)
    job = session.get(ExportJob, job_id)
    if job is None or job.username != actor.username:
        raise NotFoundError(_("no export %(id)s of yours", id=job_id))
    if job.expires_at < timeutil.utcnow():
        raise NotFoundError(_("export %(id)s has expired; make it again", id=job_id))
    actor.require_area(job.area_code)
    if not job.masked:
        actor.require(Permission.pii_reveal)
    return job


def jobs(*, session: Session, actor: Actor, limit: int = 20) -> list[ExportJob]:
    """The actor's own exports that are still kept, newest first."""
    actor.require(Permission.people_export)
    return list(
        session.scalars(
            select(ExportJob)
            .where(ExportJob.username == actor.username, ExportJob.expires_at >= timeutil.utcnow())
            .order_by(ExportJob.id.desc())
            .limit(limit)
        )
    )


def job_file(*, session: Session, actor: Actor, job_id: int) -> tuple[bytes, str]:
    """A finished job's file and its name."""
    job = get_job(session=session, actor=actor, job_id=job_id)
    if job.status is not ExportStatus.done or job.content is None:
        raise InvalidInputError(
            _("export %(id)s is not ready (%(status)s)", id=job_id, status=job.status.text)
        )
    masked = "" if job.masked else "-full"
    return job.content, f"people-{codes.short(job.area_code)}{masked}-{job.id}.{job.file_format}"


def discard(*, session: Session, actor: Actor, job_id: int) -> None:
    """Delete an export job and its file (its requester only); audited."""
    job = get_job(session=session, actor=actor, job_id=job_id)
    begin_write(session)
    session.delete(job)
    session.flush()
    audit.record(
        session=session, actor=actor, action=AuditAction.delete, entity_type="export_job",
        entity_id=str(job_id), area_code=job.area_code, detail={"rows": job.rows},
    )  # fmt: skip


def run(factory: sessionmaker[Session], job_id: int) -> None:
    """Make a queued export (in a background process): the ids in one read, then the rows in
    batches, each batch's progress a short write of its own, then the file.

    It acts as the user who asked for it, with their role and area as they are now."""
    with transaction(factory) as session:
        job = session.get(ExportJob, job_id)
        if job is None or job.status is not ExportStatus.queued:
            return
        job.status = ExportStatus.running
        f, today, reveal, file_format = filter_of(job), job.today, not job.masked, job.file_format
        username = job.username
    try:
        with factory() as session:
            user = session.scalar(select(User).where(User.username == username, User.active))
            if user is None:
                raise NotFoundError(_("user %(name)s is no longer active", name=username))
            actor = auth.actor_for(user)
            actor.require(Permission.people_export)
            if reveal:
                actor.require(Permission.pii_reveal)
            ids = _ids(session, actor, f, today)
            names = areas.names_below(session=session, prefix=codes.short(f.area))
        rows: list[list[str]] = []
        for start in range(0, len(ids), BATCH):
            with factory() as session:
                rows += _cells_of(session, ids[start : start + BATCH], names, today, reveal)
            _mark(factory, job_id, rows_done=len(rows))
        data = _file(rows, file_format)
    except Exception as exc:
        _mark(factory, job_id, status=ExportStatus.failed, error=f"{type(exc).__name__}: {exc}")
        raise
    _mark(factory, job_id, status=ExportStatus.done, rows=len(rows), content=data)


def _mark(factory: sessionmaker[Session], job_id: int, **changes: object) -> None:
    with transaction(factory) as session:
        job = session.get(ExportJob, job_id)
        if job is None:
            return  # deleted by its requester meanwhile
        for key, value in changes.items():
            setattr(job, key, value)
        if changes.get("status") in (ExportStatus.done, ExportStatus.failed):
            job.finished_at = timeutil.utcnow()
            job.rows_done = job.rows if job.status is ExportStatus.done else job.rows_done


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
        raise NotFoundError(_("no such error report (they are kept 7 days)"))
    return found
