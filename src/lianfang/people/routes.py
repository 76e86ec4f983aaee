"""API for the key-population registry (重点人群): people, follow-ups, alerts, coverage, files.

Fixed paths (/people/alerts, /people/template, …) come before /people/{person_id}."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from lianfang.alerts import service as alert_service
from lianfang.alerts.choices import AlertKind
from lianfang.api.deps import CurrentActor, Offset, PageNumber, PathId, QueryId, Route, SessionDep
from lianfang.areas import codes
from lianfang.areas.choices import AreaLevel
from lianfang.auth.scope import Actor
from lianfang.errors import ImportFileError
from lianfang.people import flows, followups, hospitals, identity, kits, overview, service
from lianfang.people.choices import (
    AlertStatus,
    ChangeSource,
    CoverageSort,
    Grade,
    Guarantee,
    SortOrder,
)
from lianfang.people.models import Person, Responsible
from lianfang.people.schemas import (
    AlertClose,
    AlertPage,
    AlertRead,
    AssignCreate,
    AssignRead,
    CoverageRead,
    FollowUpCreate,
    FollowUpRead,
    FollowUpResult,
    GradeCreate,
    HistoryRead,
    KitIssueCreate,
    KitIssueRead,
    PersonCreate,
    PersonPage,
    PersonRead,
    PersonWrite,
    ResponsibleCreate,
    ResponsibleRead,
    ResponsibleUser,
    RevealCreate,
    RevealRead,
)
from lianfang.people.sheet import SPEC

router = APIRouter(tags=["people 重点人群"], route_class=Route)
FIELD_OF = {c.zh: c.key for c in SPEC.columns} | {
    c.zh: "conditions" for c in SPEC.columns if c.key.startswith("condition_")
}

AreaQuery = Annotated[str, Query(description="area code (any form)")]
Grades = Annotated[list[Grade] | None, Query(description="repeatable: grade=red&grade=yellow")]
Missing = Annotated[Guarantee | None, Query(description="red/yellow people lacking a guarantee")]


def filter_of(
    area: str, grade: Sequence[Grade] | None, missing: Guarantee | None, overdue: bool,
    alert_open: bool, responsible_id: int | None, q: str, no_hospital: bool = False,
) -> service.PeopleFilter:  # fmt: skip
    return service.PeopleFilter(
        area=codes.normalise(area), grades=frozenset(grade or ()), missing=missing,
        overdue=overdue, alert_open=alert_open, responsible_id=responsible_id, q=q,
        no_hospital=no_hospital,
    )  # fmt: skip


@router.get(
    "/areas/{code}/coverage", response_model=CoverageRead, summary="Four-guarantee coverage"
)
def area_coverage(
    code: str, session: SessionDep, actor: CurrentActor,
    level: Annotated[AreaLevel | None, Query(
        description="list every area of this level below (town: all the towns of a city); "
        "default: the children")] = None,
    sort: Annotated[CoverageSort, Query(
        description="order of the areas: code, a grade, a guarantee's missing people "
        "(medicine) or share missing (medicine_pct), overdue, alerts")] = CoverageSort.code,
    order: Annotated[SortOrder | None, Query(
        description="asc or desc (default: figures largest first, code ascending)")] = None,
) -> CoverageRead:  # fmt: skip
    """Red/yellow/green counts, each guarantee's covered/missing (red and yellow apart)/share,
    overdue check-ins, people with no one in charge and open alerts — for the area and each of
    its children, or for every area of a deeper level (a ranking of all the towns of a city by
    a guarantee's gap: `?level=town&sort=medicine_pct`)."""
    return overview.coverage_read(
        session=session, actor=actor, code=code, level=level, sort=sort,
        descending=SortOrder.descending(order),
    )  # fmt: skip


def _read(session: Session, person: Person) -> PersonRead:
    opened = overview.open_alerts(session=session, person_ids=[person.id])
    return PersonRead.of(person, opened.get(person.id, 0))


@router.get("/people", response_model=PersonPage, summary="Key people, most urgent first")
def list_people(
    session: SessionDep,
    actor: CurrentActor,
    area: AreaQuery,
    grade: Grades = None,
    missing: Missing = None,
    overdue: Annotated[bool, Query(description="check-in overdue")] = False,
    alert_open: Annotated[bool, Query(description="with an open referral alert")] = False,
    responsible_id: QueryId = None,
    q: Annotated[str, Query(max_length=50, description="name, or a whole ID number")] = "",
    no_hospital: Annotated[
        bool, Query(description="no designated hospital (never assigned, or not matched)")
    ] = False,
    page: PageNumber = 1,
    size: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = 50,
) -> PersonPage:
    """Most urgent first: red, yellow, green; within a grade overdue check-ins first, then
    the most guarantees missing, then the earliest next check-in. Numbers are masked and ages
    stand in for birth dates. `q` searches names, or a whole ID number (needs `pii.reveal`;
    audited as `lookup`)."""
    f = filter_of(area, grade, missing, overdue, alert_open, responsible_id, q, no_hospital)
    found = service.list_people(session=session, actor=actor, f=f, page=page, size=size)
    session.commit()  # a search by ID number is audited
    counts = overview.open_alerts(session=session, person_ids=[p.id for p in found.items])
    designated = hospitals.facts(session, (p.hospital_id for p in found.items))
    items = [PersonRead.of(p, counts.get(p.id, 0), designated) for p in found.items]
    return PersonPage(items=items, total=found.total, page=found.page, size=found.size)


def row_errors(error: ImportFileError, **extra: Any) -> JSONResponse:
    """A 422 naming the field (API) or row and column (sheet) of every problem."""
    detail = [
        {
            "field": FIELD_OF.get(e.column, e.column),
            "row": e.row,
            "column": e.column,
            "message_zh": e.zh,
            "message_en": e.en,
        }
        for e in error.rows
    ]
    return JSONResponse(
        status_code=422,
        content={"error": "invalid", "message": error.zh, "message_zh": error.zh,
                 "message_en": error.en, "detail": detail, **extra},
    )  # fmt: skip


def _save(session: Session, actor: Actor, cells: dict[str, str]) -> Person | JSONResponse:
    try:
        person, _ = service.save_cells(
            session=session, actor=actor, cells=cells, source=ChangeSource.api
        )
    except ImportFileError as error:
        if not error.rows:
            raise
        session.rollback()
        return row_errors(error)
    session.commit()
    return service.get(session=session, actor=actor, person_id=person.id)


@router.post(
    "/people",
    response_model=PersonRead,
    status_code=201,
    summary="Register a person (or update one by ID number)",
    responses={422: {"description": "a field failed the sheet's checks; detail names it"}},
)
def create_person(body: PersonCreate, session: SessionDep, actor: CurrentActor) -> Any:
    """The same checks as a sheet import; the grade is computed from the inputs."""
    saved = _save(session, actor, body.cells())
    return saved if isinstance(saved, JSONResponse) else _read(session, saved)


@router.get("/people/alerts", response_model=AlertPage, summary="Referral alerts")
def list_alerts(
    session: SessionDep,
    actor: CurrentActor,
    area: AreaQuery,
    status: Annotated[AlertStatus | None, Query(description="default: open")] = AlertStatus.open,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Offset = 0,
) -> AlertPage:
    """Referral alerts under an area, the most severe first (the alert engine's, of kind
    ``referral``; ``/api/alerts`` has every kind)."""
    rows, total = alert_service.list_alerts(
        session=session, actor=actor, limit=limit, offset=offset,
        f=alert_service.AlertFilter(
            area=codes.normalise(area), status=status, kinds=frozenset({AlertKind.referral})
        ),
    )  # fmt: skip
    return AlertPage(items=[AlertRead.of(a) for a in rows], total=total)


@router.post("/people/alerts/{alert_id}/close", response_model=AlertRead, summary="Close an alert")
def close_alert(
    alert_id: PathId, body: AlertClose, session: SessionDep, actor: CurrentActor
) -> AlertRead:
    """Record how the alert was handled (at least 4 characters) and close it."""
    alert = alert_service.close(session=session, actor=actor, alert_id=alert_id, note=body.note)
    session.commit()
    return AlertRead.of(alert)


@router.get(
    "/people/responsibles", response_model=list[ResponsibleRead], summary="Responsible persons"
)
def list_responsibles(
    session: SessionDep, actor: CurrentActor, area: AreaQuery
) -> list[ResponsibleRead]:
    """Family doctors, village doctors and grid workers serving villages under an area."""
    found = service.responsibles(session=session, actor=actor, area=codes.normalise(area))
    return [ResponsibleRead.of(r) for r in found]


@router.post(
    "/people/responsibles",
    response_model=ResponsibleRead,
    status_code=201,
    summary="Register a responsible person",
)
def create_responsible(
    body: ResponsibleCreate, session: SessionDep, actor: CurrentActor
) -> ResponsibleRead:
    """Someone who can then be put in charge of key people in their town."""
    phone = identity.normalise_phone(body.phone) if body.phone else ""
    responsible = service.add_responsible(
        session=session, actor=actor,
        responsible=Responsible(area_code=body.area_code, name=body.name.strip(), kind=body.kind,
                                phone=phone),
    )  # fmt: skip
    session.commit()
    return ResponsibleRead.of(responsible)


@router.put(
    "/people/responsibles/{responsible_id}/user",
    response_model=ResponsibleRead,
    summary="Link a responsible person to a user account",
)
def link_responsible_user(
    responsible_id: PathId, body: ResponsibleUser, session: SessionDep, actor: CurrentActor
) -> ResponsibleRead:
    """The account the village doctor or grid worker signs in with (`null` unlinks): the tasks
    of their people's alerts are then theirs ("my tasks")."""
    responsible = service.link_user(
        session=session, actor=actor, responsible_id=responsible_id, username=body.username
    )
    session.commit()
    return ResponsibleRead.of(responsible)


@router.post("/people/assign", response_model=AssignRead, summary="Assign a responsible person")
def assign(body: AssignCreate, session: SessionDep, actor: CurrentActor) -> AssignRead:
    """Put one responsible person in charge of many people of their town at once."""
    changed = service.assign(
        session=session, actor=actor, person_ids=body.person_ids,
        responsible_id=body.responsible_id,
    )  # fmt: skip
    session.commit()
    return AssignRead(changed=changed)


@router.get("/people/{person_id}", response_model=PersonRead, summary="A person")
def get_person(person_id: PathId, session: SessionDep, actor: CurrentActor) -> PersonRead:
    """A person within your scope, with grade, guarantees and open alerts; numbers masked."""
    return _read(session, service.get(session=session, actor=actor, person_id=person_id))


@router.patch(
    "/people/{person_id}",
    response_model=PersonRead,
    summary="Change a person",
    responses={422: {"description": "a field failed the sheet's checks; detail names it"}},
)
def update_person(
    person_id: PathId, body: PersonWrite, session: SessionDep, actor: CurrentActor
) -> Any:
    """Only the fields sent change; the grade is recomputed (a manual grade stands)."""
    person = service.get(session=session, actor=actor, person_id=person_id)
    cells = {"id_number": person.id_number, "name": person.name, "area_code": person.area_code}
    saved = _save(session, actor, cells | body.cells())
    return saved if isinstance(saved, JSONResponse) else _read(session, saved)


@router.post(
    "/people/{person_id}/reveal", response_model=RevealRead, summary="Full ID, birth date, phone"
)
def reveal(
    person_id: PathId, body: RevealCreate, session: SessionDep, actor: CurrentActor
) -> RevealRead:
    """The unmasked ID number, birth date and phone, for a stated reason (audited)."""
    found = service.reveal(session=session, actor=actor, person_id=person_id, reason=body.reason)
    session.commit()
    return RevealRead(
        id=person_id, id_number=found.id_number, birth_date=found.birth_date, phone=found.phone
    )


@router.post("/people/{person_id}/grade", response_model=PersonRead, summary="Override the grade")
def override_grade(
    person_id: PathId, body: GradeCreate, session: SessionDep, actor: CurrentActor
) -> PersonRead:
    """Set the grade by hand with a reason; `grade: null` returns to the computed grade."""
    person = service.override_grade(
        session=session, actor=actor, person_id=person_id, grade=body.grade, reason=body.reason
    )
    session.commit()
    return _read(session, service.get(session=session, actor=actor, person_id=person.id))


@router.get("/people/{person_id}/history", response_model=HistoryRead, summary="History")
def history(person_id: PathId, session: SessionDep, actor: CurrentActor) -> HistoryRead:
    """Grade changes (with reasons), record changes, follow-ups and alerts, newest first."""
    return HistoryRead.of(service.history(session=session, actor=actor, person_id=person_id))


@router.post(
    "/people/{person_id}/kits",
    response_model=KitIssueRead,
    status_code=201,
    summary="Issue a kit (发放药包) from a clinic's stock",
    responses={409: {"description": "the clinic holds none of that kit (the balance is named)"}},
)
def issue_kit(
    person_id: PathId, body: KitIssueCreate, session: SessionDep, actor: CurrentActor
) -> KitIssueRead:
    """One ledger line takes the kit out of the clinic's stock (the person's village clinic
    unless `facility_id` names another clinic or health centre of their town) and the person's
    有药用 is derived again. Needs `people.edit` and `resources.report` at the clinic; refused
    (409) when the clinic holds none. Correcting the line
    (`lianfang.resources.ledger.reverse`) takes 有药用 back."""
    issued = kits.issue(
        session=session, actor=actor, person_id=person_id,
        kit=Grade.of(body.kit) if body.kit else None, facility_id=body.facility_id, note=body.note,
    )  # fmt: skip
    session.commit()
    return KitIssueRead.of(issued)


@router.post(
    "/people/{person_id}/follow-ups",
    response_model=FollowUpResult,
    status_code=201,
    summary="Record a follow-up",
)
def record_follow_up(
    person_id: PathId, body: FollowUpCreate, session: SessionDep, actor: CurrentActor
) -> FollowUpResult:
    """Moves the next check-in; raises a referral alert on SpO2 < 93%, breathing difficulty or
    persistent high fever, and returns it."""
    contact = followups.Contact(
        method=body.method, contacted_at=body.contacted_at, temperature_c=body.temperature_c,
        spo2_pct=body.spo2_pct, symptoms=frozenset(body.symptoms), fever_days=body.fever_days,
        notes=body.notes, client_token=body.client_token,
    )  # fmt: skip
    follow_up, alert = flows.record_follow_up(
        session=session, actor=actor, person_id=person_id, contact=contact
    )
    session.commit()
    return FollowUpResult(
        follow_up=FollowUpRead.of(follow_up), alert=AlertRead.of(alert) if alert else None
    )
