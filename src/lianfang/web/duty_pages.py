"""The duty-roster page: a week of an area and the areas one level below it (areas as rows,
days as columns, the leader and staff of each shift), who is on duty now, handover notes, and —
for those who arrange rosters — the forms, the sheet import and the links to the template and
the export."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.api.deps import PathId, Route, SessionDep, check_csrf
from lianfang.areas import codes
from lianfang.areas.models import Area
from lianfang.auth.choices import Permission
from lianfang.duty import importing, service
from lianfang.duty.choices import DutyRole, Shift
from lianfang.duty.models import DutyShift
from lianfang.duty.sheet import SPEC
from lianfang.errors import ImportFileError, ImportRowError, LianfangError
from lianfang.i18n import Text
from lianfang.io import sheets
from lianfang.web.pages import SignedIn, SignedInDep, render

router = APIRouter(include_in_schema=False, route_class=Route)
DAYS = 7


@dataclass(frozen=True)
class Cell:
    """One area's duty on one day, shift by shift (leaders first)."""

    shifts: list[tuple[Shift, list[DutyShift]]]


@dataclass(frozen=True)
class GridRow:
    area: Area
    cells: list[Cell]


def _grid(session: Session, me: SignedIn, area: Area, days: list[date]) -> list[GridRow]:
    kids = list(
        session.scalars(select(Area).where(Area.parent_code == area.code).order_by(Area.code))
    )
    found = service.listed(session=session, actor=me.actor, area_code=area.code, start=days[0],
                           end=days[-1], depth=1)  # fmt: skip
    by_key: dict[tuple[str, date, Shift], list[DutyShift]] = {}
    for s in found:
        by_key.setdefault((s.area_code, s.on_date, s.shift), []).append(s)
    return [
        GridRow(a, [Cell([(sh, by_key[(a.code, d, sh)]) for sh in Shift
                          if (a.code, d, sh) in by_key]) for d in days])
        for a in [area, *kids]
    ]  # fmt: skip


