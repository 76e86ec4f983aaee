"""What the people API takes and returns. Every read schema masks ID numbers and phones; the
full values come only from POST /api/people/{id}/reveal, with a reason."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal

from fastapi import UploadFile
from pydantic import AwareDatetime, BaseModel, Field
from sqlalchemy.orm import object_session

from lianfang import timeutil
from lianfang.alerts.models import Alert
from lianfang.alerts.suggest import stored_text
from lianfang.areas import codes
from lianfang.areas.choices import AreaLevel
from lianfang.ids import RecordId
from lianfang.io.sheets import MAX_REPORTED_ERRORS
from lianfang.people import exporting, guarantees, hospitals, identity, kits, service
from lianfang.people.choices import (
    AlertReason,
    AlertStatus,
    Capability,
    Condition,
    ContactMethod,
    CoverageSort,
    DiseaseState,
    ExportStatus,
    Grade,
    GradeMethod,
    Guarantee,
    Living,
    ResponsibleKind,
    Sex,
    Symptom,
    TrackedGroup,
)
from lianfang.people.coverage import Counts
from lianfang.people.importing import ImportResult
from lianfang.people.models import ExportJob, FollowUp, Person, Responsible
from lianfang.people.sheet import CONDITION_KEY, day, label, labels, yes_no
from lianfang.schemas import WriteSchema


def _phone(value: str) -> str:
    return identity.mask_phone(value) if value else ""


Designated = Mapping[int, guarantees.Hospital]
"""People's designated hospitals by facility id (``hospitals.facts``)."""


class ResponsibleRead(BaseModel):
    """Someone who can be put in charge of key people (phone masked)."""

    id: int
    area_code: str
    name: str
    kind: ResponsibleKind
    phone: str
    user_id: int | None  # the account they sign in with, if linked

    @classmethod
    def of(cls, r: Responsible) -> ResponsibleRead:
        return cls(
            id=r.id, area_code=r.area_code, name=r.name, kind=r.kind, phone=_phone(r.phone),
            user_id=r.user_id,
        )  # fmt: skip


class ResponsibleCreate(WriteSchema):
    """A responsible person to register in a village (or town)."""

    area_code: str = Field(min_length=12, max_length=12, description="12-digit area code")
    name: str = Field(min_length=1, max_length=50)
    kind: ResponsibleKind = ResponsibleKind.village_doctor
    phone: str = Field("", max_length=20)


class ResponsibleUser(WriteSchema):
    """The user account a responsible person signs in with (null: none)."""

    username: str | None = Field(None, min_length=1, max_length=64)


class GuaranteeRead(BaseModel):
    """One of the four guarantees (四有) for a person: whether it holds and why."""

    guarantee: Guarantee
    met: bool
    zh: str
    en: str


