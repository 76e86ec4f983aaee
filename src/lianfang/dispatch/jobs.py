"""Dispatch's periodic jobs: overdue tasks escalate to the level above, and their owners are
reminded once a day until the task is resolved.

Both are idempotent: they select what is due from the tasks themselves (``escalated_at`` unset,
``reminded_on`` before today), so a second run the same day changes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, aliased

from lianfang import jobs
from lianfang.alerts.choices import Severity
from lianfang.areas import codes
from lianfang.auth import audit
from lianfang.auth.choices import AuditAction
from lianfang.auth.scope import SYSTEM
from lianfang.dispatch.choices import OPEN_STATUSES
from lianfang.dispatch.models import Directive, Task
from lianfang.duty import service as duty
from lianfang.i18n import _
from lianfang.notify import service as notify

CHUNK = 5000


def _overdue(run: jobs.Run) -> list[object]:
    return [Task.leaf, Task.status.in_(OPEN_STATUSES), Task.deadline < run.today]


def _chunks(rows: Sequence[tuple[int, str]]) -> list[Sequence[tuple[int, str]]]:
    return [rows[i : i + CHUNK] for i in range(0, len(rows), CHUNK)]


def escalate(session: Session, run: jobs.Run) -> int:
    """Escalate every open task past its deadline to the level above (the owner of its parent
    task, or the directive's issuer): once per task."""
    parent = aliased(Task)
    found = session.execute(
        select(
            Task.id, Task.area_code, Directive.title, Task.deadline,
            func.coalesce(parent.owner_id, Directive.issued_by),
        )
        .join(Directive, Directive.id == Task.directive_id)
        .outerjoin(parent, parent.id == Task.parent_id)
        .where(*_overdue(run), Task.escalated_at.is_(None))  # type: ignore[arg-type]
        .order_by(Task.id)
    ).all()  # fmt: skip
    due = [(r[0], r[1]) for r in found]
    for chunk in _chunks(due):
        session.execute(
            update(Task)
            .where(Task.id.in_([i for i, _ in chunk]), Task.escalated_at.is_(None))
            .values(escalated_at=run.now)
            .execution_options(synchronize_session=False)
        )
    on_duty = duty.duty_map(session, run.now) if found else None
    for task_id, code, title, deadline, above in found:  # the level above hears of it
        up = codes.parent_of(code)
        told = ([above] if above else []) + (on_duty.user_ids(up) if on_duty and up else [])
        notify.notify(
            session=session, users=told, area_code=code, level=Severity.medium,
            topic="task.escalated", link=f"/tasks/{task_id}",
            title=str(_("Overdue task escalated: %(title)s", title=title)),
            body=str(_("Due %(deadline)s and not done.", deadline=deadline.isoformat())),
        )  # fmt: skip
    audit.record_many(session=session, actor=SYSTEM, entries=[
        audit.Entry(AuditAction.update, "task", str(i), code, {"escalated": run.today.isoformat()})
        for i, code in due
    ])  # fmt: skip
    return len(due)


def remind(session: Session, run: jobs.Run) -> int:
    """Remind the owner of every open task due today or past its deadline: once a day, until
    it is resolved (the count of reminders shows on the task)."""
    found = session.execute(
        select(Task.id, Task.area_code, Directive.title, Task.deadline, Task.owner_id)
        .join(Directive, Directive.id == Task.directive_id)
        .where(
            Task.leaf,
            Task.status.in_(OPEN_STATUSES),
            Task.deadline <= run.today,
            Task.owner_id.is_not(None),
            (Task.reminded_on.is_(None)) | (Task.reminded_on < run.today),
        )
        .order_by(Task.id)
    ).all()
    due = [(r[0], r[1]) for r in found]
    for task_id, code, title, deadline, owner in found:  # in the owner's notifications
        late = deadline < run.today
        notify.notify(
            session=session, users=[owner] if owner else [], area_code=code, level=Severity.low,
            topic="task.reminder", link=f"/tasks/{task_id}",
            title=str(_("Task overdue: %(title)s", title=title) if late
                      else _("Task due today: %(title)s", title=title)),
            body=str(_("Deadline %(deadline)s.", deadline=deadline.isoformat())),
        )  # fmt: skip
    for chunk in _chunks(due):
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
