"""What the alert API reads and writes."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from lianfang.alerts.choices import AlertKind, AlertStatus, EventKind, Severity, Subject
from lianfang.alerts.models import AlertEvent
from lianfang.alerts.service import AlertView
from lianfang.alerts.suggest import Suggestion
from lianfang.people.choices import AlertReason
from lianfang.schemas import WriteSchema


class SuggestionRead(BaseModel):
    """The nearest capable hospital with a free bed, and how fresh its bed figure is."""

    facility_id: int
    name: str
    beds_free: int
    reported_at: datetime
    age_hours: float
    stale: bool
    km: float
    capability: str

    @classmethod
    def of(cls, s: Suggestion) -> SuggestionRead:
        return cls(
            facility_id=s.facility_id, name=s.name, beds_free=s.beds_free,
            reported_at=s.reported_at, age_hours=s.age_hours(), stale=s.stale, km=s.km,
            capability=s.capability.value,
        )  # fmt: skip


class AlertEventRead(BaseModel):
    """One step of an alert's history."""

    at: datetime
    kind: EventKind
    severity: Severity
    value: float | None
    username: str
    note: str

    @classmethod
    def of(cls, e: AlertEvent) -> AlertEventRead:
        return cls(
            at=e.at, kind=e.kind, severity=e.severity, value=e.value, username=e.username,
            note=e.note,
        )  # fmt: skip


class AlertRead(BaseModel):
    """An alert: what it is about, why (in the caller's language), its task and, for a
    referral, the suggested hospital."""

    id: int
    kind: AlertKind
    kind_label: str
    severity: Severity
    status: AlertStatus
    subject: Subject
    subject_name: str
    person_id: int | None
    facility_id: int | None
    item_id: int | None
    area_code: str
    area_name: str
    why: str
    reasons: list[AlertReason]
    value: float | None
    threshold: float | None
    opened_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    closed_by: str | None
    close_note: str | None
    task_id: int | None
    task_status: str | None
    task_deadline: date | None
    task_owner: str | None
    suggestion: SuggestionRead | None
    events: list[AlertEventRead] = Field(default_factory=list)

    @classmethod
    def of(cls, v: AlertView) -> AlertRead:
        a = v.alert
        return cls(
            id=a.id, kind=a.kind, kind_label=a.kind.label(), severity=a.severity,
            status=a.status, subject=a.subject, subject_name=v.subject_name,
            person_id=a.person_id, facility_id=a.facility_id, item_id=a.item_id,
            area_code=a.area_code, area_name=v.area_name, why=str(v.why),
            reasons=sorted(a.reasons), value=a.value, threshold=a.threshold,
            opened_at=a.opened_at, updated_at=a.updated_at, closed_at=a.closed_at,
            closed_by=a.closed_by, close_note=a.close_note, task_id=a.task_id,
            task_status=v.task.status.value if v.task else None,
            task_deadline=v.task.deadline if v.task else None, task_owner=v.task_owner,
            suggestion=SuggestionRead.of(v.suggestion) if v.suggestion else None,
            events=[AlertEventRead.of(e) for e in v.events],
        )  # fmt: skip


class AlertPage(BaseModel):
    """Alerts, the most severe first, and how many match."""

    items: list[AlertRead]
    total: int


class AlertClose(WriteSchema):
    """How an alert was handled."""

    note: str = Field(min_length=1, max_length=2000, examples=["已转诊至县人民医院"])


class ThresholdRead(BaseModel):
    """A kind's threshold at an area, what it measures and where it comes from."""

    kind: AlertKind
    value: float
    meaning: str
    source: str  # '' the default, else the area code that set it


class ThresholdWrite(WriteSchema):
    """Set an area's threshold of one kind (null: back to the one above it)."""

    area_code: str = Field(min_length=2, max_length=12, description="area code (any form)")
    kind: AlertKind
    value: float | None = None
