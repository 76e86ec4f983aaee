"""What the dispatch API reads and writes: directives, their roll-up, tasks, evidence,
comments."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import UploadFile
from pydantic import BaseModel, ConfigDict, Field

from lianfang.areas.choices import AreaLevel
from lianfang.dispatch import rollup as rollups
from lianfang.dispatch import service
from lianfang.dispatch.choices import TaskAction, TaskStatus
from lianfang.dispatch.models import Directive, Task, TaskComment, TaskEvidence
from lianfang.schemas import WriteSchema


class DirectiveCreate(WriteSchema):
    """A directive to issue and cascade down to ``to_level``."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "area": "3206",
                    "title": "药包发放到户",
                    "text": "12月25日前将防疫药包发放到每一位重点人群家中，并登记签收。",
                    "to_level": "village",
                    "deadline": "2022-12-25",
                    "targets": ["320623"],
                    "departments": ["卫健委"],
                }
            ]
        }
    )

    area: str = Field(description="the issuing area's code (any form): where it is issued")
    title: str = Field(max_length=service.TITLE_MAX)
    text: str = Field("", max_length=service.TEXT_MAX)
    to_level: AreaLevel = Field(description="the level it reaches: county, town or village")
    deadline: date
    targets: list[str] = Field(
        default_factory=list, max_length=5000,
        description="areas it applies to (default: the whole issuing area)",
    )  # fmt: skip
    departments: list[str] = Field(default_factory=list, max_length=50)

    def data(self) -> service.DirectiveInput:
        return service.DirectiveInput(
            area=self.area, title=self.title, text=self.text, to_level=self.to_level,
            deadline=self.deadline, targets=tuple(self.targets),
            departments=tuple(self.departments),
        )  # fmt: skip


class CountsRead(BaseModel):
    """Leaf tasks by where they stand; ``verified`` is part of ``done``."""

    total: int
    done: int
    verified: int
    in_progress: int
    not_started: int
    late: int
    rejected: int

    @classmethod
    def of(cls, counts: rollups.Counts) -> CountsRead:
        return cls(**counts.as_dict())


class DirectiveRead(BaseModel):
    """A directive, with its leaf tasks within your scope counted."""

    id: int
    area_code: str
    level: AreaLevel
    to_level: AreaLevel
    title: str
    text: str
    targets: list[str]
    departments: list[str]
    deadline: date
    issued_by_name: str
    created_at: datetime
    counts: CountsRead | None = None

    @classmethod
    def of(cls, directive: Directive, counts: rollups.Counts | None = None) -> DirectiveRead:
        return cls(
            id=directive.id, area_code=directive.area_code, level=directive.level,
            to_level=directive.to_level, title=directive.title, text=directive.text,
            targets=[c for c in directive.targets.split(",") if c],
            departments=[d for d in directive.departments.split(",") if d],
            deadline=directive.deadline, issued_by_name=directive.issued_by_name,
            created_at=directive.created_at,
            counts=CountsRead.of(counts) if counts is not None else None,
        )  # fmt: skip


class RollupRowRead(BaseModel):
    """One child area: its leaf tasks counted, and its own task (owner, status, deadline)."""

    area_code: str
    name: str
    level: AreaLevel
    counts: CountsRead
    task_id: int | None
    status: TaskStatus | None
    owner: str | None
    escalated: bool
    deadline: date | None


class RollupRead(BaseModel):
    """A directive's progress under one area, per child area, worst first."""

    area_code: str
    name: str
    level: AreaLevel
    counts: CountsRead
    task_id: int | None
    path: list[dict[str, str]]
    rows: list[RollupRowRead]

    @classmethod
    def of(cls, tree: rollups.Rollup) -> RollupRead:
        return cls(
            area_code=tree.area_code, name=tree.name, level=tree.level,
            counts=CountsRead.of(tree.counts), task_id=tree.task_id,
            path=[{"area_code": code, "name": name} for code, name in tree.path],
            rows=[
                RollupRowRead(
                    area_code=r.area_code, name=r.name, level=r.level,
                    counts=CountsRead.of(r.counts), task_id=r.task_id, status=r.status,
                    owner=r.owner, escalated=r.escalated, deadline=r.deadline,
                )
                for r in tree.rows
            ],
        )  # fmt: skip


