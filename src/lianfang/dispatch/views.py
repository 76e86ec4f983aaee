"""What the dispatch pages show, read once for pages (and anything else that wants them): the
directive list with its filters, one task with everything around it, and a user's tasks grouped
by when they are due."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.areas import codes
from lianfang.areas import service as areas
from lianfang.areas.choices import AreaLevel
from lianfang.areas.models import Area
from lianfang.auth.choices import Permission
from lianfang.auth.models import AuditEvent
from lianfang.auth.scope import Actor
from lianfang.choices import Choice
from lianfang.dispatch import evidence, service
from lianfang.dispatch.choices import OPEN_STATUSES, TaskAction, TaskStatus
from lianfang.dispatch.models import Directive, Task, TaskComment, TaskEvidence
from lianfang.errors import InvalidInputError
from lianfang.i18n import _, listing, pgettext

WAITING = (*OPEN_STATUSES, TaskStatus.rejected)
"""A leaf task in one of these still waits for its owner (a rejected one is taken up again)."""
RECENT_DAYS = 7
""""Done recently" on my tasks: done or verified within this many days."""


class DirectiveState(Choice):
    """The directive list's filter on progress (of the leaf tasks within the user's scope)."""

    behind = ("behind", pgettext("directive filter", "behind schedule"), "#ee6666")
    open = ("open", pgettext("directive filter", "not yet done"), "#fac858")
    done = ("done", pgettext("directive filter", "all done"), "#3ba272")


@dataclass(frozen=True)
class DirectiveFilter:
    """Which directives the list shows."""

    state: DirectiveState | None = None
    issuer: str | None = None  # the issuing area (12 digits)


def _leaf_in_scope(actor: Actor, *conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    return (
        exists()
        .where(
            Task.directive_id == Directive.id,
            Task.leaf,
            actor.area_filter(Task.area_code),
            *conditions,
        )
        .correlate(Directive)
    )


def _state_filter(actor: Actor, state: DirectiveState, today: date) -> ColumnElement[bool]:
    unfinished = Task.status.in_(WAITING)
    if state is DirectiveState.behind:
        return _leaf_in_scope(actor, Task.status.in_(OPEN_STATUSES), Task.deadline < today)
    if state is DirectiveState.open:
        return _leaf_in_scope(actor, unfinished)
    return and_(_leaf_in_scope(actor), ~_leaf_in_scope(actor, unfinished))


def directives(
    *, session: Session, actor: Actor, f: DirectiveFilter, limit: int = 50, offset: int = 0
) -> tuple[list[Directive], int]:
    """Directives issued in the actor's scope or reaching into it, filtered, newest first; and
    how many match."""
    actor.require(Permission.dispatch_read)
    where: list[ColumnElement[bool]] = [
        or_(actor.area_filter(Directive.area_code), _leaf_in_scope(actor))
    ]
    if f.issuer:
        where.append(Directive.area_code == f.issuer)
    if f.state is not None:
        where.append(_state_filter(actor, f.state, timeutil.today()))
    total = session.scalar(select(func.count()).select_from(Directive).where(*where)) or 0
    rows = session.scalars(
        select(Directive)
        .where(*where)
        .order_by(Directive.created_at.desc(), Directive.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return list(rows), int(total)


def issuers(*, session: Session, actor: Actor) -> list[tuple[str, str]]:
    """The areas that issued the directives the actor sees, as (code, name), by code."""
    actor.require(Permission.dispatch_read)
    visible = or_(actor.area_filter(Directive.area_code), _leaf_in_scope(actor))
    rows = session.execute(
        select(Directive.area_code, Area.name)
        .join(Area, Area.code == Directive.area_code)
        .where(visible)
        .distinct()
        .order_by(Directive.area_code)
    ).all()
    return [(c, n) for c, n in rows]


@dataclass(frozen=True)
class Step:
    """One line of a task's history: when, what, who, and a note (a reason, a count)."""

    at: datetime
    what: str  # a TaskStatus value, or "escalated" / "reminded" / "split"
    who: str = ""
    note: str = ""


