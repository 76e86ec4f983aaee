"""API of the situation overview and the daily briefing (调度会材料)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from lianfang.api.deps import CurrentActor, Route, SessionDep, download
from lianfang.briefing import read
from lianfang.briefing.schemas import BriefingRead
from lianfang.db.engine import release
from lianfang.i18n import current_language

router = APIRouter(prefix="/briefing", tags=["briefing 调度简报"], route_class=Route)

AreaQuery = Annotated[str, Query(max_length=12, description="area code (any form)")]
DayQuery = Annotated[
    date | None, Query(alias="date", description="the day (YYYY-MM-DD; today by default)")
]


def _read(session: SessionDep, actor: CurrentActor, area: str, day: date | None) -> read.Briefing:
    found = read.briefing(session=session, actor=actor, code=area, day=day)
    session.commit()  # the day's first reading stored its figures
    release(session)
    return found


@router.get(
    "",
    response_model=BriefingRead,
    summary="An area's situation on a day, per child area, worst first",
    responses={404: {"description": "no such area, or no figures stored on that past day"}},
)
def get_briefing(
    session: SessionDep, actor: CurrentActor, area: AreaQuery, day: DayQuery = None
) -> BriefingRead:
    """Per child area (county, town or village): coverage of the four guarantees, overdue
    follow-ups, open referral alerts, beds and ICU occupancy, stock below target, the adopted
    forecast's peak date and tasks behind schedule, with the change since the day before; the
    directives behind schedule; when each layer's data was last updated. Layers your role may
    not read are left out. Today's first reading stores the day's figures (a past day is
    answered from them)."""
    return BriefingRead.of(_read(session, actor, area, day))


@router.get(
    "/file",
    summary="The daily briefing as a file: .xlsx workbook, A4 PDF or HTML",
    response_class=Response,
    responses={
        200: {
            "content": {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {},
                "application/pdf": {},
                "text/html": {},
            }
        },
        404: {"description": "no such area, or no figures stored on that past day"},
    },
)
def briefing_file(
    session: SessionDep,
    actor: CurrentActor,
    area: AreaQuery,
    format: Annotated[str, Query(pattern="^(xlsx|pdf|html)$")] = "pdf",
    day: DayQuery = None,
) -> Response:
    """The briefing in the request's language (`?lang=` or Accept-Language; Chinese by
    default): a workbook, a printable A4 PDF with the Chinese fonts embedded, or the HTML the
    PDF is made from."""
    from lianfang.briefing import render, workbook

    found = _read(session, actor, area, day)
    lang = current_language()
    if format == "xlsx":
        data = workbook.workbook(found, lang)
    elif format == "pdf":
        data = render.pdf(found, lang)
    else:
        data = render.document(found, lang).encode()
    return download(data, render.filename(found, format))
