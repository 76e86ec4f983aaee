"""Reading and changing the registry: people, responsible persons, grades, personal data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Select, and_, case, func, not_, or_, select, update
from sqlalchemy.orm import Session, joinedload, object_session

from lianfang import timeutil
from lianfang.alerts.choices import AlertKind, AlertStatus
from lianfang.alerts.models import Alert
from lianfang.areas import codes
from lianfang.areas.models import Area
from lianfang.auth import audit
from lianfang.auth.choices import AuditAction, Permission
from lianfang.auth.models import User
from lianfang.auth.scope import Actor
from lianfang.db.engine import begin_write
from lianfang.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDenied
from lianfang.i18n import _
from lianfang.io.sheets import CLEAR, Table
from lianfang.people import coverage, grading, guarantees, hospitals, identity, records
from lianfang.people.choices import ChangeSource, Grade, GradeMethod, Guarantee
from lianfang.people.importing import ImportResult, import_table
from lianfang.people.models import (
    FollowUp,
    GradeChange,
    Person,
    PersonChange,
    Responsible,
)
from lianfang.people.sheet import SPEC

MAX_PAGE = 500
URGENCY = case((Person.grade == Grade.red, 0), (Person.grade == Grade.yellow, 1), else_=2)
MIN_REASON = 4


@dataclass(frozen=True)
class PeopleFilter:
    """Which people a list, map or export shows."""

    area: str
    grades: frozenset[Grade] = frozenset()
    missing: Guarantee | None = None
    overdue: bool = False
    alert_open: bool = False
    responsible_id: int | None = None
    q: str = ""
    no_hospital: bool = False  # no designated hospital (never assigned, or not matched)


@dataclass(frozen=True)
class Page:
    """One page of a list and how many rows there are in all."""

    items: Sequence[Person]
    total: int
    page: int
    size: int


def get(*, session: Session, actor: Actor, person_id: int) -> Person:
    """A person within the actor's scope."""
    actor.require(Permission.people_read)
    person = session.scalar(
        select(Person).options(joinedload(Person.responsible)).where(Person.id == person_id)
    )
    if person is None or not actor.reaches(person.area_code):
        raise NotFoundError(_("no person with id %(person_id)s", person_id=person_id))
    return person


def _missing(guarantee: Guarantee, today: date) -> ColumnElement[bool]:
    followed = Person.grade.in_(coverage.FOLLOWED)
    met: dict[Guarantee, ColumnElement[bool]] = {
        Guarantee.in_charge: Person.responsible_id.is_not(None),
        Guarantee.checked_on: and_(Person.last_contact_at.is_not(None), Person.due_on >= today),
        Guarantee.medicine: Person.medicine_ok.is_(True),
        Guarantee.treatment: Person.treatment_ok.is_(True),
    }
    return and_(followed, not_(met[guarantee]))


def id_query(q: str) -> str | None:
    """The ID number a search asks for, or None when it searches names. An ID search must give
    the whole number: a part of one would let a list of masked numbers be filled in digit by
    digit."""
    text = identity.normalise_id(q)
    if not text or not (text.isdigit() or (text[:-1].isdigit() and text.endswith("X"))):
        return None
    problem = identity.id_problem(text)
    if problem is not None:
        raise InvalidInputError(
            _(
                "an ID search needs the whole, valid 18-character number (%(problem)s)",
                problem=problem,
            )
        )
    return text


def _search(actor: Actor, q: str) -> ColumnElement[bool]:
    number = id_query(q)
    if number is None:
        return Person.name.contains(q.strip())
    if not actor.can(Permission.pii_reveal):
        raise PermissionDenied(
            _(
                "searching by ID number needs the permission to %(permission)s; search by name",
                permission=Permission.pii_reveal.text,
            )
        )
    return Person.id_number == number


def audit_lookup(*, session: Session, actor: Actor, f: PeopleFilter, found: int) -> None:
    """Record a search by ID number (the number masked), as every reveal is recorded."""
    number = id_query(f.q)
    if number is not None:
        begin_write(session)  # a GET: the audit row is a short write of its own
        audit.record(
            session=session, actor=actor, action=AuditAction.lookup, entity_type="person",
            area_code=f.area, detail={"id_number": identity.mask_id(number), "found": found},
        )  # fmt: skip


