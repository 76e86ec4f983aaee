"""Directives and their tasks: issue and cascade down the area tree, split a task further
down, carry a task through its life, and read a user's tasks.

Every function checks the actor's permission and area scope and writes its audit rows in the
same transaction as the change."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, bindparam, exists, func, or_, select, union
from sqlalchemy.orm import Session, aliased

from lianfang import timeutil
from lianfang.areas import codes
from lianfang.areas.choices import AreaLevel
from lianfang.areas.models import Area
from lianfang.auth import audit
from lianfang.auth.choices import AuditAction, Permission, Role
from lianfang.auth.models import User
from lianfang.auth.scope import Actor
from lianfang.db.bulk import insert_columns
from lianfang.dispatch.choices import OPEN_STATUSES, TaskAction, TaskStatus
from lianfang.dispatch.models import Directive, Task, TaskComment
from lianfang.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDenied
from lianfang.i18n import _, listing, pgettext

TITLE_MAX, TEXT_MAX, REASON_MAX = 200, 20_000, 2_000
LEVEL_ROLE = {
    AreaLevel.city: Role.city_commander,
    AreaLevel.county: Role.district_operator,
    AreaLevel.town: Role.town_operator,
    AreaLevel.village: Role.village_worker,
}
"""Who owns an area's task: the user of this role whose area it is (the lowest id first)."""

TRANSITIONS: dict[TaskAction, tuple[tuple[TaskStatus, ...], TaskStatus]] = {
    TaskAction.accept: ((TaskStatus.new,), TaskStatus.accepted),
    TaskAction.start: ((TaskStatus.accepted, TaskStatus.rejected), TaskStatus.in_progress),
    TaskAction.complete: ((TaskStatus.accepted, TaskStatus.in_progress), TaskStatus.done),
    TaskAction.verify: ((TaskStatus.done,), TaskStatus.verified),
    TaskAction.reject: (
        (TaskStatus.new, TaskStatus.accepted, TaskStatus.in_progress, TaskStatus.done),
        TaskStatus.rejected,
    ),
}
"""From which statuses each action may be taken, and the status it leads to. A rejected task
(refused by its owner, or sent back by its verifier) is taken up again with ``start``."""


@dataclass(frozen=True)
class DirectiveInput:
    """What a directive says; ``targets`` default to the issuing area."""

    area: str
    title: str
    text: str
    to_level: AreaLevel
    deadline: date
    targets: Sequence[str] = ()
    departments: Sequence[str] = ()


FIELDS = {
    "title": pgettext("directive", "title"),
    "text": pgettext("directive", "text"),
    "departments": pgettext("directive", "department"),
    "reason": pgettext("task", "reason"),
}


def _clean(value: str, field: str, limit: int, *, required: bool = True) -> str:
    text = value.strip()
    label = FIELDS[field]
    if required and not text:
        raise InvalidInputError(_("%(field)s is empty", field=label), fields={field: _("required")})
    if len(text) > limit:
        raise InvalidInputError(
            _("%(field)s is longer than %(limit)s characters", field=label, limit=limit),
            fields={field: _("at most %(limit)s characters", limit=limit)},
        )
    return text


def _area(session: Session, code: str) -> Area:
    area = session.get(Area, code)
    if area is None:
        raise NotFoundError(_("no area %(area_code)s", area_code=codes.short(code)))
    return area


def _targets(session: Session, issuing: Area, raw: Sequence[str], to_level: AreaLevel) -> list[str]:
    """The target areas as 12-digit codes: loaded, inside the issuing area, not below to_level."""
    targets = sorted({codes.normalise(code) for code in raw} or {issuing.code})
    for code in targets:
        area = _area(session, code)
        if not codes.contains(issuing.code, code):
            raise InvalidInputError(
                _(
                    "target area %(name)s (%(code)s) lies outside %(issuer)s",
                    name=area.name, code=codes.short(code), issuer=issuing.name,
                ),
                fields={"targets": _("outside the issuing area")},
            )  # fmt: skip
        if area.level.depth > to_level.depth:
            raise InvalidInputError(
                _(
                    "target area %(name)s is a %(level)s, below the level the directive "
                    "reaches (%(to_level)s)",
                    name=area.name, level=area.level.text, to_level=to_level.text,
                ),
                fields={"targets": _("below the level reached")},
            )  # fmt: skip
    return targets


def _subtree_any(column: Any, prefixes: Iterable[str]) -> ColumnElement[bool]:
    return or_(*(codes.in_subtree(column, codes.short(code)) for code in prefixes))