@dataclass
class TaskView:
    """One task as its page shows it."""

    task: Task
    directive: Directive | None
    area_name: str
    owner: str | None
    late_days: int
    parent: Task | None
    parent_owner: str | None
    children: list[tuple[Task, str, str | None]]  # (task, area name, owner)
    evidence: list[TaskEvidence]
    comments: list[TaskComment]
    actions: list[TaskAction]
    can_split: bool
    history: list[Step] = field(default_factory=list)

    @property
    def title(self) -> str:
        return self.directive.title if self.directive else (self.task.title or "")


def late_days(task: Task, today: date) -> int:
    """Days past the deadline of a task still waiting, else 0."""
    if task.status not in WAITING or task.deadline >= today:
        return 0
    return (today - task.deadline).days


def can_split(actor: Actor, task: Task) -> bool:
    """Whether the actor may split the task further down now (``service.split``'s rules)."""
    return (
        actor.can(Permission.dispatch_issue)
        and task.leaf
        and task.directive_id is not None
        and task.level.child is not None
        and task.level is not AreaLevel.village
        and task.status in OPEN_STATUSES
        and actor.reaches(task.area_code)
    )


def task_view(*, session: Session, actor: Actor, task_id: int) -> TaskView:
    """A task in scope with its directive, owner, parent, children, evidence, comments, the
    steps open to the actor and its history."""
    task = service.get_task(session=session, actor=actor, task_id=task_id)
    directive = session.get(Directive, task.directive_id) if task.directive_id else None
    parent = session.get(Task, task.parent_id) if task.parent_id else None
    kids = service.children(session=session, actor=actor, task_id=task.id)
    owners = service.owner_names(
        session=session,
        user_ids=[task.owner_id, parent.owner_id if parent else None,
                  *(k.owner_id for k in kids)],
    )  # fmt: skip
    names = areas.names(session=session, area_codes=[task.area_code, *(k.area_code for k in kids)])
    return TaskView(
        task=task, directive=directive, area_name=names.get(task.area_code, task.area_code),
        owner=owners.get(task.owner_id or 0), late_days=late_days(task, timeutil.today()),
        parent=parent if parent and actor.reaches(parent.area_code) else None,
        parent_owner=owners.get(parent.owner_id or 0) if parent else None,
        children=[(k, names.get(k.area_code, k.area_code), owners.get(k.owner_id or 0))
                  for k in kids],
        evidence=evidence.listed(session=session, actor=actor, task_id=task.id),
        comments=service.comments(session=session, actor=actor, task_id=task.id),
        actions=service.open_actions(actor, task), can_split=can_split(actor, task),
        history=history(session, task),
    )  # fmt: skip


def history(session: Session, task: Task) -> list[Step]:
    """A task's steps, oldest first: issued, each change of status (who and when, from the
    audit log), escalated, reminded."""
    steps = [Step(task.created_at, "issued")]
    rows = session.execute(
        select(AuditEvent.at, AuditEvent.username, AuditEvent.detail)
        .where(AuditEvent.entity_type == "task", AuditEvent.entity_id == str(task.id))
        .order_by(AuditEvent.id)
    ).all()
    seen_status = False
    for at, who, raw in rows:
        detail: dict[str, Any] = json.loads(raw) if raw else {}
        if "to" in detail:
            when = datetime.fromisoformat(detail["at"]) if "at" in detail else at
            steps.append(Step(when, str(detail["to"]), who, str(detail.get("reason", ""))))
            seen_status = True
        elif detail.get("status") == "split":
            steps.append(Step(at, "split", who, str(detail.get("tasks", ""))))
    if not seen_status:  # made in bulk (the demo): what the task's own columns say
        steps += _from_columns(session, task)
    if task.escalated_at is not None:
        steps.append(Step(task.escalated_at, "escalated"))
    if task.reminders:
        day = task.reminded_on or task.deadline
        steps.append(Step(_moment(day), "reminded", note=str(task.reminders)))
    return sorted(steps, key=lambda s: s.at)


