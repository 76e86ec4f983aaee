"""API for duty rosters (值班值守): who is on duty where and when, who is on duty now, handover
notes, and the roster sheet (template, import all or nothing, export)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, Response

from lianfang import timeutil
from lianfang.api.deps import CurrentActor, PathId, Route, SessionDep, download
from lianfang.areas import codes
from lianfang.auth.choices import Permission
from lianfang.duty import exporting, importing, service
from lianfang.duty.schemas import (
    DutyImportOptions,
    DutyImportRead,
    DutyShiftCreate,
    DutyShiftRead,
    DutyShiftUpdate,
    HandoverCreate,
    HandoverRead,
    HandoversRead,
    OnDutyRead,
)
from lianfang.duty.sheet import SPEC
from lianfang.errors import ImportFileError
from lianfang.io import sheets
from lianfang.people.routes import row_errors

router = APIRouter(prefix="/duty", tags=["duty 值班"], route_class=Route)
AreaQuery = Annotated[str, Query(max_length=12, description="area code (any form)")]
FromQuery = Annotated[date | None, Query(alias="from", description="first day (default: today)")]
ToQuery = Annotated[date | None, Query(alias="to", description="last day (default: a week on)")]


def _range(start: date | None, end: date | None) -> tuple[date, date]:
    first = start or timeutil.today()
    return first, end or date.fromordinal(first.toordinal() + 6)


@router.get("", response_model=list[DutyShiftRead], summary="Duty shifts of an area")
def list_shifts(
    session: SessionDep,
    actor: CurrentActor,
    area: AreaQuery,
    start: FromQuery = None,
    end: ToQuery = None,
    depth: Annotated[
        int | None, Query(ge=0, le=4, description="levels below (default: all)")
    ] = None,
) -> list[DutyShiftRead]:
    """Who is on duty in the area and below it, day by day (at most 92 days)."""
    first, last = _range(start, end)
    found = service.listed(session=session, actor=actor, area_code=area, start=first, end=last,
                           depth=depth)  # fmt: skip
    return [DutyShiftRead.of(s, actor) for s in found]


@router.get("/now", response_model=OnDutyRead, summary="Who is on duty now (or tonight)")
def on_duty(
    session: SessionDep,
    actor: CurrentActor,
    area: AreaQuery,
    at: Annotated[datetime | None, Query(description="a moment instead of now")] = None,
    tonight: Annotated[bool, Query(description="22:00 today instead of now")] = False,
) -> OnDutyRead:
    """The leader and staff on duty for the area; when the area has nobody, those of the
    nearest area above (``fallback``); and the last handover note there."""
    if tonight:
        found = service.tonight(session=session, actor=actor, area_code=area)
    else:
        moment = at if at is None or at.tzinfo else at.replace(tzinfo=timeutil.LOCAL_TZ)
        found = service.on_duty(session=session, actor=actor, area_code=area, at=moment)
    return OnDutyRead.of(found, actor)


@router.post("", response_model=DutyShiftRead, status_code=201, summary="Put someone on duty")
def create_shift(body: DutyShiftCreate, session: SessionDep, actor: CurrentActor) -> DutyShiftRead:
    """409 when the person is already on duty then, or the area's shift has a leader."""
    row = service.create(session=session, actor=actor, data=body.data())
    session.commit()
    return DutyShiftRead.of(row, actor)


@router.patch("/{shift_id}", response_model=DutyShiftRead, summary="Change a duty shift")
def update_shift(
    shift_id: PathId, body: DutyShiftUpdate, session: SessionDep, actor: CurrentActor
) -> DutyShiftRead:
    """The same rules as putting someone on duty."""
    row = service.update(session=session, actor=actor, shift_id=shift_id, data=body.data())
    session.commit()
    return DutyShiftRead.of(row, actor)


@router.delete("/{shift_id}", status_code=204, summary="Take someone off duty")
def delete_shift(shift_id: PathId, session: SessionDep, actor: CurrentActor) -> Response:
    """Audited."""
    service.delete(session=session, actor=actor, shift_id=shift_id)
    session.commit()
    return Response(status_code=204)


@router.post(
    "/handovers", response_model=HandoverRead, status_code=201, summary="Write a handover note"
)
def hand_over(body: HandoverCreate, session: SessionDep, actor: CurrentActor) -> HandoverRead:
    """The outgoing shift's note for the incoming one: open matters, calls to return."""
    row = service.hand_over(session=session, actor=actor, area_code=body.area_code,
                            on_date=body.on_date, shift=body.shift, text=body.text)  # fmt: skip
    session.commit()
    return HandoverRead.of(row)


@router.get("/handovers", response_model=list[HandoverRead], summary="Handover notes of an area")
def list_handovers(
    session: SessionDep, actor: CurrentActor, area: AreaQuery, start: FromQuery = None,
    end: ToQuery = None,
) -> list[HandoverRead]:  # fmt: skip
    """The area's own notes between two days (default: the week before today), newest first."""
    last = end or timeutil.today()
    first = start or date.fromordinal(last.toordinal() - 6)
    found = service.handovers(session=session, actor=actor, area_code=area, start=first, end=last)
    return [HandoverRead.of(h) for h in found]


@router.post(
    "/handovers/read", response_model=list[HandoverRead], summary="Mark handover notes read"
)
def read_handovers(
    body: HandoversRead, session: SessionDep, actor: CurrentActor
) -> list[HandoverRead]:
    """The incoming person has read them (the first reader of each is kept)."""
    rows = service.mark_handovers_read(session=session, actor=actor, handover_ids=body.ids)
    session.commit()
    return [HandoverRead.of(h) for h in rows]


@router.get("/template", summary="The duty-roster sheet template (.xlsx)")
def template(actor: CurrentActor) -> Response:
    """Headers in Chinese with notes and drop-down lists; an import reads English headers too."""
    actor.require(Permission.duty_manage)
    return download(exporting.template(), "duty-template.xlsx")


@router.post(
    "/import", response_model=DutyImportRead,
    summary="Import a duty-roster sheet (.xlsx or .csv), all or nothing",
    responses={422: {"description": "each invalid row with its row and column"}},
)  # fmt: skip
def import_roster(
    session: SessionDep,
    actor: CurrentActor,
    body: Annotated[DutyImportOptions, File()],  # File(): the form carries a file (multipart)
) -> Any:
    """Every row is checked first; one invalid row rejects the file and nothing is written
    (422 with each problem's row and column)."""
    actor.require(Permission.duty_manage)
    table = sheets.read(body.file.file.read(), body.file.filename or "duty.xlsx", SPEC)
    try:
        result = importing.import_table(
            session=session, actor=actor, table=table, dry_run=body.dry_run
        )
    except ImportFileError as error:
        if not error.rows:
            raise
        session.rollback()
        return row_errors(error)
    session.commit()
    return DutyImportRead.of(result)


@router.get("/export", summary="Export an area's duty roster (.xlsx or .csv)")
def export_roster(
    session: SessionDep,
    actor: CurrentActor,
    area: AreaQuery,
    start: FromQuery = None,
    end: ToQuery = None,
    format: Annotated[str, Query(pattern="^(xlsx|csv)$")] = "xlsx",
) -> Response:
    """The area's and every area below it's duty shifts as the import's sheet (imports back);
    phones masked unless you may reveal personal data. Audited."""
    first, last = _range(start, end)
    data, _ = exporting.export(session=session, actor=actor, area_code=area, start=first,
                               end=last, file_format=format)  # fmt: skip
    session.commit()
    return download(data, f"duty-{codes.short(codes.normalise(area))}-{first}.{format}")