class PersonRead(BaseModel):
    """A key person, with ID number and phones masked and the age instead of the birth date
    (the full number and birth date come only from a reveal)."""

    id: int
    name: str
    id_number: str = Field(description="masked: the first 6 and the last character")
    sex: Sex
    age: int = Field(description="whole years today")
    phone: str = Field(description="masked: 138****5678")
    area_code: str
    address: str
    living: Living
    conditions: dict[Condition, DiseaseState]
    disease: DiseaseState
    vaccine_doses: int
    last_dose_on: date | None
    arrived_on: date | None
    groups: list[TrackedGroup]
    followup_opt_in: bool
    grade: Grade
    grade_zh: str
    rule_grade: Grade
    grade_method: GradeMethod
    override_reason: str | None
    guarantees: list[GuaranteeRead]
    responsible: ResponsibleRead | None
    last_contact_at: datetime | None
    due_on: date | None
    overdue: bool
    kit_grade: Grade | None = Field(description="derived from the kit issues of the stock ledger")
    kit_on: date | None
    hospital_id: int | None = Field(description="the designated hospital (a facility)")
    hospital: str = Field(description="its name")
    hospital_capabilities: list[Capability] = Field(description="what it can do")
    alerts_open: int
    updated_at: datetime

    @classmethod
    def of(
        cls, p: Person, alerts_open: int = 0,
        designated: Designated | None = None,
    ) -> PersonRead:  # fmt: skip
        """A person as the API shows them; a list passes its people's ``designated`` hospitals
        (``hospitals.facts``, read once for the page)."""
        today = timeutil.today()
        if designated is None:
            session = object_session(p)
            designated = hospitals.facts(session, [p.hospital_id]) if session is not None else {}
        hospital = designated.get(p.hospital_id) if p.hospital_id is not None else None
        age = identity.age_on(p.birth_date, today)
        states = [
            GuaranteeRead(guarantee=s.guarantee, met=s.met, zh=s.zh, en=s.en)
            for s in service.guarantee_states(p, today, designated)
        ]
        return cls(
            id=p.id, name=p.name, id_number=identity.mask_id(p.id_number), sex=p.sex,
            age=age, phone=_phone(p.phone), area_code=p.area_code,
            address=p.address, living=p.living, conditions=dict(p.conditions), disease=p.disease,
            vaccine_doses=p.vaccine_doses, last_dose_on=p.last_dose_on, arrived_on=p.arrived_on,
            groups=sorted(p.groups), followup_opt_in=p.followup_opt_in, grade=p.grade,
            grade_zh=p.grade.zh, rule_grade=p.rule_grade, grade_method=p.grade_method,
            override_reason=p.override_reason, guarantees=states,
            responsible=ResponsibleRead.of(p.responsible) if p.responsible else None,
            last_contact_at=p.last_contact_at, due_on=p.due_on,
            overdue=p.due_on is not None and p.due_on < today, kit_grade=p.kit_grade,
            kit_on=p.kit_on, hospital_id=p.hospital_id,
            hospital=hospital.name if hospital else "",
            hospital_capabilities=sorted(hospital.capabilities) if hospital else [],
            alerts_open=alerts_open,
            updated_at=p.updated_at,
        )  # fmt: skip


class PersonPage(BaseModel):
    """One page of people, most urgent first."""

    items: list[PersonRead]
    total: int
    page: int
    size: int


class PersonWrite(WriteSchema):
    """Fields of the people sheet, typed. Each becomes the sheet's cell text and goes through the
    same checks as an imported row; a field left out keeps its stored value on update."""

    name: str | None = Field(None, min_length=1, max_length=50)
    sex: Sex | None = Field(None, description="must agree with the ID number")
    birth_date: date | None = Field(None, description="must agree with the ID number")
    phone: str | None = Field(None, max_length=20, description="mobile or landline with area code")
    area_code: str | None = Field(None, description="12-digit village code")
    address: str | None = Field(None, max_length=200)
    living: Living | None = None
    conditions: dict[Condition, DiseaseState] | None = Field(
        None, description="underlying conditions and their state; replaces all when given"
    )
    vaccine_doses: int | None = Field(None, description="0–6")
    last_dose_on: date | None = None
    arrived_on: date | None = Field(None, description="arrival from abroad")
    groups: list[TrackedGroup] | None = None
    followup_opt_in: bool | None = Field(None, description="a green person asked for follow-ups")
    responsible: str | None = Field(None, max_length=50, description="name; created if new")
    responsible_kind: ResponsibleKind | None = None
    responsible_phone: str | None = Field(None, max_length=20)
    hospital: str | None = Field(
        None, max_length=100,
        description="designated hospital: a hospital or health centre's code or name",
    )  # fmt: skip

    def cells(self) -> dict[str, str]:
        """The given fields as the sheet's cells, by column key."""
        out: dict[str, str] = {}
        for key in self.model_fields_set:
            value = getattr(self, key)
            if key == "conditions":
                given = value or {}
                out |= {CONDITION_KEY + c.value: label(given.get(c)) for c in Condition}
            else:
                out[key] = cell_text(value)
        return out


