"""API for the people sheet: the template, imports (all or nothing, with an error workbook for a
rejected file) and exports (masked by default).

Mounted before the people router, whose /people/{person_id} would otherwise take these paths."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Query, Request
from fastapi.responses import Response

from lianfang.api.deps import CurrentActor, QueryId, Route, SessionDep, download
from lianfang.areas import codes
from lianfang.auth.choices import Permission
from lianfang.errors import ImportFileError
from lianfang.io import sheets, workbooks
from lianfang.people import exporting
from lianfang.people.importing import import_table
from lianfang.people.routes import AreaQuery, Grades, Missing, filter_of, row_errors
from lianfang.people.schemas import ImportOptions, ImportRead
from lianfang.people.sheet import SPEC

router = APIRouter(tags=["people 重点人群"], route_class=Route)


@router.get("/people/template", summary="The people sheet template (.xlsx)")
def template(actor: CurrentActor) -> Response:
    """Headers in Chinese with notes, drop-down lists for the choices."""
    actor.require(Permission.people_edit)
    return download(workbooks.template(SPEC), "people-template.xlsx")


@router.post(
    "/people/import",
    response_model=ImportRead,
    summary="Import a people sheet (.xlsx or .csv), all or nothing",
    responses={422: {"description": "row errors and a report_url for the error workbook"}},
)
def import_people(
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    body: Annotated[ImportOptions, File()],  # File(): the form carries a file (multipart)
) -> Any:
    """Every row is checked first; one invalid row rejects the file and nothing is written.
    Then the answer is 422 with each problem and `report_url`, the error workbook."""
    actor.require(Permission.people_edit)
    table = sheets.read(body.file.file.read(), body.file.filename or "people.xlsx", SPEC)
    try:
        result = import_table(session=session, actor=actor, table=table, dry_run=body.dry_run)
    except ImportFileError as error:
        if not error.rows:
            raise
        session.rollback()
        token = exporting.keep_report(session=session, actor=actor, error=error, table=table)
        session.commit()
        url = str(request.url_for("import_report", token=token).path)
        return row_errors(error, report_url=url)
    session.commit()
    return ImportRead.of(result)


@router.get(
    "/people/import/reports/{token}",
    name="import_report",
    summary="The error workbook of a rejected import",
)
def import_report(token: str, session: SessionDep, actor: CurrentActor) -> Response:
    """The uploaded rows with an error column; only for the user who uploaded the file."""
    found = exporting.report(session=session, actor=actor, token=token)
    return download(found.content, "people-errors.xlsx")


@router.get("/people/export", summary="Export people (.xlsx or .csv), masked by default")
def export_people(
    session: SessionDep,
    actor: CurrentActor,
    area: AreaQuery,
    format: Annotated[str, Query(pattern="^(xlsx|csv)$")] = "xlsx",
    grade: Grades = None,
    missing: Missing = None,
    overdue: bool = False,
    alert_open: bool = False,
    responsible_id: QueryId = None,
    q: Annotated[str, Query(max_length=50)] = "",
    reveal: Annotated[bool, Query(description="full numbers (pii.reveal and a reason)")] = False,
    reason: Annotated[str, Query(max_length=500)] = "",
) -> Response:
    """The people matching the filters as the people sheet; an unmasked export imports back
    unchanged. Audited (as a reveal when unmasked)."""
    f = filter_of(area, grade, missing, overdue, alert_open, responsible_id, q)
    data, _ = exporting.export(
        session=session, actor=actor, f=f, file_format=format, reveal=reveal, reason=reason
    )
    session.commit()
    return download(data, f"people-{codes.short(f.area)}.{format}")