def _where(actor: Actor, f: PeopleFilter, today: date) -> list[ColumnElement[bool]]:
    actor.require_area(f.area)
    where = [
        actor.area_filter(Person.area_code),
        codes.in_subtree(Person.area_code, codes.short(f.area)),
    ]
    if f.grades:
        where.append(Person.grade.in_(f.grades))
    if f.missing:
        where.append(_missing(f.missing, today))
    if f.overdue:
        where.append(Person.due_on < today)
    if f.no_hospital:
        where.append(Person.hospital_id.is_(None))
    if f.alert_open:
        open_alert = select(Alert.id).where(
            Alert.person_id == Person.id,
            Alert.kind == AlertKind.referral,
            Alert.status == AlertStatus.open,
        )
        where.append(open_alert.exists())
    if f.responsible_id is not None:
        where.append(Person.responsible_id == f.responsible_id)
    if f.q.strip():
        where.append(_search(actor, f.q))
    return where


def urgency(today: date) -> tuple[Any, ...]:
    """The order of "most urgent first" (docs/people.md): red, then yellow, then green; within
    a grade, overdue check-ins first; then the most of the four guarantees missing; then the
    earliest next check-in."""
    overdue = case((Person.due_on < today, 0), else_=1)
    missing_each = [case((_missing(g, today), 1), else_=0) for g in Guarantee]
    missing = sum(missing_each[1:], missing_each[0])
    due = func.coalesce(Person.due_on, date.max)
    return URGENCY, overdue, missing.desc(), due, Person.id


def query(actor: Actor, f: PeopleFilter, today: date) -> Select[Person]:
    """People matching a filter, most urgent first (see ``urgency``)."""
    return select(Person).where(*_where(actor, f, today)).order_by(*urgency(today))


def count(*, session: Session, actor: Actor, f: PeopleFilter, today: date) -> int:
    """How many people match a filter (the total a list, and an export of it, holds)."""
    actor.require(Permission.people_read)
    where = _where(actor, f, today)
    return session.scalar(select(func.count()).select_from(Person).where(*where)) or 0


def list_people(
    *, session: Session, actor: Actor, f: PeopleFilter, page: int = 1, size: int = 50
) -> Page:
    """One page of the people matching a filter (a search by ID number is audited)."""
    actor.require(Permission.people_read)
    today = timeutil.today()
    size = max(1, min(size, MAX_PAGE))
    page = max(1, page)
    where = _where(actor, f, today)
    by_grade: dict[Grade, int] = {
        grade: n
        for grade, n in session.execute(
            select(Person.grade, func.count()).where(*where).group_by(Person.grade)
        ).all()
    }
    total = sum(by_grade.values())
    # Grade comes first in the order, so a page is read from the grades it spans only: the
    # rest of the order (computed per row) is sorted over those grades' people, not the area's
    # (a city's first page sorts its red people, not all of them).
    skip, wanted = (page - 1) * size, size
    items: list[Person] = []
    for grade in Grade:  # red, yellow, green: the order of URGENCY
        held = by_grade.get(grade, 0)
        if skip >= held:
            skip -= held
            continue
        found = session.scalars(
            query(actor, f, today)
            .where(Person.grade == grade)
            .options(joinedload(Person.responsible))
            .limit(wanted)
            .offset(skip)
        ).all()
        items.extend(found)
        skip, wanted = 0, wanted - len(found)
        if wanted <= 0:
            break
    audit_lookup(session=session, actor=actor, f=f, found=total)
    return Page(items, total, page, size)


def save_cells(
    *, session: Session, actor: Actor, cells: dict[str, str], source: ChangeSource
) -> tuple[Person, ImportResult]:
    """Create or update one person from cells named by sheet column key, through the same checks
    as a sheet import. A form or an API body names the fields it sets, so a blank cell here
    empties the field (in a sheet, a blank cell keeps the stored value)."""
    columns = [c for c in SPEC.importable if c.key in cells]
    given = [cells[c.key] if cells[c.key].strip() or c.required else CLEAR for c in columns]
    table = Table.of_rows(source.zh, [c.zh for c in columns], [given])
    table.keys = {c.key: i for i, c in enumerate(columns)}
    result = import_table(session=session, actor=actor, table=table, source=source)
    person = session.scalar(
        select(Person).where(Person.id_number == cells["id_number"].strip().upper())
    )
    assert person is not None
    return person, result