def cell_text(value: Any) -> str:
    """A typed value as the sheet writes it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return yes_no(value)
    if isinstance(value, StrEnum):
        return label(value)
    if isinstance(value, list):
        return labels(frozenset(value))
    if isinstance(value, date):
        return day(value)
    return str(value).strip()


class PersonCreate(PersonWrite):
    """A new key person (or, if the ID number is known, an update of them)."""

    name: str = Field(min_length=1, max_length=50)
    id_number: str = Field(min_length=1, max_length=18, description="18-character ID number")
    area_code: str = Field(description="12-digit village code")

    def cells(self) -> dict[str, str]:
        return super().cells() | {"id_number": self.id_number.strip()}


class RevealCreate(WriteSchema):
    """Why the full ID number and phone are needed (written to the audit log)."""

    reason: str = Field(min_length=1, max_length=500)


class RevealRead(BaseModel):
    """A person's full ID number, birth date and phone."""

    id: int
    id_number: str
    birth_date: date
    phone: str


class GradeCreate(WriteSchema):
    """A manual grade (or null to return to the computed one) and the reason."""

    grade: Grade | None
    reason: str = Field(min_length=1, max_length=500)


class KitIssueCreate(WriteSchema):
    """A red or yellow kit to issue to a person from a clinic's stock (有药用)."""

    kit: Literal["red", "yellow"] | None = Field(
        None, description="default: the kit of the person's grade (a red kit covers yellow)"
    )
    facility_id: RecordId | None = Field(
        None, description="the clinic it comes from; default: the person's village clinic"
    )
    note: str = Field("", max_length=500)


class KitIssueRead(BaseModel):
    """An issued kit: the ledger line, what the clinic holds now, and the person's 有药用."""

    movement_id: int
    facility_id: int
    facility: str
    kit: Grade
    balance_after: int = Field(description="the clinic's kits of this kind after the issue")
    person: PersonRead

    @classmethod
    def of(cls, issued: kits.Issued) -> KitIssueRead:
        movement = issued.movement
        return cls(
            movement_id=movement.id, facility_id=issued.facility.id,
            facility=issued.facility.name, kit=issued.kit,
            balance_after=movement.balance_after, person=PersonRead.of(issued.person),
        )  # fmt: skip


class FollowUpCreate(WriteSchema):
    """A contact with a key person and what was measured."""

    method: ContactMethod
    contacted_at: AwareDatetime | None = Field(None, description="default: now; with a zone")
    temperature_c: float | None = Field(None, description="34–43 °C")
    spo2_pct: int | None = Field(None, description="50–100 %")
    symptoms: list[Symptom] = Field(default_factory=list)
    fever_days: int | None = Field(None, description="days of fever so far")
    notes: str = Field("", max_length=2000)
    client_token: str | None = Field(
        None, max_length=64, description="the same token twice records one follow-up"
    )


class FollowUpRead(BaseModel):
    """A recorded contact."""

    id: int
    person_id: int
    area_code: str
    contacted_at: datetime
    method: ContactMethod
    temperature_c: float | None
    spo2_pct: int | None
    symptoms: list[Symptom]
    fever_days: int | None
    notes: str
    username: str

    @classmethod
    def of(cls, f: FollowUp) -> FollowUpRead:
        return cls(
            id=f.id, person_id=f.person_id, area_code=f.area_code, contacted_at=f.contacted_at,
            method=f.method, temperature_c=f.temperature_c, spo2_pct=f.spo2_pct,
            symptoms=sorted(f.symptoms), fever_days=f.fever_days, notes=f.notes,
            username=f.username,
        )  # fmt: skip