def _page(
    request: Request, session: Session, me: SignedIn, code: str | None, start: date | None,
    error: Text | str | None = None, imported: importing.ImportResult | None = None,
    problems: list[ImportRowError] | None = None, status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    raw = code or me.user.area_code or "32"
    area = session.get(Area, codes.normalise(raw))
    if area is None or not me.actor.reaches(area.code):
        area = service.on_duty(session=session, actor=me.actor, area_code=raw).area
    today = timeutil.today()
    first = start or today
    days = [first + timedelta(days=i) for i in range(DAYS)]
    now = service.on_duty(session=session, actor=me.actor, area_code=area.code)
    tonight = service.tonight(session=session, actor=me.actor, area_code=area.code)
    notes = service.handovers(session=session, actor=me.actor, area_code=area.code,
                              start=today - timedelta(days=6), end=today)  # fmt: skip
    period = urlencode({"area": area.code, "from": days[0], "to": days[-1]})
    return render(request, "duty/roster.html", {
        "me": me, "area": area, "parent": codes.parent_of(area.code), "days": days,
        "today": today, "rows": _grid(session, me, area, days), "now": now, "tonight": tonight,
        "notes": notes, "Shift": Shift, "DutyRole": DutyRole, "phone": service.shown_phone,
        "local": timeutil.local, "prev": first - timedelta(days=DAYS),
        "next": first + timedelta(days=DAYS), "period": period,
        "can_arrange": me.actor.can(Permission.duty_manage),
        "can_work": me.actor.can(Permission.dispatch_work),
        "error": error, "imported": imported, "problems": problems or [],
    }, status_code=status_code)  # fmt: skip


@router.get("/duty", response_class=HTMLResponse)
def roster(
    request: Request,
    session: SessionDep,
    me: SignedInDep,
    area: Annotated[str | None, Query(max_length=12)] = None,
    start: Annotated[date | None, Query(alias="from")] = None,
) -> Response:
    """The week's roster of an area and the areas below it; who is on duty now and tonight."""
    return _page(request, session, me, area, start)


def _back(area: str, start: str | None) -> RedirectResponse:
    query = {"area": area} | ({"from": start} if start else {})
    return RedirectResponse(f"/duty?{urlencode(query)}", status_code=303)


@router.post("/duty", response_class=HTMLResponse)
def arrange(
    request: Request,
    session: SessionDep,
    me: SignedInDep,
    csrf_token: Annotated[str, Form()],
    area_code: Annotated[str, Form(max_length=12)],
    on_date: Annotated[date, Form()],
    shift: Annotated[Shift, Form()],
    role: Annotated[DutyRole, Form()],
    name: Annotated[str, Form(max_length=service.NAME_MAX)] = "",
    username: Annotated[str, Form(max_length=64)] = "",
    phone: Annotated[str, Form(max_length=service.PHONE_MAX)] = "",
    note: Annotated[str, Form(max_length=service.NOTE_MAX)] = "",
    back: Annotated[str, Form(max_length=12)] = "",
    start: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Put someone on duty; a refusal is shown on the page, naming what to fix."""
    check_csrf(me.web, csrf_token)
    data = service.ShiftIn(
        area_code=area_code, on_date=on_date, shift=shift, role=role, name=name,
        username=username or None, phone=phone, note=note,
    )  # fmt: skip
    try:
        service.create(session=session, actor=me.actor, data=data)
    except LianfangError as refused:
        session.rollback()
        return _page(request, session, me, back or area_code, _day(start), error=refused.text,
                     status_code=refused.status_code)  # fmt: skip
    session.commit()
    return _back(back or area_code, start or None)


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


@router.post("/duty/{shift_id}/delete")
def remove(
    shift_id: PathId,
    session: SessionDep,
    me: SignedInDep,
    csrf_token: Annotated[str, Form()],
    back: Annotated[str, Form(max_length=12)] = "",
    start: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Take someone off duty."""
    check_csrf(me.web, csrf_token)
    row = service.get(session=session, actor=me.actor, shift_id=shift_id)
    code = back or row.area_code
    service.delete(session=session, actor=me.actor, shift_id=shift_id)
    session.commit()
    return _back(code, start or None)


@router.post("/duty/handovers", response_class=HTMLResponse)
def hand_over(
    request: Request,
    session: SessionDep,
    me: SignedInDep,
    csrf_token: Annotated[str, Form()],
    area_code: Annotated[str, Form(max_length=12)],
    on_date: Annotated[date, Form()],
    shift: Annotated[Shift, Form()],
    text: Annotated[str, Form(max_length=service.HANDOVER_MAX)] = "",
) -> Response:
    """Write the outgoing shift's note."""
    check_csrf(me.web, csrf_token)
    try:
        service.hand_over(session=session, actor=me.actor, area_code=area_code, on_date=on_date,
                          shift=shift, text=text)  # fmt: skip
    except LianfangError as refused:
        session.rollback()
        return _page(request, session, me, area_code, None, error=refused.text,
                     status_code=refused.status_code)  # fmt: skip
    session.commit()
    return _back(area_code, None)


@router.post("/duty/handovers/{handover_id}/read")
def read_handover(
    handover_id: PathId,
    session: SessionDep,
    me: SignedInDep,
    csrf_token: Annotated[str, Form()],
    back: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    """The incoming person has read the note."""
    check_csrf(me.web, csrf_token)
    [row] = service.mark_handovers_read(session=session, actor=me.actor, handover_ids=[handover_id])
    session.commit()
    return _back(back or row.area_code, None)


@router.post("/duty/import", response_class=HTMLResponse)
def import_roster(
    request: Request,
    session: SessionDep,
    me: SignedInDep,
    csrf_token: Annotated[str, Form()],
    file: Annotated[UploadFile, File()],
    back: Annotated[str, Form(max_length=12)] = "",
    dry_run: Annotated[bool, Form()] = False,
) -> Response:
    """Import the roster sheet, all or nothing; each problem with its row and column."""
    check_csrf(me.web, csrf_token)
    try:
        table = sheets.read(file.file.read(), file.filename or "duty.xlsx", SPEC)
        result = importing.import_table(session=session, actor=me.actor, table=table,
                                        dry_run=dry_run)  # fmt: skip
    except ImportFileError as refused:
        session.rollback()
        status = 422 if refused.rows else 400
        return _page(request, session, me, back or None, None, error=refused.text,
                     problems=list(refused.rows), status_code=status)  # fmt: skip
    session.commit()
    return _page(request, session, me, back or None, None, imported=result)