def override_grade(
    *, session: Session, actor: Actor, person_id: int, grade: Grade | None, reason: str
) -> Person:
    """Set a person's grade by hand (or, with ``grade`` None, return to the computed grade)."""
    actor.require(Permission.people_grade)
    person = get(session=session, actor=actor, person_id=person_id)
    reason = reason.strip()
    if len(reason) < MIN_REASON:
        raise InvalidInputError(_("a manual grade needs a reason"))
    before = person.grade
    override = records.Override(grade, reason) if grade is not None else None
    rederive(person, override)
    session.add(GradeChange(
        person_id=person.id, area_code=person.area_code, username=actor.username,
        from_grade=before, to_grade=person.grade, method=person.grade_method, reason=reason,
    ))  # fmt: skip
    coverage.refresh(session=session, villages=[person.area_code])
    audit.record(
        session=session, actor=actor, action=AuditAction.update, entity_type="person.grade",
        entity_id=str(person.id), area_code=person.area_code,
        detail={"from": before, "to": person.grade, "manual": grade is not None, "reason": reason},
    )  # fmt: skip
    return person


def rederive(
    person: Person, override: records.Override | bool | None = True, today: date | None = None
) -> None:
    """Recompute a person's derived columns after their grade, contacts or age changed (``True``
    keeps the manual grade standing on them)."""
    standing = current_override(person) if override is True else override or None
    inputs = {key: getattr(person, key) for key in records.INPUT_KEYS}
    session = object_session(person)
    found = (
        hospitals.facts(session, [person.hospital_id])
        if session is not None and person.hospital_id is not None
        else {}
    )
    derived = records.derive(
        inputs, id_number=person.id_number, registered_on=person.registered_on,
        last_contact_at=person.last_contact_at, override=standing,
        today=today or timeutil.today(), hospitals=found,
    )  # fmt: skip
    for key, value in derived.items():
        setattr(person, key, value)


def current_override(person: Person) -> records.Override | None:
    """The manual grade standing on a person, if any."""
    if person.grade_method is GradeMethod.manual and person.override_reason is not None:
        return records.Override(person.grade, person.override_reason)
    return None


class Revealed(NamedTuple):
    """A person's numbers in full."""

    id_number: str
    birth_date: date
    phone: str


def reveal(*, session: Session, actor: Actor, person_id: int, reason: str) -> Revealed:
    """A person's full ID number, birth date and phone, for a stated reason, written to the
    audit log."""
    actor.require(Permission.pii_reveal)
    person = get(session=session, actor=actor, person_id=person_id)
    if len(reason.strip()) < MIN_REASON:
        raise InvalidInputError(_("revealing needs a reason"))
    audit.record(
        session=session, actor=actor, action=AuditAction.reveal, entity_type="person",
        entity_id=str(person.id), area_code=person.area_code, detail={"reason": reason.strip()},
    )  # fmt: skip
    return Revealed(person.id_number, person.birth_date, person.phone)


@dataclass
class History:
    """A person's grade changes, record changes and follow-ups, newest first."""

    grades: list[GradeChange] = field(default_factory=list)
    changes: list[PersonChange] = field(default_factory=list)
    follow_ups: list[FollowUp] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)


def history(*, session: Session, actor: Actor, person_id: int, limit: int = 100) -> History:
    """What happened to a person."""
    person = get(session=session, actor=actor, person_id=person_id)

    def newest(model: Any, column: Any) -> list[Any]:
        return list(session.scalars(
            select(model).where(model.person_id == person.id).order_by(column.desc()).limit(limit)
        ))  # fmt: skip

    return History(
        grades=newest(GradeChange, GradeChange.id),
        changes=newest(PersonChange, PersonChange.id),
        follow_ups=newest(FollowUp, FollowUp.contacted_at),
        alerts=newest(Alert, Alert.id),
    )