def _owners(session: Session, prefix: str) -> dict[str, int]:
    """area code → the user who owns that area's tasks (by the level's role, lowest id)."""
    rows = session.execute(
        select(User.area_code, User.role, User.id)
        .where(User.active, User.area_code.is_not(None), codes.in_subtree(User.area_code, prefix))
        .order_by(User.id)
    ).all()
    owners: dict[str, int] = {}
    for code, role, user_id in rows:
        if code is not None and LEVEL_ROLE.get(codes.level_of(code)) is role:
            owners.setdefault(code, user_id)
    return owners


def issue(*, session: Session, actor: Actor, data: DirectiveInput) -> Directive:
    """Issue a directive and cascade it: one task per area from the level below the issuer
    down to ``to_level`` on the way to every target (the levels between are split)."""
    actor.require(Permission.dispatch_issue)
    issuing = _area(session, codes.normalise(data.area))
    actor.require_area(issuing.code, issuing.name)
    if data.to_level.depth <= issuing.level.depth:
        raise InvalidInputError(
            _(
                "a directive of %(name)s (a %(level)s) must reach a lower level than its own, "
                "not %(to_level)s",
                name=issuing.name, level=issuing.level.text, to_level=data.to_level.text,
            ),
            fields={"to_level": _("must lie below the issuing level")},
        )  # fmt: skip
    if data.deadline < timeutil.today():
        raise InvalidInputError(
            _("the deadline %(deadline)s has passed", deadline=data.deadline),
            fields={"deadline": _("in the past")},
        )
    title = _clean(data.title, "title", TITLE_MAX)
    text = _clean(data.text, "text", TEXT_MAX, required=False)
    departments = [_clean(d, "departments", 100) for d in data.departments if d.strip()]
    targets = _targets(session, issuing, data.targets, data.to_level)
    directive = Directive(
        area_code=issuing.code, level=issuing.level, to_level=data.to_level, title=title,
        text=text, targets=",".join(targets), departments=",".join(departments),
        deadline=data.deadline, issued_by=actor.user_id, issued_by_name=actor.username,
    )  # fmt: skip
    session.add(directive)
    session.flush()
    created = _cascade(session, directive, issuing, targets, data.to_level)
    audit.record(
        session=session, actor=actor, action=AuditAction.create, entity_type="directive",
        entity_id=str(directive.id), area_code=issuing.code,
        detail={"title": title, "to_level": data.to_level.value, "tasks": created,
                "targets": [codes.short(c) for c in targets]},
    )  # fmt: skip
    return directive


def _cascade(
    session: Session, directive: Directive, top: Area, targets: Sequence[str], to_level: AreaLevel
) -> int:
    """Insert the tasks from the level below ``top`` to ``to_level`` towards ``targets``, one
    level at a time in bulk; return how many."""
    leaves = session.scalars(
        select(Area.code).where(Area.level == to_level, _subtree_any(Area.code, targets))
    ).all()
    if not leaves:
        raise InvalidInputError(
            _(
                "no %(level)s is loaded in the target areas %(targets)s",
                level=to_level.text, targets=listing(codes.short(c) for c in targets),
            ),
            fields={"targets": _("no area at that level")},
        )  # fmt: skip
    by_level: dict[AreaLevel, set[str]] = {}
    for leaf in leaves:
        code: str | None = leaf
        while code is not None and code != top.code:
            by_level.setdefault(codes.level_of(code), set()).add(code)
            code = codes.parent_of(code)
    return _insert_tasks(session, directive, top.code, by_level, to_level, parent=None)


def _insert_tasks(
    session: Session,
    directive: Directive,
    top_code: str,
    by_level: dict[AreaLevel, set[str]],
    to_level: AreaLevel,
    parent: Task | None,
) -> int:
    owners = _owners(session, codes.short(top_code))
    ids: dict[str, int] = {parent.area_code: parent.id} if parent else {}
    moment, total = timeutil.now(), 0
    for level in sorted(by_level, key=lambda lv: lv.depth):
        area_codes = sorted(by_level[level])
        leaf = level is to_level
        parents = [codes.parent_of(c) for c in area_codes]
        n = len(area_codes)
        total += insert_columns(session, Task.__table__, {  # type: ignore[arg-type]
            "directive_id": [directive.id] * n,
            "parent_id": [ids.get(p) if p else None for p in parents],
            "area_code": area_codes,
            "level": [level.value] * n,
            "leaf": [leaf] * n,
            "owner_id": [owners.get(c) for c in area_codes],
            "deadline": [directive.deadline] * n,
            "status": [(TaskStatus.new if leaf else TaskStatus.divided).value] * n,
            "reminders": [0] * n,
            "created_at": [moment] * n,
            "updated_at": [moment] * n,
        })  # fmt: skip
        if not leaf:
            ids.update(
                session.execute(
                    select(Task.area_code, Task.id).where(
                        Task.directive_id == directive.id, Task.level == level
                    )
                ).all()
            )
    return total