class AlertRead(BaseModel):
    """A referral alert: why it was raised (by the latest follow-up that met a trigger), its
    task and suggested hospital, and how it was handled once closed."""

    id: int
    person_id: int
    follow_up_id: int | None
    severity: str
    task_id: int | None
    suggestion: str | None
    area_code: str
    reasons: list[AlertReason]
    reasons_zh: list[str]
    status: AlertStatus
    raised_at: datetime
    closed_at: datetime | None
    closed_by: str | None
    close_note: str | None

    @classmethod
    def of(cls, a: Alert) -> AlertRead:
        reasons = sorted(a.reasons)
        suggestion = stored_text(a.suggestion)
        return cls(
            id=a.id, person_id=a.person_id or 0, follow_up_id=a.follow_up_id,
            severity=a.severity.value, task_id=a.task_id,
            suggestion=str(suggestion) if suggestion is not None else None,
            area_code=a.area_code, reasons=reasons, reasons_zh=[r.zh for r in reasons],
            status=a.status, raised_at=a.opened_at, closed_at=a.closed_at, closed_by=a.closed_by,
            close_note=a.close_note,
        )  # fmt: skip


class AlertPage(BaseModel):
    """Alerts, newest first, and how many match."""

    items: list[AlertRead]
    total: int


class AlertClose(WriteSchema):
    """How an alert was handled."""

    note: str = Field(min_length=1, max_length=2000)


class FollowUpResult(BaseModel):
    """A recorded follow-up and the alert it raised, if any."""

    follow_up: FollowUpRead
    alert: AlertRead | None


PHONES = {"phone", "responsible_phone"}


def _masked_changes(raw: str) -> dict[str, Any]:
    changes: dict[str, Any] = json.loads(raw)
    for key in PHONES & changes.keys():
        changes[key] = [identity.mask_phone(v) if v else v for v in changes[key]]
    return changes


class HistoryRead(BaseModel):
    """What happened to a person, newest first (phones in record changes masked)."""

    grades: list[dict[str, Any]]
    changes: list[dict[str, Any]]
    follow_ups: list[FollowUpRead]
    alerts: list[AlertRead]

    @classmethod
    def of(cls, found: service.History) -> HistoryRead:
        grades = [
            {"changed_at": g.changed_at, "username": g.username, "from_grade": g.from_grade,
             "to_grade": g.to_grade, "method": g.method, "reason": g.reason}
            for g in found.grades
        ]  # fmt: skip
        changes = [
            {"changed_at": c.changed_at, "username": c.username, "source": c.source,
             "changes": _masked_changes(c.changes)}
            for c in found.changes
        ]  # fmt: skip
        return cls(
            grades=grades, changes=changes,
            follow_ups=[FollowUpRead.of(f) for f in found.follow_ups],
            alerts=[AlertRead.of(a) for a in found.alerts],
        )  # fmt: skip


class AssignCreate(WriteSchema):
    """Put one responsible person in charge of several people."""

    person_ids: list[RecordId] = Field(min_length=1, max_length=5000)
    responsible_id: RecordId


class AssignRead(BaseModel):
    """How many people changed hands."""

    changed: int


class ImportOptions(WriteSchema):
    """A people sheet to import, and whether only to check it."""

    file: UploadFile = Field(description="the filled-in template, .xlsx or .csv")
    dry_run: bool = Field(False, description="check only, write nothing")


class ClearedRead(BaseModel):
    """A stored value that a cell saying 「清空」 empties."""

    row: int = Field(description="the row of the file")
    person_id: int
    column: str = Field(description="the column's header in the file")


class ImportRead(BaseModel):
    """What an import did (or, for a dry run, would do)."""

    rows: int
    created: int
    updated: int
    unchanged: int
    responsibles_created: int
    dry_run: bool
    cleared_count: int = Field(description="stored values emptied by cells saying 清空 / CLEAR")
    cleared: list[ClearedRead] = Field(description="the first 200 of them")

    @classmethod
    def of(cls, result: ImportResult) -> ImportRead:
        return cls(
            rows=result.rows, created=result.created, updated=result.updated,
            unchanged=result.unchanged, responsibles_created=result.responsibles_created,
            dry_run=result.dry_run, cleared_count=len(result.cleared),
            cleared=[
                ClearedRead(row=c.row, person_id=c.person_id, column=c.column)
                for c in result.cleared[:MAX_REPORTED_ERRORS]
            ],
        )  # fmt: skip


