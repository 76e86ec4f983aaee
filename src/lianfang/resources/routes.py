"""API for medical resources (医疗资源): facilities, capacity reports, stock and its ledger,
reserve targets, staff strength and staff moves, key institutions, pairings, facility operators,
and the reserve of an area. Every answer is scoped by area in the service (``resources.service``,
``resources.ledger``, ``resources.views``); routes only translate and commit."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from lianfang.api.deps import CurrentActor, Offset, PathId, QueryId, Route, SessionDep, download
from lianfang.areas import codes
from lianfang.auth.choices import Permission
from lianfang.auth.models import User
from lianfang.errors import InvalidInputError
from lianfang.i18n import _
from lianfang.resources import exporting, ledger, reserve, service, views
from lianfang.resources.choices import FacilityStatus, FacilityType
from lianfang.resources.models import StockMovement
from lianfang.resources.schemas import (
    CapacityCreate,
    CapacityRead,
    CorrectionCreate,
    FacilityCreate,
    FacilityPage,
    FacilityRead,
    FacilityUpdate,
    InstitutionRead,
    InstitutionWrite,
    ItemRead,
    MovementCreate,
    MovementRead,
    OperatorCreate,
    OperatorRead,
    PairingCreate,
    PairingRead,
    ReserveRead,
    StaffMoveCreate,
    StaffMoveRead,
    StaffRead,
    StaffWrite,
    StockRowRead,
    TargetRead,
    TargetWrite,
)

router = APIRouter(tags=["resources 医疗资源"], route_class=Route)

Responses = dict[int | str, dict[str, Any]]
AreaQuery = Annotated[str, Query(description="area code (any form)")]
Limit = Annotated[int, Query(ge=1, le=views.MAX_LIMIT, description="rows at most")]
SCOPE: Responses = {403: {"description": "the area is outside your scope"},
         404: {"description": "no such area"}}  # fmt: skip
FACILITY: Responses = {404: {"description": "no such facility within your scope"}}


@router.get("/resources/items", response_model=list[ItemRead], summary="The item catalogue")
def list_items(session: SessionDep, actor: CurrentActor) -> list[ItemRead]:
    """Every drug and piece of equipment with its unit; movements name items by `id`."""
    actor.require(Permission.resources_read)
    return [ItemRead.of(i) for i in views.items(session)]


@router.get(
    "/resources/facilities", response_model=FacilityPage, summary="Facilities of an area",
    responses=SCOPE,
)  # fmt: skip
def list_facilities(
    session: SessionDep,
    actor: CurrentActor,
    area: AreaQuery,
    type: Annotated[
        list[FacilityType] | None, Query(description="repeatable: type=pharmacy&type=...")
    ] = None,
    status: Annotated[list[FacilityStatus] | None, Query(description="repeatable")] = None,
    q: Annotated[str, Query(max_length=50, description="part of the name")] = "",
    stale: Annotated[
        bool, Query(description="only facilities with a stale capacity report or stale stock")
    ] = False,
    offset: Offset = 0,
    limit: Limit = 100,
) -> FacilityPage:
    """Each with its newest capacity report and when its stock was last reported, flagged
    stale when older than the `stale_hours` setting."""
    found = views.facilities(
        session=session, actor=actor,
        f=service.FacilityFilter(area=area, types=frozenset(type or ()),
                                 statuses=frozenset(status or ()), q=q, stale_only=stale),
        sort=views.FacilitySort.area, offset=offset, limit=limit,
    )  # fmt: skip
    return FacilityPage(
        items=[FacilityRead.of(r) for r in found.items], total=found.total, offset=offset,
        limit=limit,
    )  # fmt: skip


@router.post(
    "/resources/facilities", response_model=FacilityRead, status_code=201,
    summary="Register a facility", responses=SCOPE,
)  # fmt: skip
def create_facility(body: FacilityCreate, session: SessionDep, actor: CurrentActor) -> FacilityRead:
    """Coordinates default to the area's centre; `code` must be new (409 otherwise)."""
    place = service.create_facility(session=session, actor=actor, data=body)
    session.commit()
    return FacilityRead.of(views.rows_of(session, [place])[0])


