"""API for the people sheet: the template, imports (all or nothing, with an error workbook for a
rejected file) and exports (masked by default).

Mounted before the people router, whose /people/{person_id} would otherwise take these paths."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from lianfang.api.deps import CurrentActor, PathId, QueryId, Route, SessionDep, download
from lianfang.areas import codes
from lianfang.auth.choices import Permission
from lianfang.errors import ImportFileError, InvalidInputError
from lianfang.i18n import _
from lianfang.io import sheets
from lianfang.people import exporting, villages
from lianfang.people.importing import import_table
from lianfang.people.models import ExportJob
from lianfang.people.routes import AreaQuery, Grades, Missing, filter_of, row_errors
from lianfang.people.schemas import ExportCreate, ExportJobRead, ImportOptions, ImportRead
from lianfang.people.sheet import SPEC

router = APIRouter(tags=["people 重点人群"], route_class=Route)


@router.get("/people/template", summary="The people sheet template (.xlsx)")
def template(
    session: SessionDep,
    actor: CurrentActor,
    area: Annotated[str | None, Query(max_length=12, description="area code (any form)")] = None,
) -> Response:
    """Headers in Chinese with notes, drop-down lists for the choices, and a sheet of the
    villages of your area (or of `area` within it): name, town, county and 12-digit code."""
    actor.require(Permission.people_edit)
    return download(
        villages.template(session=session, actor=actor, area=area), "people-template.xlsx"
    )


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
    request: Request,
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
    unchanged. Audited (as a reveal when unmasked). More rows than the setting
    `export_background_rows` are refused (400): make those with `POST /api/people/exports`."""
    f = filter_of(area, grade, missing, overdue, alert_open, responsible_id, q)
    too_many(request, exporting.size(session=session, actor=actor, f=f))
    data, _ = exporting.export(
        session=session, actor=actor, f=f, file_format=format, reveal=reveal, reason=reason
    )
    session.commit()
    return download(data, f"people-{codes.short(f.area)}.{format}")


def background_rows(request: Request) -> int:
    """Above how many rows an export is made in the background (the setting)."""
    rows: int = request.app.state.settings.export_background_rows
    return rows


def too_many(request: Request, rows: int) -> None:
    """Refuse to make an export too large to wait for while the request waits."""
    if rows > background_rows(request):
        raise InvalidInputError(
            _(
                "this export holds %(rows)s rows, more than %(limit)s: make it in the background"
                " (POST /api/people/exports)",
                rows=f"{rows:,}", limit=f"{background_rows(request):,}",
            )
        )  # fmt: skip


def launch(request: Request, session: Session, job: ExportJob) -> None:
    """Commit a queued export and hand it to the starter (a background process), so that the
    caller is answered at once (the API's and the pages' way to start one)."""
    session.commit()
    request.app.state.start_export(request.app.state.settings.database_url, job.id)


def _read(request: Request, job: ExportJob) -> ExportJobRead:
    return ExportJobRead.of(job, str(request.url_for("export_file", job_id=job.id).path))


@router.post(
    "/people/exports",
    response_model=ExportJobRead,
    status_code=202,
    summary="Start an export in the background (any size)",
)
def start_export(
    request: Request, session: SessionDep, actor: CurrentActor, body: ExportCreate
) -> ExportJobRead:
    """Queue an export of the people matching the filters (the rules and audit row of
    `GET /api/people/export`); poll `GET /api/people/exports/{job_id}` until it is `done`, then
    download its `download_url`. Only you may see or download it; it is kept
    `export_keep_hours`."""
    job = exporting.queue(
        session=session, actor=actor, f=body.to_filter(), file_format=body.format,
        reveal=body.reveal, reason=body.reason,
        keep_hours=request.app.state.settings.export_keep_hours,
    )  # fmt: skip
    launch(request, session, job)
    return _read(request, job)


@router.get(
    "/people/exports", response_model=list[ExportJobRead], summary="Your background exports"
)
def list_exports(request: Request, session: SessionDep, actor: CurrentActor) -> Any:
    """Your exports still kept, newest first."""
    return [_read(request, j) for j in exporting.jobs(session=session, actor=actor)]


@router.get("/people/exports/{job_id}", response_model=ExportJobRead, summary="A background export")
def get_export(
    request: Request, job_id: PathId, session: SessionDep, actor: CurrentActor
) -> ExportJobRead:
    """Its status and progress; `download_url` once it is done."""
    return _read(request, exporting.get_job(session=session, actor=actor, job_id=job_id))


@router.get(
    "/people/exports/{job_id}/file",
    name="export_file",
    summary="Download a finished background export",
)
def export_file(job_id: PathId, session: SessionDep, actor: CurrentActor) -> Response:
    """The file, for the user who asked for it only (400 while it is still being made)."""
    data, name = exporting.job_file(session=session, actor=actor, job_id=job_id)
    return download(data, name)


@router.delete("/people/exports/{job_id}", status_code=204, summary="Delete a background export")
def delete_export(job_id: PathId, session: SessionDep, actor: CurrentActor) -> Response:
    """Delete the job and its file before it expires (audited)."""
    exporting.discard(session=session, actor=actor, job_id=job_id)
    session.commit()
    return Response(status_code=204)
