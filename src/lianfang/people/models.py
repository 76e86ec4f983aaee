"""Tables of the key-population registry."""

from __future__ import annotations

import functools
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from lianfang.db.base import Base, ChoiceSet, choice_column
from lianfang.people.choices import (
    ChangeSource,
    Condition,
    ContactMethod,
    DiseaseState,
    ExportStatus,
    Grade,
    GradeMethod,
    Living,
    ResponsibleKind,
    Sex,
    Symptom,
    TrackedGroup,
)
from lianfang.timeutil import now, utcnow

Conditions = dict[Condition, DiseaseState]


def encode_conditions(conditions: Conditions) -> str:
    """The stored form of a person's conditions: 'copd:unstable,hypertension:stable'."""
    return ",".join(f"{c.value}:{s.value}" for c, s in sorted(conditions.items()))


def decode_conditions(raw: str | None) -> Conditions:
    """A person's conditions from their stored form (a map of their own, to change freely)."""
    return dict(_decoded(raw or ""))


@functools.lru_cache(maxsize=4096)
def _decoded(raw: str) -> tuple[tuple[Condition, DiseaseState], ...]:
    pairs = (item.split(":") for item in raw.split(",") if item)
    return tuple((Condition.of(c), DiseaseState.of(s)) for c, s in pairs)


class ConditionMap(TypeDecorator[Conditions]):
    """Underlying conditions with their state, stored as sorted 'condition:state' pairs."""

    impl = String(300)
    cache_ok = True

    def process_bind_param(self, value: Conditions | None, dialect: Dialect) -> str:
        return encode_conditions(value or {})

    def process_result_value(self, value: Any, dialect: Dialect) -> Conditions:
        return decode_conditions(value)