def responsibles(*, session: Session, actor: Actor, area: str) -> list[Responsible]:
    """Responsible persons serving villages under an area."""
    actor.require(Permission.people_read)
    actor.require_area(area)
    return list(session.scalars(
        select(Responsible)
        .where(
            codes.in_subtree(Responsible.area_code, codes.short(area)),
            actor.area_filter(Responsible.area_code),
        )
        .order_by(Responsible.area_code, Responsible.name)
    ))  # fmt: skip


def add_responsible(*, session: Session, actor: Actor, responsible: Responsible) -> Responsible:
    """Register someone who can be put in charge of key people."""
    actor.require(Permission.people_edit)
    area = session.get(Area, responsible.area_code)
    if area is None:
        raise NotFoundError(_("no area %(area_code)s", area_code=responsible.area_code))
    actor.require_area(area.code, area.name)
    same = select(Responsible.id).where(
        Responsible.area_code == responsible.area_code,
        Responsible.name == responsible.name,
        Responsible.phone == responsible.phone,
    )
    if session.scalar(same) is not None:
        raise ConflictError(
            _(
                "%(area)s already has a responsible person of that name (and phone): "
                "choose them, or give a phone to tell the two apart",
                area=area.name,
            )
        )
    session.add(responsible)
    session.flush()
    audit.record(
        session=session, actor=actor, action=AuditAction.create, entity_type="responsible",
        entity_id=str(responsible.id), area_code=area.code, detail={"name": responsible.name},
    )  # fmt: skip
    return responsible


def link_user(
    *, session: Session, actor: Actor, responsible_id: int, username: str | None
) -> Responsible:
    """Link a responsible person to the user account they sign in with (``None`` unlinks), so
    that the tasks of their people's alerts reach them ("my tasks"). The account must be active
    and reach the responsible person's area."""
    actor.require(Permission.people_edit)
    responsible = session.get(Responsible, responsible_id)
    if responsible is None or not actor.reaches(responsible.area_code):
        raise NotFoundError(_("no responsible person %(id)s", id=responsible_id))
    user = None
    if username is not None:
        user = session.scalar(select(User).where(User.username == username.strip()))
        if user is None or not user.active:
            raise NotFoundError(_("no active user %(username)s", username=username.strip()))
        if user.area_code is not None and not responsible.area_code.startswith(
            codes.short(user.area_code)
        ):
            raise InvalidInputError(
                _(
                    "user %(username)s works outside %(name)s's area and would not see their "
                    "tasks", username=user.username, name=responsible.name,
                ),
                fields={"username": _("outside the responsible person's area")},
            )  # fmt: skip
    responsible.user_id = user.id if user is not None else None
    session.flush()
    audit.record(
        session=session, actor=actor, action=AuditAction.update, entity_type="responsible",
        entity_id=str(responsible.id), area_code=responsible.area_code,
        detail={"user": user.username if user is not None else None},
    )  # fmt: skip
    return responsible


def assign(
    *, session: Session, actor: Actor, person_ids: Sequence[int], responsible_id: int
) -> int:
    """Put one responsible person in charge of many people at once; return how many changed."""
    actor.require(Permission.people_edit)
    responsible = session.get(Responsible, responsible_id)
    if responsible is None or not actor.reaches(responsible.area_code):
        raise NotFoundError(_("no responsible %(responsible_id)s", responsible_id=responsible_id))
    people = session.scalars(
        select(Person).where(Person.id.in_(person_ids), actor.area_filter(Person.area_code))
    ).all()
    if len(people) != len(set(person_ids)):
        raise NotFoundError(_("some people were not found in your scope"))
    town = responsible.area_code[:9]
    if any(not p.area_code.startswith(town) for p in people):
        raise InvalidInputError(_("a responsible person serves their own town only"))
    changed = [p for p in people if p.responsible_id != responsible_id]
    before = {p.id: p.responsible_id for p in changed}  # the update below refreshes the objects
    now = timeutil.now()
    if changed:
        session.execute(
            update(Person),
            [{"id": p.id, "responsible_id": responsible_id, "updated_at": now} for p in changed],
        )
        for p in changed:
            session.add(PersonChange(
                person_id=p.id, area_code=p.area_code, changed_at=now, username=actor.username,
                source=ChangeSource.form,
                changes=f'{{"responsible_id": [{before[p.id] or "null"}, {responsible_id}]}}',
            ))  # fmt: skip
        coverage.refresh(session=session, villages={p.area_code for p in changed})
        audit.record_many(session=session, actor=actor, entries=[
            audit.Entry(AuditAction.update, "person", str(p.id), p.area_code,
                        {"responsible_id": [before[p.id], responsible_id]})
            for p in sorted(changed, key=lambda p: p.id)
        ])  # fmt: skip
    return len(changed)


