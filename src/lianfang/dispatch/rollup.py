"""Progress of a directive rolled up per child area at any level (one GROUP BY over its leaf
tasks, never a loop over them): done, in progress, not started, late, rejected, and who is
responsible for each child area."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.areas import codes
from lianfang.areas.choices import AreaLevel
from lianfang.areas.models import Area
from lianfang.auth.models import User
from lianfang.auth.scope import Actor
from lianfang.dispatch import service
from lianfang.dispatch.choices import OPEN_STATUSES, Progress, TaskStatus
from lianfang.dispatch.models import Directive, Task


@dataclass
class Counts:
    """Leaf tasks by where they stand; ``verified`` is part of ``done``."""

    total: int = 0
    done: int = 0
    verified: int = 0
    in_progress: int = 0
    not_started: int = 0
    late: int = 0
    rejected: int = 0

    def add(self, other: Counts) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def share(self, progress: Progress) -> float:
        """The share of leaf tasks in this state, 0..1."""
        return getattr(self, progress.value) / self.total if self.total else 0.0

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class Row:
    """One child area of the node: its counts and the task of that area, if it has one."""

    area_code: str
    name: str
    level: AreaLevel
    counts: Counts
    task_id: int | None
    status: TaskStatus | None
    owner: str | None
    escalated: bool
    deadline: date | None


@dataclass
class Rollup:
    """A directive's progress under one area, per child area."""

    directive: Directive
    area_code: str
    name: str
    level: AreaLevel
    counts: Counts
    task_id: int | None
    rows: list[Row] = field(default_factory=list)
    path: list[tuple[str, str]] = field(default_factory=list)  # (code, name) from the top


def _states(today: date) -> dict[str, ColumnElement[Any]]:
    open_ = Task.status.in_(OPEN_STATUSES)
    late = and_(open_, Task.deadline < today)

    def n(condition: ColumnElement[bool]) -> ColumnElement[Any]:
        return func.sum(case((condition, 1), else_=0))

    return {
        "total": func.count(),
        "done": n(Task.status.in_((TaskStatus.done, TaskStatus.verified))),
        "verified": n(Task.status == TaskStatus.verified),
        "in_progress": n(
            and_(Task.status.in_((TaskStatus.accepted, TaskStatus.in_progress)), ~late)
        ),
        "not_started": n(and_(Task.status == TaskStatus.new, ~late)),
        "late": n(late),
        "rejected": n(Task.status == TaskStatus.rejected),
    }


def rollup(*, session: Session, actor: Actor, directive_id: int, area: str | None = None) -> Rollup:
    """The directive's progress under ``area`` (by default where it was issued, or the actor's
    own area when that lies outside their scope), per child area."""
    directive = service.get_directive(session=session, actor=actor, directive_id=directive_id)
    if area is not None:
        node = codes.normalise(area)
    elif actor.reaches(directive.area_code) or actor.area_code is None:
        node = directive.area_code
    else:
        node = actor.area_code
    node_area = session.get(Area, node)
    actor.require_area(node, node_area.name if node_area else None)
    prefix = codes.short(node)
    level = codes.level_of(node)
    child = level.child
    states = _states(timeutil.today())
    in_node = [
        Task.directive_id == directive.id,
        Task.leaf,
        codes.in_subtree(Task.area_code, prefix),
    ]
    rows: list[Row] = []
    total = Counts()
    if child is not None and child.depth <= directive.to_level.depth:
        width = codes.LEVEL_LENGTHS[child]
        key = func.substr(Task.area_code, 1, width).label("key")
        grouped = session.execute(
            select(key, *(c.label(n) for n, c in states.items())).where(*in_node).group_by(key)
        ).all()
        tasks = _child_tasks(session, directive.id, prefix, child)
        for record in grouped:
            code = str(record.key).ljust(12, "0")
            counts = Counts(**{n: int(getattr(record, n) or 0) for n in states})
            total.add(counts)
            task = tasks.get(code)
            rows.append(Row(
                area_code=code, name=task[5] if task else code, level=child, counts=counts,
                task_id=task[0] if task else None, status=task[1] if task else None,
                owner=task[2] if task else None, escalated=bool(task and task[3]),
                deadline=task[4] if task else None,
            ))  # fmt: skip
        rows.sort(
            key=lambda r: (
                -r.counts.share(Progress.late),
                r.counts.share(Progress.done),
                r.area_code,
            )
        )
    else:
        single = session.execute(
            select(*(c.label(n) for n, c in states.items())).where(*in_node)
        ).one()
        total = Counts(**{n: int(getattr(single, n) or 0) for n in states})
    own = session.scalar(
        select(Task.id).where(Task.directive_id == directive.id, Task.area_code == node)
    )
    return Rollup(
        directive=directive, area_code=node, name=node_area.name if node_area else node,
        level=level, counts=total, task_id=own, rows=rows, path=_path(session, directive, node),
    )  # fmt: skip


def _child_tasks(
    session: Session, directive_id: int, prefix: str, child: AreaLevel
) -> dict[str, tuple[Any, ...]]:
    query = (
        select(Task.area_code, Task.id, Task.status, User.display_name, Task.escalated_at,
               Task.deadline, Area.name)
        .join(Area, Area.code == Task.area_code)
        .outerjoin(User, User.id == Task.owner_id)
        .where(Task.directive_id == directive_id, Task.level == child,
               codes.in_subtree(Task.area_code, prefix))
    )  # fmt: skip
    return {row[0]: tuple(row[1:]) for row in session.execute(query)}


def _path(session: Session, directive: Directive, node: str) -> list[tuple[str, str]]:
    """The areas from where the directive was issued down to the node, for drilling back up."""
    chain: list[str] = []
    code: str | None = node
    while code is not None:
        chain.append(code)
        if code == directive.area_code:
            break
        code = codes.parent_of(code)
    names = dict(session.execute(select(Area.code, Area.name).where(Area.code.in_(chain))).all())
    return [(c, names.get(c, c)) for c in reversed(chain)]


def summaries(*, session: Session, actor: Actor, directive_ids: Sequence[int]) -> dict[int, Counts]:
    """Per directive, its leaf tasks within the actor's scope by where they stand (one GROUP BY
    for a whole list of directives)."""
    if not directive_ids:
        return {}
    states = _states(timeutil.today())
    query = (
        select(Task.directive_id, *(c.label(n) for n, c in states.items()))
        .where(Task.directive_id.in_(directive_ids), Task.leaf, actor.area_filter(Task.area_code))
        .group_by(Task.directive_id)
    )
    found = {
        int(record.directive_id): Counts(**{n: int(getattr(record, n) or 0) for n in states})
        for record in session.execute(query)
    }
    return {i: found.get(i, Counts()) for i in directive_ids}