@router.get(
    "/resources/facilities/{facility_id}", response_model=FacilityRead,
    summary="One facility", responses=FACILITY,
)  # fmt: skip
def read_facility(facility_id: PathId, session: SessionDep, actor: CurrentActor) -> FacilityRead:
    """With its newest capacity report and when its stock was last reported."""
    row = views.facility_row(session=session, actor=actor, facility_id=facility_id)
    return FacilityRead.of(row)


@router.patch(
    "/resources/facilities/{facility_id}", response_model=FacilityRead,
    summary="Change a facility", responses=FACILITY,
)  # fmt: skip
def update_facility(
    facility_id: PathId, body: FacilityUpdate, session: SessionDep, actor: CurrentActor
) -> FacilityRead:
    """Fields left out stay as they are. Changing only `status` needs the right to report for
    the facility (a hospital operator for their own); anything else `resources.manage`."""
    if not body.model_fields_set:
        raise InvalidInputError(_("nothing to change: give at least one field"))
    place = service.update_facility(
        session=session, actor=actor, facility_id=facility_id, data=body
    )
    session.commit()
    return FacilityRead.of(views.rows_of(session, [place])[0])


@router.post(
    "/resources/facilities/{facility_id}/capacity", response_model=CapacityRead,
    status_code=201, summary="Report capacity", responses=FACILITY,
)  # fmt: skip
def report_capacity(
    facility_id: PathId, body: CapacityCreate, session: SessionDep, actor: CurrentActor
) -> CapacityRead:
    """Beds (general and intensive care, total and occupied), fever-clinic visits and staff on
    duty, as of now. A hospital operator reports for the facilities they operate."""
    report = service.report_capacity(
        session=session, actor=actor, facility_id=facility_id, data=body
    )
    session.commit()
    return CapacityRead.of(report)


@router.get(
    "/resources/facilities/{facility_id}/capacity", response_model=list[CapacityRead],
    summary="Capacity history", responses=FACILITY,
)  # fmt: skip
def capacity_history(
    facility_id: PathId, session: SessionDep, actor: CurrentActor,
    days: Annotated[int, Query(ge=1, le=366, description="the last so many days")] = 30,
) -> list[CapacityRead]:  # fmt: skip
    """The facility's reports, oldest first; each flagged stale when older than `stale_hours`."""
    reports = service.capacity_history(
        session=session, actor=actor, facility_id=facility_id, days=days
    )
    return [CapacityRead.of(r) for r in reports]


@router.get(
    "/resources/facilities/{facility_id}/stock", response_model=list[StockRowRead],
    summary="A facility's stock", responses=FACILITY,
)  # fmt: skip
def facility_stock(
    facility_id: PathId, session: SessionDep, actor: CurrentActor
) -> list[StockRowRead]:
    """Per item: balance (stale when older than `stale_hours`), days of supply, target,
    shortfall and the nearest facility of the county that could transfer."""
    rows = views.facility_stock(session=session, actor=actor, facility_id=facility_id)
    return [StockRowRead.of(r) for r in rows]


@router.get(
    "/resources/facilities/{facility_id}/movements", response_model=list[MovementRead],
    summary="A facility's ledger lines", responses=FACILITY,
)  # fmt: skip
def list_movements(
    facility_id: PathId, session: SessionDep, actor: CurrentActor, item_id: QueryId = None,
    limit: Limit = 50,
) -> list[MovementRead]:  # fmt: skip
    """Newest first, each marked when a correction has reversed it."""
    lines = views.movements(
        session=session, actor=actor, facility_id=facility_id, limit=limit, item_id=item_id
    )
    return [MovementRead.of(r.movement, r.item.code, r.corrected) for r in lines]


