"""API for dispatch (调度): directives cascaded into tasks, their roll-up, a task's life,
evidence and comments, and "my tasks"."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Query, Response
from sqlalchemy.orm import Session

from lianfang.api.deps import CurrentActor, Offset, PathId, Route, SessionDep
from lianfang.auth.scope import Actor
from lianfang.dispatch import evidence, rollup, service
from lianfang.dispatch.models import Task
from lianfang.dispatch.schemas import (
    CommentCreate,
    CommentRead,
    DirectiveCreate,
    DirectiveDetail,
    DirectiveRead,
    EvidenceCreate,
    EvidenceRead,
    RollupRead,
    TaskActionCreate,
    TaskDetail,
    TaskRead,
    TaskSplit,
)

router = APIRouter(tags=["dispatch 调度"], route_class=Route)


def _tasks(session: Session, tasks: list[Task]) -> list[TaskRead]:
    owners = service.owner_names(session=session, user_ids=[t.owner_id for t in tasks])
    wanted = [t.directive_id for t in tasks if t.directive_id is not None]
    titles = service.titles(session=session, directive_ids=wanted)
    return [TaskRead.of(t, owners, titles.get(t.directive_id or 0)) for t in tasks]


def _detail(session: Session, actor: Actor, task: Task) -> TaskDetail:
    return TaskDetail(
        task=_tasks(session, [task])[0],
        evidence=[EvidenceRead.of(e) for e in evidence.listed(session=session, actor=actor,
                                                              task_id=task.id)],
        comments=[CommentRead.of(c) for c in service.comments(session=session, actor=actor,
                                                              task_id=task.id)],
        actions=service.open_actions(actor, task),
        children=_tasks(session, service.children(session=session, actor=actor, task_id=task.id)),
    )  # fmt: skip


@router.post(
    "/directives", response_model=DirectiveDetail, status_code=201,
    summary="Issue a directive and cascade it into tasks",
)  # fmt: skip
def issue_directive(
    body: DirectiveCreate, session: SessionDep, actor: CurrentActor
) -> DirectiveDetail:
    """One task per area from the level below the issuer down to `to_level`, on the way to
    every target; each task's owner is the user of that level's role in its area."""
    directive = service.issue(session=session, actor=actor, data=body.data())
    session.commit()
    tree = rollup.rollup(session=session, actor=actor, directive_id=directive.id)
    return DirectiveDetail(directive=DirectiveRead.of(directive, tree.counts),
                           rollup=RollupRead.of(tree))  # fmt: skip


@router.get(
    "/directives", response_model=list[DirectiveRead], summary="Directives within your scope"
)
def list_directives(
    session: SessionDep,
    actor: CurrentActor,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Offset = 0,
) -> list[DirectiveRead]:
    """Issued in your area or reaching into it, newest first, each with its leaf tasks within
    your scope counted (done, late, not started, ...)."""
    found = service.list_directives(session=session, actor=actor, limit=limit, offset=offset)
    counts = rollup.summaries(session=session, actor=actor, directive_ids=[d.id for d in found])
    return [DirectiveRead.of(d, counts[d.id]) for d in found]


@router.get(
    "/directives/{directive_id}", response_model=DirectiveDetail,
    summary="A directive and its roll-up per child area",
)  # fmt: skip
def directive_detail(
    directive_id: PathId,
    session: SessionDep,
    actor: CurrentActor,
    area: Annotated[str | None, Query(description="roll up under this area (drill down)")] = None,
) -> DirectiveDetail:
    """Per child area of `area` (default: the issuing area, or yours): leaf tasks done, late,
    in progress, not started, rejected, and that area's task with its owner."""
    tree = rollup.rollup(session=session, actor=actor, directive_id=directive_id, area=area)
    return DirectiveDetail(directive=DirectiveRead.of(tree.directive, tree.counts),
                           rollup=RollupRead.of(tree))  # fmt: skip