def split(*, session: Session, actor: Actor, task_id: int, areas: Sequence[str] = ()) -> list[Task]:
    """Split a leaf task above the village level into one task per child area (all of them, or
    those named); it then rolls up from them."""
    actor.require(Permission.dispatch_issue)
    task = get_task(session=session, actor=actor, task_id=task_id)
    child = task.level.child
    if not task.leaf or child is None or task.directive_id is None:
        raise ConflictError(_("task %(id)s cannot be split further", id=task.id))
    if task.status not in OPEN_STATUSES:
        raise ConflictError(
            _("task %(id)s is %(status)s and cannot be split", id=task.id, status=task.status.text)
        )
    prefix = codes.short(task.area_code)
    wanted = {codes.normalise(a) for a in areas}
    query = select(Area.code).where(Area.level == child, codes.in_subtree(Area.code, prefix))
    children = set(session.scalars(query).all())
    if not children:
        raise ConflictError(_("no %(level)s is loaded under this area", level=child.text))
    if unknown := wanted - children:
        raise InvalidInputError(
            _(
                "not a %(level)s of this area: %(codes)s",
                level=child.text, codes=listing(codes.short(c) for c in sorted(unknown)),
            ),
            fields={"areas": _("not a child of the task's area")},
        )  # fmt: skip
    directive = session.get_one(Directive, task.directive_id)
    task.leaf, task.status = False, TaskStatus.divided
    session.flush()
    _insert_tasks(session, directive, task.area_code, {child: wanted or children}, child, task)
    created = list(
        session.scalars(select(Task).where(Task.parent_id == task.id).order_by(Task.area_code))
    )
    audit.record_many(session=session, actor=actor, entries=[
        audit.Entry(AuditAction.update, "task", str(task.id), task.area_code,
                    {"status": "split", "tasks": len(created)}),
        *(audit.Entry(AuditAction.create, "task", str(t.id), t.area_code,
                      {"directive": directive.id, "parent": task.id}) for t in created),
    ])  # fmt: skip
    return created


def get_directive(*, session: Session, actor: Actor, directive_id: int) -> Directive:
    """A directive issued within the actor's scope or with a task there."""
    actor.require(Permission.dispatch_read)
    directive = session.get(Directive, directive_id)
    if directive is None or not (
        actor.reaches(directive.area_code) or _has_task_in_scope(session, actor, directive.id)
    ):
        raise NotFoundError(_("no directive %(id)s", id=directive_id))
    return directive


def _has_task_in_scope(session: Session, actor: Actor, directive_id: int) -> bool:
    query = select(Task.id).where(
        Task.directive_id == directive_id, actor.area_filter(Task.area_code)
    )
    return session.scalar(query.limit(1)) is not None