@router.post(
    "/resources/facilities/{facility_id}/movements", response_model=list[MovementRead],
    status_code=201, summary="Record a stock movement",
    responses={**FACILITY, 409: {"description": "the balance would go below zero"}},
)  # fmt: skip
def record_movement(
    facility_id: PathId, body: MovementCreate, session: SessionDep, actor: CurrentActor
) -> list[MovementRead]:
    """`receipt`, `issue` (to `person_id` or `ward`), `transfer` (to `to_facility_id`: a line
    out here and a line in there) or `count` (the number counted; the difference is booked as
    an adjustment, none when it agrees). Answers the lines written; an issue beyond the
    balance is refused (409, naming what is left) and writes nothing."""
    lines: list[StockMovement]
    if body.kind == "receipt":
        lines = [
            ledger.receive(
                session=session,
                actor=actor,
                facility_id=facility_id,
                item_id=body.item_id,
                quantity=body.quantity,
                note=body.note,
            )
        ]
    elif body.kind == "issue":
        lines = [
            ledger.issue(
                session=session,
                actor=actor,
                facility_id=facility_id,
                item_id=body.item_id,
                quantity=body.quantity,
                person_id=body.person_id,
                ward=body.ward,
                note=body.note,
            )
        ]
    elif body.kind == "transfer":
        if body.to_facility_id is None:
            raise InvalidInputError(_("a transfer names the receiving facility (to_facility_id)"))
        lines = list(
            ledger.transfer(
                session=session,
                actor=actor,
                facility_id=facility_id,
                item_id=body.item_id,
                quantity=body.quantity,
                to_facility_id=body.to_facility_id,
                note=body.note,
            )
        )
    else:
        counted = ledger.count(
            session=session,
            actor=actor,
            facility_id=facility_id,
            item_id=body.item_id,
            counted=body.quantity,
            note=body.note,
        )
        lines = [] if counted is None else [counted]
    session.commit()
    item = ledger.item(session, body.item_id)
    return [MovementRead.of(m, item.code) for m in lines]


@router.post(
    "/resources/movements/{movement_id}/correction", response_model=list[MovementRead],
    status_code=201, summary="Correct a ledger line by its counter-movement",
    responses={404: {"description": "no such line within your scope"},
               409: {"description": "already corrected, or the balance would go below zero"}},
)  # fmt: skip
def correct_movement(
    movement_id: PathId, body: CorrectionCreate, session: SessionDep, actor: CurrentActor
) -> list[MovementRead]:
    """Reverses the line (and the other side of a transfer); a line is corrected once, a
    correction never."""
    lines = ledger.reverse(session=session, actor=actor, movement_id=movement_id, note=body.note)
    session.commit()
    codes = {i.id: i.code for i in views.items(session)}
    return [MovementRead.of(m, codes[m.item_id]) for m in lines]


@router.get(
    "/resources/facilities/{facility_id}/staff", response_model=list[StaffRead],
    summary="A facility's staff strength", responses=FACILITY,
)  # fmt: skip
def list_staff(facility_id: PathId, session: SessionDep, actor: CurrentActor) -> list[StaffRead]:
    """One row per role: total, on duty, off sick, infected, back, and who worked 14+ days."""
    rows = views.staff(session=session, actor=actor, facility_id=facility_id)
    return [StaffRead.of(r.strength) for r in rows]


@router.put(
    "/resources/facilities/{facility_id}/staff", response_model=StaffRead,
    summary="Report one role's staff strength", responses=FACILITY,
)  # fmt: skip
def set_staff(
    facility_id: PathId, body: StaffWrite, session: SessionDep, actor: CurrentActor
) -> StaffRead:
    """Replaces that role's figures at the facility."""
    row = service.set_staff(session=session, actor=actor, facility_id=facility_id, data=body)
    session.commit()
    return StaffRead.of(row)