@router.get("/tasks/mine", response_model=list[TaskRead], summary="Your tasks")
def my_tasks(
    session: SessionDep,
    actor: CurrentActor,
    finished: Annotated[bool, Query(description="include verified tasks")] = False,
) -> list[TaskRead]:
    """Tasks you own and overdue tasks escalated to you: open first, nearest deadline first."""
    found = service.my_tasks(session=session, actor=actor, include_finished=finished)
    return _tasks(session, found)


@router.get("/tasks/{task_id}", response_model=TaskDetail, summary="A task")
def task_detail(task_id: PathId, session: SessionDep, actor: CurrentActor) -> TaskDetail:
    """The task, its evidence, comments, the tasks it was split into, and the steps open to you."""
    task = service.get_task(session=session, actor=actor, task_id=task_id)
    return _detail(session, actor, task)


@router.post(
    "/tasks/{task_id}/split", response_model=list[TaskRead], status_code=201,
    summary="Split a task into its child areas",
)  # fmt: skip
def split_task(
    task_id: PathId, body: TaskSplit, session: SessionDep, actor: CurrentActor
) -> list[TaskRead]:
    """One task per child area (all, or those named in `areas`); the task then rolls up."""
    created = service.split(session=session, actor=actor, task_id=task_id, areas=body.areas)
    session.commit()
    return _tasks(session, created)


@router.post(
    "/tasks/{task_id}/actions", response_model=TaskDetail, summary="A step in a task's life"
)
def act_on_task(
    task_id: PathId, body: TaskActionCreate, session: SessionDep, actor: CurrentActor
) -> TaskDetail:
    """accept, start, complete (needs evidence first), verify (someone other than the doer)
    or reject (with a reason); 409 when the task's status does not allow the step."""
    task = service.act(session=session, actor=actor, task_id=task_id, action=body.action,
                       reason=body.reason)  # fmt: skip
    session.commit()
    return _detail(session, actor, task)


@router.post(
    "/tasks/{task_id}/comments", response_model=CommentRead, status_code=201,
    summary="Comment on a task",
)  # fmt: skip
def comment_on_task(
    task_id: PathId, body: CommentCreate, session: SessionDep, actor: CurrentActor
) -> CommentRead:
    """A remark, shown on the task to everyone who can see it."""
    row = service.comment(session=session, actor=actor, task_id=task_id, text=body.text)
    session.commit()
    return CommentRead.of(row)


@router.post(
    "/tasks/{task_id}/evidence", response_model=EvidenceRead, status_code=201,
    summary="Add evidence to a task",
)  # fmt: skip
def add_evidence(
    task_id: PathId,
    session: SessionDep,
    actor: CurrentActor,
    body: Annotated[EvidenceCreate, File()],  # File(): the form may carry a file (multipart)
) -> EvidenceRead:
    """A note, a file or both; files are checked by their content (a photo must really be a
    JPEG or PNG), at most 10 MB and 20 per task."""
    upload = None
    if body.file is not None:
        upload = evidence.Upload(body.file.filename or "file", body.file.file.read())
    row = evidence.add(session=session, actor=actor, task_id=task_id, text=body.text,
                       upload=upload)  # fmt: skip
    session.commit()
    return EvidenceRead.of(row)


@router.get(
    "/evidence/{evidence_id}/file", summary="An evidence file",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}, "image/png": {}, "application/pdf": {}}}},
)  # fmt: skip
def evidence_file(evidence_id: PathId, session: SessionDep, actor: CurrentActor) -> Response:
    """The file as it was uploaded (photos shown inline, documents downloaded)."""
    row = evidence.file(session=session, actor=actor, evidence_id=evidence_id)
    name = row.filename or "file"
    inline = (row.content_type or "").startswith("image/") or row.content_type == "application/pdf"
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_")
    disposition = (
        f'{"inline" if inline else "attachment"}; filename="{ascii_name}"; '
        f"filename*=UTF-8''{quote(name)}"
    )
    return Response(
        row.content or b"", media_type=row.content_type or "application/octet-stream",
        headers={"Content-Disposition": disposition, "X-Content-Type-Options": "nosniff",
                 "Cache-Control": "private, max-age=3600"},
    )  # fmt: skip
