"""Task pages: one task with its history, the steps open to the user, evidence, comments and
splitting further down; and "my tasks", phone-sized, grouped by when they are due. Every form
works as a plain POST answered by a redirect, and with htmx (the task's section is swapped);
a refused step shows its reason in place, with what was typed kept."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.alerts import service as alerts
from lianfang.api.deps import PathId, Route, SessionDep, check_csrf
from lianfang.areas import codes
from lianfang.areas import service as areas
from lianfang.dispatch import evidence, service, views
from lianfang.dispatch.choices import TaskAction, TaskStatus
from lianfang.errors import ConflictError, InvalidInputError, LianfangError
from lianfang.i18n import Text, _
from lianfang.web.pages import SignedIn, SignedInDep, render

router = APIRouter(include_in_schema=False, route_class=Route)
STEPS = (TaskStatus.new, TaskStatus.accepted, TaskStatus.in_progress, TaskStatus.done,
         TaskStatus.verified)  # fmt: skip
TEXT_MAX = service.REASON_MAX


@router.get("/tasks/mine", response_class=HTMLResponse)
def my_tasks(request: Request, session: SessionDep, me: SignedInDep) -> HTMLResponse:
    """The user's tasks: overdue, due today, later, done recently; each card opens the task."""
    mine = views.my_tasks(session=session, actor=me.actor)
    found = alerts.for_tasks(
        session=session, actor=me.actor, task_ids=[c.task.id for c in mine.cards]
    )
    return render(request, "dispatch/mine.html", {
        "me": me, "mine": mine, "alerts": found, "today": timeutil.today(),
    })  # fmt: skip


def _task_page(
    request: Request, session: Session, me: SignedIn, task_id: int, status: int = 200,
    **extra: Any,
) -> HTMLResponse:  # fmt: skip
    view = views.task_view(session=session, actor=me.actor, task_id=task_id)
    alert = alerts.for_tasks(session=session, actor=me.actor, task_ids=[task_id]).get(task_id)
    kids = []
    if view.can_split:
        kids = areas.children(session=session, actor=me.actor, code=view.task.area_code)
    return render(request, "dispatch/task.html", {
        "me": me, "v": view, "t": view.task, "alert": alert, "STEPS": STEPS,
        "TaskStatus": TaskStatus, "TaskAction": TaskAction, "kids": kids, "short": codes.short,
        "today": timeutil.today(), "errors": {}, **extra,
    }, status_code=status)  # fmt: skip


@router.get("/tasks/{task_id:int}", response_class=HTMLResponse)
def task_page(
    task_id: PathId, request: Request, session: SessionDep, me: SignedInDep, saved: str = ""
) -> HTMLResponse:
    """One task: status, owner, area, deadline, history, evidence, comments, the steps open."""
    return _task_page(request, session, me, task_id, saved=saved[:20])


def _refused(
    request: Request, session: Session, me: SignedIn, task_id: int, form: str, exc: LianfangError,
    **typed: str,
) -> HTMLResponse:  # fmt: skip
    """The task again with the refusal beside the form it came from, what was typed kept."""
    session.rollback()
    errors: dict[str, Text] = {form: exc.text}
    return _task_page(request, session, me, task_id, 422, errors=errors, typed=typed)


def _done(task_id: int, saved: str) -> RedirectResponse:
    return RedirectResponse(f"/tasks/{task_id}?saved={saved}#task", status_code=303)


@router.post("/tasks/{task_id:int}/act", response_class=HTMLResponse)
def act(
    task_id: PathId, request: Request, session: SessionDep, me: SignedInDep,
    csrf_token: Annotated[str, Form()], action: Annotated[str, Form(max_length=20)],
    reason: Annotated[str, Form(max_length=TEXT_MAX * 2)] = "",
) -> Response:  # fmt: skip
    """Take one step in the task's life (accept, start, complete, verify, reject)."""
    check_csrf(me.web, csrf_token)
    try:
        step = TaskAction.of(action) if action in TaskAction._value2member_map_ else None
        if step is None:
            raise InvalidInputError(_("no such option '%(value)s'", value=action[:20]))
        service.act(session=session, actor=me.actor, task_id=task_id, action=step, reason=reason)
    except (InvalidInputError, ConflictError) as exc:
        form = "reject" if action == TaskAction.reject.value else "act"
        return _refused(request, session, me, task_id, form, exc, reason=reason)
    session.commit()
    return _done(task_id, action)


@router.post("/tasks/{task_id:int}/evidence", response_class=HTMLResponse)
def add_evidence(
    task_id: PathId, request: Request, session: SessionDep, me: SignedInDep,
    csrf_token: Annotated[str, Form()], text: Annotated[str, Form(max_length=TEXT_MAX * 2)] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:  # fmt: skip
    """Attach a note, a photo or a document (checked by its content)."""
    check_csrf(me.web, csrf_token)
    upload = None
    if file is not None and file.filename:
        upload = evidence.Upload(file.filename, file.file.read(evidence.MAX_BYTES + 1))
    try:
        evidence.add(session=session, actor=me.actor, task_id=task_id, text=text, upload=upload)
    except (InvalidInputError, ConflictError) as exc:
        return _refused(request, session, me, task_id, "evidence", exc, note=text)
    session.commit()
    return _done(task_id, "evidence")


@router.post("/tasks/{task_id:int}/comment", response_class=HTMLResponse)
def add_comment(
    task_id: PathId, request: Request, session: SessionDep, me: SignedInDep,
    csrf_token: Annotated[str, Form()], text: Annotated[str, Form(max_length=TEXT_MAX * 2)] = "",
) -> Response:  # fmt: skip
    """Add a remark to the task."""
    check_csrf(me.web, csrf_token)
    try:
        service.comment(session=session, actor=me.actor, task_id=task_id, text=text)
    except (InvalidInputError, ConflictError) as exc:
        return _refused(request, session, me, task_id, "comment", exc, comment=text)
    session.commit()
    return _done(task_id, "comment")


@router.post("/tasks/{task_id:int}/split", response_class=HTMLResponse)
def split(
    task_id: PathId, request: Request, session: SessionDep, me: SignedInDep,
    csrf_token: Annotated[str, Form()], children: Annotated[list[str] | None, Form()] = None,
) -> Response:  # fmt: skip
    """Split the task into tasks of the child areas ticked (all of them when none is)."""
    check_csrf(me.web, csrf_token)
    picked = [a for a in (children or []) if a.isdigit()][:5000]
    try:
        service.split(session=session, actor=me.actor, task_id=task_id, areas=picked)
    except (InvalidInputError, ConflictError) as exc:
        return _refused(request, session, me, task_id, "split", exc)
    session.commit()
    return _done(task_id, "split")
