"""Tables of dispatch: directives, the tasks they cascade into, evidence and comments."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lianfang.areas.choices import AreaLevel
from lianfang.db.base import Base, choice_column
from lianfang.dispatch.choices import TaskStatus
from lianfang.timeutil import now


class Directive(Base):
    """A decision of a meeting or a notice (部署) issued by the headquarters of an area, to be
    carried out in its target areas down to a level by a deadline."""

    __tablename__ = "directive"

    id: Mapped[int] = mapped_column(primary_key=True)
    area_code: Mapped[str] = mapped_column(String(12), ForeignKey("area.code"), index=True)
    level: Mapped[AreaLevel] = mapped_column(choice_column(AreaLevel))  # the issuing level
    to_level: Mapped[AreaLevel] = mapped_column(choice_column(AreaLevel))
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text, default="")
    targets: Mapped[str] = mapped_column(Text)  # comma-separated 12-digit area codes
    departments: Mapped[str] = mapped_column(Text, default="")  # comma-separated names
    deadline: Mapped[date] = mapped_column(Date)
    issued_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    issued_by_name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=now)


class Task(Base):
    """One area's part of a directive, owned by a named user: a village's task is carried out
    there; a town's or county's task is split into its children's tasks or completed. A task
    raised by an alert (``lianfang.alerts``) has no directive: its ``title`` says what to do."""

    __tablename__ = "task"
    __table_args__ = (
        # A directive's roll-up: its leaf tasks under an area (a range on the code).
        Index("ix_task_directive_id_leaf_area_code", "directive_id", "leaf", "area_code"),
        Index("uq_task_directive_id_area_code", "directive_id", "area_code", unique=True),
        # The overdue sweep: open tasks by deadline.
        Index("ix_task_status_deadline", "status", "deadline"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    directive_id: Mapped[int | None] = mapped_column(ForeignKey("directive.id", ondelete="CASCADE"))
    title: Mapped[str | None] = mapped_column(String(200))  # an alert's task: what to do
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("task.id"), index=True)
    area_code: Mapped[str] = mapped_column(String(12), ForeignKey("area.code"))
    level: Mapped[AreaLevel] = mapped_column(choice_column(AreaLevel))
    leaf: Mapped[bool] = mapped_column(Boolean, default=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    deadline: Mapped[date] = mapped_column(Date)
    status: Mapped[TaskStatus] = mapped_column(choice_column(TaskStatus))
    reason: Mapped[str | None] = mapped_column(Text)  # why rejected
    done_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    done_at: Mapped[datetime | None] = mapped_column()
    verified_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    verified_at: Mapped[datetime | None] = mapped_column()
    escalated_at: Mapped[datetime | None] = mapped_column()
    reminded_on: Mapped[date | None] = mapped_column(Date)
    reminders: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)


class TaskEvidence(Base):
    """What shows a task was carried out: a note, and a photo or document when there is one
    (kept in the database, checked for its type and size)."""

    __tablename__ = "task_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), index=True)
    area_code: Mapped[str] = mapped_column(String(12), ForeignKey("area.code"))
    text: Mapped[str] = mapped_column(Text, default="")
    filename: Mapped[str | None] = mapped_column(String(200))
    content_type: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str | None] = mapped_column(String(64))
    content: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    username: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=now)


class TaskComment(Base):
    """A remark on a task by anyone who works on it or supervises it."""

    __tablename__ = "task_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), index=True)
    area_code: Mapped[str] = mapped_column(String(12), ForeignKey("area.code"))
    text: Mapped[str] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    username: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=now)