def guarantee_states(
    person: Person, today: date, designated: Mapping[int, guarantees.Hospital] | None = None
) -> tuple[guarantees.GuaranteeState, ...]:
    """The four guarantees of a person on a day, each with why (the person's responsible
    person must be loaded). A list passes its people's ``designated`` hospitals, read once
    (``hospitals.facts``); alone, the person's own is read."""
    moment = person.last_contact_at
    if designated is None:
        session = object_session(person)
        designated = (
            hospitals.facts(session, [person.hospital_id])
            if session is not None and person.hospital_id is not None
            else {}
        )
    hospital = designated.get(person.hospital_id) if person.hospital_id is not None else None
    facts = guarantees.Facts(
        grade=person.grade, opted_in=person.followup_opt_in,
        responsible=person.responsible.name if person.responsible else None,
        last_contact=timeutil.local(moment).date() if moment else None, due=person.due_on,
        kit=person.kit_grade, kit_on=person.kit_on, hospital=hospital,
        needed=guarantees.needed_capabilities(
            person.conditions, identity.age_on(person.birth_date, today)
        ),
    )  # fmt: skip
    return guarantees.states(facts, today)


AGE_LIMITS = (65, 80)  # the ages at which the grading rules change
REGRADE_LOOKBACK_DAYS = 400  # people graded longer ago than this are looked at too


def _crossed_age_limit(today: date) -> ColumnElement[bool]:
    """People who reached 65 or 80 within the look-back window (a superset; each is checked)."""
    windows = []
    for years in AGE_LIMITS:
        latest = _years_before(today, years)
        windows.append(
            Person.birth_date.between(latest - timedelta(days=REGRADE_LOOKBACK_DAYS), latest)
        )
    return or_(*windows)


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def regrade(*, session: Session, actor: Actor, area: str, today: date | None = None) -> int:
    """Grade again the people under an area whose age band changed since they were graded (the
    rules change at 65 and 80); return how many changed grade. Run it daily."""
    actor.require(Permission.people_edit)
    area = codes.normalise(area)
    actor.require_area(area)
    day = today or timeutil.today()
    candidates = session.scalars(
        select(Person)
        .options(joinedload(Person.responsible))
        .where(
            codes.in_subtree(Person.area_code, codes.short(area)),
            actor.area_filter(Person.area_code),
            Person.graded_on < day,
            _crossed_age_limit(day),
        )
    ).all()
    grades = {p.id: p.grade for p in candidates}
    changed = [p for p in candidates if _regraded(session, actor, p, day)]
    if changed:
        coverage.refresh(session=session, villages={p.area_code for p in changed})
        audit.record_many(session=session, actor=actor, entries=[
            audit.Entry(AuditAction.update, "person.grade", str(p.id), p.area_code,
                        {"from": grades[p.id], "to": p.grade, "reason": "age"})
            for p in sorted(changed, key=lambda p: p.id)
        ])  # fmt: skip
    return len(changed)


def _regraded(session: Session, actor: Actor, person: Person, today: date) -> bool:
    """Derive a person's columns again as of today; record a grade change, if any."""
    band = grading.age_band(identity.age_on(person.birth_date, today))
    ruled = grading.grade(band, person.disease, grading.vaccination_of(person.vaccine_doses))
    if ruled.grade is person.rule_grade:
        return False
    before = person.grade
    rederive(person, today=today)
    if person.grade is not before:
        session.add(GradeChange(
            person_id=person.id, area_code=person.area_code, username=actor.username,
            from_grade=before, to_grade=person.grade, method=person.grade_method,
            reason="年龄段变化后重新定级 / regraded: age band changed",
        ))  # fmt: skip
    return True