def list_directives(
    *, session: Session, actor: Actor, limit: int = 100, offset: int = 0
) -> list[Directive]:
    """Directives issued in the actor's scope or reaching into it, newest first."""
    actor.require(Permission.dispatch_read)
    reaching = exists().where(Task.directive_id == Directive.id, actor.area_filter(Task.area_code))
    query = (
        select(Directive)
        .where(or_(actor.area_filter(Directive.area_code), reaching))
        .order_by(Directive.created_at.desc(), Directive.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(session.scalars(query))


def get_task(*, session: Session, actor: Actor, task_id: int) -> Task:
    """A task whose area lies in the actor's scope."""
    actor.require(Permission.dispatch_read)
    task = session.get(Task, task_id)
    if task is None or not actor.reaches(task.area_code):
        raise NotFoundError(_("no task %(id)s", id=task_id))
    return task


def _mine(actor: Actor) -> ColumnElement[bool]:
    """The actor's own tasks and those escalated to them (overdue tasks of the areas right below
    theirs, or of a directive they issued whose task has no parent)."""
    parent = aliased(Task)
    escalated = (
        exists()
        .where(parent.id == Task.parent_id, parent.owner_id == actor.user_id)
        .correlate(Task)
    )
    issued = (
        exists()
        .where(Directive.id == Task.directive_id, Directive.issued_by == actor.user_id)
        .correlate(Task)
    )
    escalated_here = or_(escalated, Task.parent_id.is_(None) & issued)
    return or_(
        Task.owner_id == actor.user_id,
        Task.escalated_at.is_not(None) & Task.status.in_(OPEN_STATUSES) & escalated_here,
    )


def my_tasks(*, session: Session, actor: Actor, include_finished: bool = False) -> list[Task]:
    """The actor's own tasks and those escalated to them: open first, the nearest deadline
    first."""
    actor.require(Permission.dispatch_read)
    if actor.user_id is None:
        return []
    query = select(Task).where(_mine(actor), Task.leaf, actor.area_filter(Task.area_code))
    if not include_finished:
        query = query.where(Task.status != TaskStatus.verified)
    open_first = Task.status.in_(OPEN_STATUSES).desc()
    return list(session.scalars(query.order_by(open_first, Task.deadline, Task.id).limit(500)))


def open_count(*, session: Session, actor: Actor) -> int:
    """How many of the actor's tasks are still to be carried out (the header's badge, read on
    every page): open or sent back; 0 for a role that reads no tasks."""
    if actor.user_id is None or not actor.can(Permission.dispatch_read):
        return 0
    return int(session.scalar(_open_count_query(actor.prefix), {"me": actor.user_id}) or 0)


@functools.lru_cache(maxsize=1024)
def _open_count_query(prefix: str) -> Select[int]:
    """The count of ``open_count`` for the users of one area, the user a parameter (``me``):
    built once per area, not on every page.

    The tasks of ``_mine`` as a union of three indexed reads — owned, escalated from a task
    they own, escalated from a directive they issued — instead of one scan of the tasks in
    scope testing the three for each."""
    me = bindparam("me", type_=Integer)
    waiting = (*OPEN_STATUSES, TaskStatus.rejected)
    base = (Task.leaf, Task.status.in_(waiting), codes.in_subtree(Task.area_code, prefix))
    late = (Task.escalated_at.is_not(None), Task.status.in_(OPEN_STATUSES))
    parent = aliased(Task)
    owned = select(Task.id).where(Task.owner_id == me, *base)
    from_task = (
        select(Task.id)
        .join(parent, parent.id == Task.parent_id)
        .where(parent.owner_id == me, *late, *base)
    )
    from_directive = (
        select(Task.id)
        .join(Directive, Directive.id == Task.directive_id)
        .where(Directive.issued_by == me, Task.parent_id.is_(None), *late, *base)
    )
    tasks = union(owned, from_task, from_directive).subquery()
    return select(func.count()).select_from(tasks)


def act(
    *, session: Session, actor: Actor, task_id: int, action: TaskAction, reason: str = ""
) -> Task:
    """Take one step in a task's life (accept, start, complete, verify, reject)."""
    actor.require(
        Permission.dispatch_verify if action is TaskAction.verify else Permission.dispatch_work
    )
    task = get_task(session=session, actor=actor, task_id=task_id)
    allowed, after = TRANSITIONS[action]
    if task.status not in allowed:
        raise ConflictError(
            _(
                "task %(id)s is %(status)s: it cannot take the step '%(action)s' now",
                id=task.id, status=task.status.text, action=action.text,
            )
        )  # fmt: skip
    before = task.status
    if action is TaskAction.reject:
        reason = _clean(reason, "reason", REASON_MAX)
        task.reason = reason
    elif action is TaskAction.complete:
        _require_evidence(session, task)
        task.done_by, task.done_at = actor.user_id, timeutil.now()
    elif action is TaskAction.verify:
        if actor.user_id is None or actor.user_id in (task.done_by, task.owner_id):
            raise PermissionDenied(
                _(
                    "task %(id)s must be verified by someone other than who carried it out",
                    id=task.id,
                )
            )
        task.verified_by, task.verified_at = actor.user_id, timeutil.now()
    task.status = after
    session.flush()
    # The world's moment of the step (the audit row's own time is the machine's clock).
    detail: dict[str, Any] = {"from": before.value, "to": after.value, "at": timeutil.now()}
    if reason:
        detail["reason"] = reason
    audit.record(
        session=session, actor=actor, action=AuditAction.update, entity_type="task",
        entity_id=str(task.id), area_code=task.area_code, detail=detail,
    )  # fmt: skip
    return task


def _require_evidence(session: Session, task: Task) -> None:
    from lianfang.dispatch.models import TaskEvidence

    if (
        session.scalar(select(TaskEvidence.id).where(TaskEvidence.task_id == task.id).limit(1))
        is None
    ):
        raise ConflictError(
            _(
                "task %(id)s has no evidence yet: add a note or a file before marking it done",
                id=task.id,
            )
        )


def comment(*, session: Session, actor: Actor, task_id: int, text: str) -> TaskComment:
    """Add a remark to a task."""
    actor.require(Permission.dispatch_work)
    task = get_task(session=session, actor=actor, task_id=task_id)
    body = _clean(text, "text", REASON_MAX)
    row = TaskComment(
        task_id=task.id, area_code=task.area_code, text=body, user_id=actor.user_id,
        username=actor.username,
    )  # fmt: skip
    session.add(row)
    session.flush()
    audit.record(
        session=session, actor=actor, action=AuditAction.create, entity_type="task_comment",
        entity_id=str(row.id), area_code=task.area_code, detail={"task": task.id},
    )  # fmt: skip
    return row


def comments(*, session: Session, actor: Actor, task_id: int) -> list[TaskComment]:
    """A task's comments, oldest first."""
    task = get_task(session=session, actor=actor, task_id=task_id)
    query = select(TaskComment).where(TaskComment.task_id == task.id)
    return list(session.scalars(query.order_by(TaskComment.id)))


def owner_names(*, session: Session, user_ids: Iterable[int | None]) -> dict[int, str]:
    """user id → display name, for showing who is responsible."""
    wanted = {i for i in user_ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(select(User.id, User.display_name).where(User.id.in_(wanted)))
    return dict(rows.all())


def is_late(task: Task, today: date | None = None) -> bool:
    """An open leaf task past its deadline."""
    return task.status in OPEN_STATUSES and task.deadline < (today or timeutil.today())


def area_owner(*, session: Session, area_code: str) -> int | None:
    """The user who owns an area's tasks (the user of the area level's role, lowest id)."""
    return _owners(session, codes.short(area_code)).get(area_code)


def task_for_alert(
    *, session: Session, actor: Actor, area_code: str, title: str, deadline: date,
    owner_id: int | None = None,
) -> Task:  # fmt: skip
    """A task raised by an alert (no directive): one leaf task of the alert's area for the
    responsible user (``owner_id``, else the owner of the area's level), due by ``deadline``.
    Made on behalf of whoever raised the alert, so it asks for no permission of its own beyond
    reaching the area; audited as ``create`` on ``task``."""
    actor.require_area(area_code)
    area = _area(session, area_code)
    owner = owner_id if owner_id is not None else area_owner(session=session, area_code=area.code)
    task = Task(
        directive_id=None, title=title[:TITLE_MAX], parent_id=None, area_code=area.code,
        level=area.level, leaf=True, owner_id=owner, deadline=deadline, status=TaskStatus.new,
    )  # fmt: skip
    session.add(task)
    session.flush()
    audit.record(
        session=session, actor=actor, action=AuditAction.create, entity_type="task",
        entity_id=str(task.id), area_code=task.area_code,
        detail={"title": task.title, "owner": owner, "deadline": deadline},
    )  # fmt: skip
    return task


def hasten(*, session: Session, task: Task, deadline: date) -> bool:
    """Bring an open task's deadline forward (an alert grew more severe); True if it moved."""
    if task.status not in OPEN_STATUSES or task.deadline <= deadline:
        return False
    task.deadline = deadline
    session.flush()
    return True


def open_actions(actor: Actor, task: Task) -> list[TaskAction]:
    """The steps the actor may take on a task now (what its page and the API offer)."""
    if (
        not task.leaf
        or not actor.can(Permission.dispatch_work)
        or not actor.reaches(task.area_code)
    ):
        return []
    steps = [a for a, (allowed, _after) in TRANSITIONS.items() if task.status in allowed]
    may_verify = (
        actor.can(Permission.dispatch_verify)
        and actor.user_id is not None
        and actor.user_id not in (task.done_by, task.owner_id)
    )
    if TaskAction.verify in steps and not may_verify:
        steps.remove(TaskAction.verify)
    if task.status is TaskStatus.done and not may_verify:
        steps = [a for a in steps if a is not TaskAction.reject]  # the doer does not send it back
    return steps


def children(*, session: Session, actor: Actor, task_id: int) -> list[Task]:
    """The tasks a split task was divided into, within scope, by area."""
    task = get_task(session=session, actor=actor, task_id=task_id)
    query = select(Task).where(Task.parent_id == task.id, actor.area_filter(Task.area_code))
    return list(session.scalars(query.order_by(Task.area_code)))


def titles(*, session: Session, directive_ids: Iterable[int]) -> dict[int, str]:
    """directive id → its title, for lists of tasks."""
    wanted = set(directive_ids)
    if not wanted:
        return {}
    rows = session.execute(select(Directive.id, Directive.title).where(Directive.id.in_(wanted)))
    return dict(rows.all())