class Responsible(Base):
    """Someone in charge of key people: a family doctor, village doctor or grid worker."""

    __tablename__ = "responsible"
    __table_args__ = (UniqueConstraint("area_code", "name", "phone"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    area_code: Mapped[str] = mapped_column(String(12), ForeignKey("area.code"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    kind: Mapped[ResponsibleKind] = mapped_column(choice_column(ResponsibleKind))
    phone: Mapped[str] = mapped_column(String(20), default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=now)


class Person(Base):
    """A vulnerable resident on the key-population register (重点人群), with the inputs of
    their risk grade and the stored state of their four guarantees."""

    __tablename__ = "person"
    __table_args__ = (
        # An area's people by grade, or overdue (the due date read from the index entries).
        Index("ix_person_area_code_grade_due_on", "area_code", "grade", "due_on"),
        # An index, not a constraint: a bulk load drops it and makes it again in one sort.
        Index("uq_person_id_number", "id_number", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    id_number: Mapped[str] = mapped_column(String(18))
    name: Mapped[str] = mapped_column(String(50))  # searched by substring: no B-tree helps
    sex: Mapped[Sex] = mapped_column(choice_column(Sex, 8))
    birth_date: Mapped[date] = mapped_column(Date)
    phone: Mapped[str] = mapped_column(String(20), default="")
    area_code: Mapped[str] = mapped_column(String(12), ForeignKey("area.code"))
    address: Mapped[str] = mapped_column(String(200), default="")
    living: Mapped[Living] = mapped_column(choice_column(Living))
    conditions: Mapped[Conditions] = mapped_column(ConditionMap(), default=dict)
    disease: Mapped[DiseaseState] = mapped_column(choice_column(DiseaseState, 10))
    vaccine_doses: Mapped[int] = mapped_column(Integer, default=0)
    last_dose_on: Mapped[date | None] = mapped_column(Date)
    arrived_on: Mapped[date | None] = mapped_column(Date)  # arrival from abroad
    groups: Mapped[frozenset[TrackedGroup]] = mapped_column(
        ChoiceSet(TrackedGroup), default=frozenset
    )
    followup_opt_in: Mapped[bool] = mapped_column(Boolean, default=False)

    rule_grade: Mapped[Grade] = mapped_column(choice_column(Grade, 8))
    grade: Mapped[Grade] = mapped_column(choice_column(Grade, 8))
    grade_method: Mapped[GradeMethod] = mapped_column(choice_column(GradeMethod, 8))
    override_reason: Mapped[str | None] = mapped_column(Text)
    graded_on: Mapped[date] = mapped_column(Date)

    responsible_id: Mapped[int | None] = mapped_column(ForeignKey("responsible.id"), index=True)
    last_contact_at: Mapped[datetime | None] = mapped_column()
    due_on: Mapped[date | None] = mapped_column(Date)
    # The kit on hand, derived (people.kits): the best of the opening kit and the kit issues of
    # the stock ledger to this person that were not corrected. Never typed.
    kit_grade: Mapped[Grade | None] = mapped_column(choice_column(Grade, 8))
    kit_on: Mapped[date | None] = mapped_column(Date)
    # A kit recorded as delivered before the ledger existed (a migrated register, the demo's
    # history): it stands beside the ledger's issues.
    kit_opening: Mapped[Grade | None] = mapped_column(choice_column(Grade, 8))
    kit_opening_on: Mapped[date | None] = mapped_column(Date)
    medicine_ok: Mapped[bool] = mapped_column(Boolean, default=False)
    # The designated hospital (定点医院): a facility of the resources register, judged on its
    # own capabilities and status (people.hospitals).
    hospital_id: Mapped[int | None] = mapped_column(
        ForeignKey("facility.id", ondelete="SET NULL"), index=True
    )
    treatment_ok: Mapped[bool] = mapped_column(Boolean, default=False)

    registered_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)

    responsible: Mapped[Responsible | None] = relationship(lazy="raise")


class UnmatchedHospital(Base):
    """A designated hospital typed as text before hospitals were facilities, that the migration
    could not match to one facility (no name matched, or several did): kept, with the reason,
    until someone assigns the person a facility."""

    __tablename__ = "unmatched_hospital"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), primary_key=True
    )
    area_code: Mapped[str] = mapped_column(String(12), index=True)
    text: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PersonChange(Base):
    """One change to a person's record: which fields went from what to what, who and how."""

    __tablename__ = "person_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    area_code: Mapped[str] = mapped_column(String(12), index=True)
    changed_at: Mapped[datetime] = mapped_column(default=now)
    username: Mapped[str] = mapped_column(String(64))
    source: Mapped[ChangeSource] = mapped_column(choice_column(ChangeSource, 8))
    changes: Mapped[str] = mapped_column(Text)  # JSON {field: [old, new]}


class GradeChange(Base):
    """A change of a person's risk grade, computed or overridden by hand (with the reason)."""

    __tablename__ = "grade_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    area_code: Mapped[str] = mapped_column(String(12), index=True)
    changed_at: Mapped[datetime] = mapped_column(default=now)
    username: Mapped[str] = mapped_column(String(64))
    from_grade: Mapped[Grade | None] = mapped_column(choice_column(Grade, 8))
    to_grade: Mapped[Grade] = mapped_column(choice_column(Grade, 8))
    method: Mapped[GradeMethod] = mapped_column(choice_column(GradeMethod, 8))
    reason: Mapped[str] = mapped_column(Text)


class FollowUp(Base):
    """One contact with a key person — by phone, visit or video — and what was measured."""

    __tablename__ = "follow_up"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    area_code: Mapped[str] = mapped_column(String(12), index=True)
    contacted_at: Mapped[datetime] = mapped_column()
    method: Mapped[ContactMethod] = mapped_column(choice_column(ContactMethod, 8))
    temperature_c: Mapped[float | None] = mapped_column(Float)
    spo2_pct: Mapped[int | None] = mapped_column(Integer)
    symptoms: Mapped[frozenset[Symptom]] = mapped_column(ChoiceSet(Symptom), default=frozenset)
    fever_days: Mapped[int | None] = mapped_column(Integer)
    notes: Mapped[str] = mapped_column(Text, default="")
    username: Mapped[str] = mapped_column(String(64))
    client_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=now)


class CoverageCell(Base):
    """How many people of one village share one state of grade and guarantees: the roll-up that
    coverage of any area sums, rebuilt per village in the transaction that changes its people."""

    __tablename__ = "coverage_cell"

    id: Mapped[int] = mapped_column(primary_key=True)
    area_code: Mapped[str] = mapped_column(String(12), index=True)
    grade: Mapped[Grade] = mapped_column(choice_column(Grade, 8))
    in_charge: Mapped[bool] = mapped_column(Boolean)
    contacted: Mapped[bool] = mapped_column(Boolean)
    due_on: Mapped[date | None] = mapped_column(Date)
    medicine_ok: Mapped[bool] = mapped_column(Boolean)
    treatment_ok: Mapped[bool] = mapped_column(Boolean)
    persons: Mapped[int] = mapped_column(Integer)


class ImportReport(Base):
    """The error workbook of a rejected import, kept a week for the user who uploaded it."""

    __tablename__ = "import_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    username: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(200))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ExportJob(Base):
    """An export of a filtered people list too large to make while a request waits: made by a
    background process, kept (file included) for the user who asked for it until it expires
    or they delete it."""

    __tablename__ = "export_job"

    id: Mapped[int] = mapped_column(primary_key=True)
    area_code: Mapped[str] = mapped_column(String(12), ForeignKey("area.code"), index=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    filter: Mapped[str] = mapped_column(Text)  # the PeopleFilter as JSON
    today: Mapped[date] = mapped_column(Date)  # the day of the world when it was asked for
    file_format: Mapped[str] = mapped_column(String(4))
    masked: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[ExportStatus] = mapped_column(
        choice_column(ExportStatus), default=ExportStatus.queued
    )
    rows: Mapped[int] = mapped_column(Integer)  # expected when asked for, written when done
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    expires_at: Mapped[datetime]