@router.post(
    "/resources/facilities/{facility_id}/staff-moves", response_model=StaffMoveRead,
    status_code=201, summary="Send someone down or reassign them", responses=FACILITY,
)  # fmt: skip
def add_staff_move(
    facility_id: PathId, body: StaffMoveCreate, session: SessionDep, actor: CurrentActor
) -> StaffMoveRead:
    """From this facility to `to_facility_id`, from `start_on` (to `end_on`)."""
    move = service.add_staff_move(session=session, actor=actor, facility_id=facility_id, data=body)
    session.commit()
    origin = ledger.facility(session, actor, move.from_id)
    target = session.get(type(origin), move.to_id)
    assert target is not None
    return StaffMoveRead.of(move, origin, target)


@router.get(
    "/resources/staff-moves", response_model=list[StaffMoveRead],
    summary="Staff sent down or reassigned into an area", responses=SCOPE,
)  # fmt: skip
def list_staff_moves(
    session: SessionDep, actor: CurrentActor, area: AreaQuery,
    current: Annotated[bool, Query(description="only those under way today")] = False,
) -> list[StaffMoveRead]:  # fmt: skip
    """Newest first."""
    rows = views.staff_moves(session=session, actor=actor, area_code=area, current_only=current)
    return [StaffMoveRead.of(m, f, t) for m, f, t in rows]


@router.put(
    "/resources/facilities/{facility_id}/institution", response_model=InstitutionRead,
    summary="Report a key institution's state", responses=FACILITY,
)  # fmt: skip
def set_institution(
    facility_id: PathId, body: InstitutionWrite, session: SessionDep, actor: CurrentActor
) -> InstitutionRead:
    """A nursing home's beds, residents, residents ill and last inspection."""
    row = service.set_institution(session=session, actor=actor, facility_id=facility_id, data=body)
    session.commit()
    return InstitutionRead.of(row, ledger.facility(session, actor, facility_id))


@router.get(
    "/resources/institutions", response_model=list[InstitutionRead],
    summary="Key institutions of an area", responses=SCOPE,
)  # fmt: skip
def list_institutions(
    session: SessionDep, actor: CurrentActor, area: AreaQuery
) -> list[InstitutionRead]:
    """Nursing homes, most residents ill first."""
    rows = views.institutions(session=session, actor=actor, area_code=area)
    return [InstitutionRead.of(i, f) for i, f in rows]


@router.post(
    "/resources/facilities/{facility_id}/pairings", response_model=PairingRead, status_code=201,
    summary="Pair an urban hospital with a partner", responses=FACILITY,
)  # fmt: skip
def add_pairing(
    facility_id: PathId, body: PairingCreate, session: SessionDep, actor: CurrentActor
) -> PairingRead:
    """The facility in the path is the urban hospital; `partner_id` the one it supports."""
    pairing = service.add_pairing(session=session, actor=actor, facility_id=facility_id, data=body)
    session.commit()
    return PairingRead.of(
        pairing, ledger.facility(session, actor, pairing.urban_id),
        ledger.facility(session, actor, pairing.partner_id),
    )  # fmt: skip


@router.get(
    "/resources/pairings", response_model=list[PairingRead],
    summary="Pairings whose partner lies in an area", responses=SCOPE,
)  # fmt: skip
def list_pairings(session: SessionDep, actor: CurrentActor, area: AreaQuery) -> list[PairingRead]:
    """Urban–rural pairing (城乡医院对口帮扶)."""
    rows = views.pairings(session=session, actor=actor, area_code=area)
    return [PairingRead.of(p, u, q) for p, u, q in rows]


@router.get(
    "/resources/facilities/{facility_id}/operators", response_model=list[OperatorRead],
    summary="Who reports for a facility", responses=FACILITY,
)  # fmt: skip
def list_operators(
    facility_id: PathId, session: SessionDep, actor: CurrentActor
) -> list[OperatorRead]:
    """The hospital operators named for it."""
    users = views.operators(session=session, actor=actor, facility_id=facility_id)
    return [_operator(facility_id, u) for u in users]