class DirectiveDetail(BaseModel):
    """A directive and its roll-up under the area asked for."""

    directive: DirectiveRead
    rollup: RollupRead


class TaskRead(BaseModel):
    """A task: an area's part of a directive."""

    id: int
    directive_id: int | None  # None: a task raised by an alert (its `title` says what to do)
    directive_title: str | None = None
    title: str | None = None
    parent_id: int | None
    area_code: str
    level: AreaLevel
    leaf: bool
    owner_id: int | None
    owner: str | None = None
    deadline: date
    status: TaskStatus
    late: bool
    reason: str | None
    done_at: datetime | None
    verified_at: datetime | None
    escalated: bool
    reminders: int

    @classmethod
    def of(
        cls, task: Task, owners: dict[int, str] | None = None, title: str | None = None
    ) -> TaskRead:
        return cls(
            id=task.id, directive_id=task.directive_id, directive_title=title, title=task.title,
            parent_id=task.parent_id, area_code=task.area_code, level=task.level,
            leaf=task.leaf, owner_id=task.owner_id,
            owner=(owners or {}).get(task.owner_id) if task.owner_id else None,
            deadline=task.deadline, status=task.status,
            late=task.leaf and service.is_late(task), reason=task.reason,
            done_at=task.done_at, verified_at=task.verified_at,
            escalated=task.escalated_at is not None, reminders=task.reminders,
        )  # fmt: skip


class EvidenceRead(BaseModel):
    """A note and, when there is one, a file (``file_url`` to fetch it)."""

    id: int
    task_id: int
    text: str
    filename: str | None
    content_type: str | None
    size: int
    sha256: str | None
    username: str
    created_at: datetime
    file_url: str | None

    @classmethod
    def of(cls, row: TaskEvidence) -> EvidenceRead:
        return cls(
            id=row.id, task_id=row.task_id, text=row.text, filename=row.filename,
            content_type=row.content_type, size=row.size, sha256=row.sha256,
            username=row.username, created_at=row.created_at,
            file_url=f"/api/evidence/{row.id}/file" if row.filename else None,
        )  # fmt: skip


class CommentRead(BaseModel):
    """A remark on a task."""

    id: int
    task_id: int
    text: str
    username: str
    created_at: datetime

    @classmethod
    def of(cls, row: TaskComment) -> CommentRead:
        return cls(id=row.id, task_id=row.task_id, text=row.text, username=row.username,
                   created_at=row.created_at)  # fmt: skip


class TaskDetail(BaseModel):
    """A task with its evidence, comments and the steps open to you now."""

    task: TaskRead
    evidence: list[EvidenceRead]
    comments: list[CommentRead]
    actions: list[TaskAction]
    children: list[TaskRead]


class TaskSplit(WriteSchema):
    """Split a task into its child areas' tasks (all of them, or those named)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"areas": []}]})

    areas: list[str] = Field(default_factory=list, max_length=5000)


class TaskActionCreate(WriteSchema):
    """One step in a task's life; ``reason`` is needed to reject."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"action": "accept"}, {"action": "reject",
                                                               "reason": "名单有误，请核对"}]}
    )  # fmt: skip

    action: TaskAction
    reason: str = Field("", max_length=service.REASON_MAX)


class CommentCreate(WriteSchema):
    """A remark on a task."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"text": "已联系村医，明日上门"}]})

    text: str = Field(max_length=service.REASON_MAX)


class EvidenceCreate(WriteSchema):
    """Evidence: a note, a file (photo .jpg/.png, .pdf, .xlsx, .docx, ≤ 10 MB) or both."""

    text: str = Field("", max_length=service.REASON_MAX)
    file: UploadFile | None = Field(None, description="a photo or document")


def as_json(model: BaseModel) -> dict[str, Any]:
    """The model as the CLI prints it."""
    return model.model_dump(mode="json")
