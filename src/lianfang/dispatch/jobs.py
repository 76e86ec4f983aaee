"""Dispatch's periodic jobs: overdue tasks escalate to the level above, and their owners are
reminded once a day until the task is resolved.

Both are idempotent: they select what is due from the tasks themselves (``escalated_at`` unset,
``reminded_on`` before today), so a second run the same day changes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lianfang import jobs
from lianfang.auth import audit
from lianfang.auth.choices import AuditAction
from lianfang.auth.scope import SYSTEM
from lianfang.dispatch.choices import OPEN_STATUSES
from lianfang.dispatch.models import Task

CHUNK = 5000


def _overdue(run: jobs.Run) -> list[object]:
    return [Task.leaf, Task.status.in_(OPEN_STATUSES), Task.deadline < run.today]


def _chunks(rows: Sequence[tuple[int, str]]) -> list[Sequence[tuple[int, str]]]:
    return [rows[i : i + CHUNK] for i in range(0, len(rows), CHUNK)]


def escalate(session: Session, run: jobs.Run) -> int:
    """Escalate every open task past its deadline to the level above (the owner of its parent
    task, or the directive's issuer): once per task."""
    due = session.execute(
        select(Task.id, Task.area_code)
        .where(*_overdue(run), Task.escalated_at.is_(None))  # type: ignore[arg-type]
        .order_by(Task.id)
    ).all()
    for chunk in _chunks([(r[0], r[1]) for r in due]):
        session.execute(
            update(Task)
            .where(Task.id.in_([i for i, _ in chunk]), Task.escalated_at.is_(None))
            .values(escalated_at=run.now)
            .execution_options(synchronize_session=False)
        )
    audit.record_many(session=session, actor=SYSTEM, entries=[
        audit.Entry(AuditAction.update, "task", str(i), code, {"escalated": run.today.isoformat()})
        for i, code in due
    ])  # fmt: skip
    return len(due)


def remind(session: Session, run: jobs.Run) -> int:
    """Remind the owner of every open task due today or past its deadline: once a day, until
    it is resolved (the count of reminders shows on the task)."""
    due = session.execute(
        select(Task.id, Task.area_code)
        .where(
            Task.leaf,
            Task.status.in_(OPEN_STATUSES),
            Task.deadline <= run.today,
            Task.owner_id.is_not(None),
            (Task.reminded_on.is_(None)) | (Task.reminded_on < run.today),
        )
        .order_by(Task.id)
    ).all()
    for chunk in _chunks([(r[0], r[1]) for r in due]):
        session.execute(
            update(Task)
            .where(Task.id.in_([i for i, _ in chunk]))
            .values(reminders=Task.reminders + 1, reminded_on=run.today)
            .execution_options(synchronize_session=False)
        )
    audit.record_many(session=session, actor=SYSTEM, entries=[
        audit.Entry(AuditAction.update, "task", str(i), code, {"reminded": run.today.isoformat()})
        for i, code in due
    ])  # fmt: skip
    return len(due)


ESCALATE = jobs.register("dispatch.escalate", timedelta(minutes=15), escalate)
REMIND = jobs.register("dispatch.remind", timedelta(hours=1), remind)