@router.post(
    "/resources/facilities/{facility_id}/operators", response_model=OperatorRead,
    status_code=201, summary="Name a hospital operator for a facility", responses=FACILITY,
)  # fmt: skip
def add_operator(
    facility_id: PathId, body: OperatorCreate, session: SessionDep, actor: CurrentActor
) -> OperatorRead:
    """Needs `users.manage`; the user must be a hospital operator within your scope. Naming
    one already named changes nothing."""
    service.assign_operator(
        session=session, actor=actor, facility_id=facility_id, user_id=body.user_id
    )
    session.commit()
    user = session.get(User, body.user_id)
    assert user is not None
    return _operator(facility_id, user)


def _operator(facility_id: int, user: User) -> OperatorRead:
    return OperatorRead(
        facility_id=facility_id, user_id=user.id, username=user.username,
        display_name=user.display_name, area_code=user.area_code or "",
    )  # fmt: skip


@router.get(
    "/resources/targets", response_model=list[TargetRead],
    summary="Reserve targets set in an area", responses=SCOPE,
)  # fmt: skip
def list_targets(session: SessionDep, actor: CurrentActor, area: AreaQuery) -> list[TargetRead]:
    """The targets set for the area and the areas below it (the defaults of docs/resources.md
    apply elsewhere)."""
    rows = views.targets(session=session, actor=actor, area_code=area)
    return [TargetRead.of(t, i) for t, i in rows]


@router.put(
    "/resources/targets", response_model=TargetRead, summary="Set an area's reserve target",
    responses=SCOPE,
)  # fmt: skip
def set_target(body: TargetWrite, session: SessionDep, actor: CurrentActor) -> TargetRead:
    """For one item at one type of facility in the area and below: units per facility or a
    share of the population served. Replaces the area's earlier target for the same pair."""
    row = service.set_target(session=session, actor=actor, data=body)
    session.commit()
    return TargetRead.of(row, ledger.item(session, row.item_id))


RESERVE_PAGE, RESERVE_PAGE_MAX = 1000, 5000
"""Rows of the reserve an answer holds by default, and at most (Jiangsu has 270,000)."""


@router.get(
    "/resources/reserve",
    response_model=ReserveRead,
    summary="Stock, days of supply, targets and shortfalls of an area",
    responses=SCOPE,
)
def area_reserve(
    session: SessionDep,
    actor: CurrentActor,
    area: Annotated[str, Query(description="area code (any form)")],
    short: Annotated[bool, Query(description="only rows below target")] = False,
    limit: Annotated[int, Query(ge=1, le=RESERVE_PAGE_MAX)] = RESERVE_PAGE,
    offset: Offset = 0,
) -> ReserveRead:
    """Per facility and item: balance (stale when older than `stale_hours`), days of supply,
    the reserve target, the shortfall and the nearest facility that could transfer. A page of
    `limit` rows from `offset` (by facility, then item; below target, the furthest below first);
    `total` counts them all."""
    read = reserve.reserve(session=session, actor=actor, area_code=area)
    return ReserveRead.of(read, short, offset, limit)


ExportKind = Annotated[
    str, Query(pattern="^(facilities|capacity|stock)$",
               description="facilities, capacity (reports) or stock (each balance, as a count)"),
]  # fmt: skip


@router.get(
    "/resources/export", summary="Export facilities, capacity reports or stock (.xlsx or .csv)",
    responses=SCOPE,
)  # fmt: skip
def export_resources(
    session: SessionDep, actor: CurrentActor, kind: ExportKind, area: AreaQuery,
    format: Annotated[str, Query(pattern="^(xlsx|csv)$")] = "xlsx",
) -> Response:  # fmt: skip
    """The facilities, capacity reports or stock balances of the facilities of an area in your
    scope, in the sheet `lianfang resources import` reads, so the file imports again unchanged
    (CSV cells a spreadsheet would run as a formula get a leading quote, taken off on import).
    Audited as an export."""
    data, _rows = exporting.export(
        session=session, actor=actor, kind=kind, area_code=area, file_format=format
    )
    session.commit()
    return download(data, f"{kind}-{codes.short(codes.normalise(area))}.{format}")