def _from_columns(session: Session, task: Task) -> list[Step]:
    users = service.owner_names(session=session, user_ids=[task.done_by, task.verified_by])
    steps = []
    if task.done_at is not None:
        steps.append(Step(task.done_at, TaskStatus.done.value, users.get(task.done_by or 0, "")))
    if task.verified_at is not None:
        who = users.get(task.verified_by or 0, "")
        steps.append(Step(task.verified_at, TaskStatus.verified.value, who))
    if task.status is TaskStatus.rejected:
        steps.append(Step(task.updated_at, TaskStatus.rejected.value, note=task.reason or ""))
    return steps


def _moment(at: datetime | date) -> datetime:
    return at if isinstance(at, datetime) else timeutil.start_of(at)


@dataclass
class Card:
    """One task on "my tasks"."""

    task: Task
    title: str
    area_name: str
    late_days: int
    escalated_to_me: bool  # someone else's task, overdue and escalated to this user


@dataclass
class MyTasks:
    """A user's tasks grouped by when they are due; done ones of the last days apart."""

    overdue: list[Card] = field(default_factory=list)
    today: list[Card] = field(default_factory=list)
    later: list[Card] = field(default_factory=list)
    done: list[Card] = field(default_factory=list)

    @property
    def waiting(self) -> int:
        return len(self.overdue) + len(self.today) + len(self.later)

    @property
    def cards(self) -> list[Card]:
        return self.overdue + self.today + self.later + self.done


def my_tasks(*, session: Session, actor: Actor) -> MyTasks:
    """The actor's tasks (``service.my_tasks``) as cards: overdue (most days late first), due
    today, later (nearest first), and done in the last ``RECENT_DAYS`` days (newest first)."""
    found = service.my_tasks(session=session, actor=actor, include_finished=True)
    today = timeutil.today()
    since = today - timedelta(days=RECENT_DAYS)
    titles = service.titles(
        session=session, directive_ids=[t.directive_id for t in found if t.directive_id]
    )
    names = areas.names(session=session, area_codes=[t.area_code for t in found])
    out = MyTasks()
    for task in found:
        card = Card(
            task=task, title=titles.get(task.directive_id or 0, task.title or ""),
            area_name=names.get(task.area_code, task.area_code),
            late_days=late_days(task, today), escalated_to_me=task.owner_id != actor.user_id,
        )  # fmt: skip
        if task.status.finished:
            moment = task.verified_at or task.done_at
            if moment is None or timeutil.local(moment).date() >= since:
                out.done.append(card)
        elif task.deadline < today:
            out.overdue.append(card)
        elif task.deadline == today:
            out.today.append(card)
        else:
            out.later.append(card)
    out.overdue.sort(key=lambda c: (-c.late_days, c.task.id))
    out.done.sort(key=lambda c: _moment(c.task.verified_at or c.task.done_at or today))
    out.done.reverse()
    return out


def issuing_areas(*, session: Session, actor: Actor) -> list[Area]:
    """The areas the actor may issue a directive in: their own and those below it down to the
    towns (a village has no level below it to reach), by code."""
    levels = (AreaLevel.province, AreaLevel.city, AreaLevel.county, AreaLevel.town)
    query = select(Area).where(Area.level.in_(levels), actor.area_filter(Area.code))
    return list(session.scalars(query.order_by(Area.code)))


def resolve_targets(*, session: Session, issuing: str, tokens: list[str]) -> list[str]:
    """Target areas typed by code or by name, inside the issuing area, as 12-digit codes; a name
    that matches no area there, or several, is refused naming it."""
    prefix = codes.short(issuing)
    out: list[str] = []
    for token in tokens:
        if token.isdigit():
            out.append(codes.normalise(token))
            continue
        found = session.scalars(
            select(Area.code).where(Area.name == token, codes.in_subtree(Area.code, prefix))
        ).all()
        if len(found) != 1:
            message = (
                _("no area named %(name)s in the issuing area", name=token)
                if not found
                else _(
                    "%(n)s areas are named %(name)s: give one code (%(codes)s)",
                    n=len(found), name=token, codes=listing(codes.short(c) for c in found),
                )
            )  # fmt: skip
            raise InvalidInputError(message, fields={"targets": message})
        out.append(found[0])
    return out