class GuaranteeCoverage(BaseModel):
    """How many red and yellow people one guarantee reaches."""

    guarantee: Guarantee
    zh: str
    covered: int
    missing: int
    missing_red: int
    missing_yellow: int
    share: float | None
    gap: float | None = Field(description="share of red and yellow people it does not reach")


class CoverageFigures(BaseModel):
    """The coverage figures of one area."""

    code: str
    name: str
    within: str = Field("", description="the parent area's name, in a ranking of a deeper level")
    red: int
    yellow: int
    green: int
    followed: int
    total: int
    guarantees: list[GuaranteeCoverage]
    overdue: int
    no_responsible: int
    alerts_open: int

    @classmethod
    def of(cls, c: Counts, name: str) -> CoverageFigures:
        shares = [
            GuaranteeCoverage(
                guarantee=g, zh=g.zh, covered=c.covered[g], missing=c.missing(g),
                missing_red=c.missing_red(g), missing_yellow=c.missing_yellow(g),
                share=c.share(g), gap=c.gap(g),
            )
            for g in Guarantee
        ]  # fmt: skip
        return cls(
            code=c.code, name=name, within=c.within, red=c.red, yellow=c.yellow, green=c.green,
            followed=c.followed, total=c.total, guarantees=shares, overdue=c.overdue,
            no_responsible=c.missing(Guarantee.in_charge), alerts_open=c.alerts_open,
        )  # fmt: skip


class CoverageRead(CoverageFigures):
    """Coverage of an area on a day, and of each of its children."""

    as_of: date
    level: AreaLevel | None = Field(description="the level of the areas listed (None: a village)")
    sort: CoverageSort
    descending: bool
    children: list[CoverageFigures]


class ExportCreate(WriteSchema):
    """An export to make in the background: the list's filters, the format, and for full
    numbers ``reveal`` with a reason (as ``GET /api/people/export``)."""

    area: str = Field(description="area code (any form)", max_length=20)
    format: Literal["xlsx", "csv"] = "xlsx"
    grade: list[Grade] = Field(default_factory=list, max_length=3)
    missing: Guarantee | None = Field(None, description="red/yellow people lacking it")
    overdue: bool = False
    alert_open: bool = False
    responsible_id: RecordId | None = None
    q: str = Field("", max_length=50, description="name, or a whole ID number")
    reveal: bool = Field(False, description="full numbers (pii.reveal and a reason)")
    reason: str = Field("", max_length=500)

    def to_filter(self) -> service.PeopleFilter:
        return service.PeopleFilter(
            area=codes.normalise(self.area), grades=frozenset(self.grade), missing=self.missing,
            overdue=self.overdue, alert_open=self.alert_open, responsible_id=self.responsible_id,
            q=self.q,
        )  # fmt: skip


class ExportJobRead(BaseModel):
    """An export made in the background: poll it until ``status`` is ``done``, then download
    ``download_url`` (only its requester may; it is kept until ``expires_at``)."""

    id: int
    area_code: str
    status: ExportStatus
    format: str
    masked: bool
    rows: int = Field(description="rows the file holds (expected, until it is done)")
    rows_done: int
    progress: float = Field(description="share made, 0 to 1")
    filter: dict[str, Any] = Field(description="the filters asked for (an ID number masked)")
    error: str | None
    created_at: datetime
    finished_at: datetime | None
    expires_at: datetime
    download_url: str | None = Field(description="when done")

    @classmethod
    def of(cls, job: ExportJob, download_url: str) -> ExportJobRead:
        return cls(
            id=job.id, area_code=job.area_code, status=job.status, format=job.file_format,
            masked=job.masked, rows=job.rows, rows_done=job.rows_done,
            progress=exporting.progress(job), filter=exporting.described(job), error=job.error,
            created_at=job.created_at, finished_at=job.finished_at, expires_at=job.expires_at,
            download_url=download_url if job.status is ExportStatus.done else None,
        )  # fmt: skip
