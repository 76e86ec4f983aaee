"""Evidence that a task was carried out: a note and, when there is one, a photo or document,
checked for its real type (by its first bytes, not its name) and its size."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, undefer

from lianfang.auth import audit
from lianfang.auth.choices import AuditAction, Permission
from lianfang.auth.scope import Actor
from lianfang.dispatch import service
from lianfang.dispatch.models import TaskEvidence
from lianfang.errors import ConflictError, InvalidInputError, NotFoundError
from lianfang.i18n import _, listing

MAX_BYTES = 10 * 1024 * 1024
MAX_FILES_PER_TASK = 20
KINDS: dict[str, tuple[bytes, str]] = {
    # extension: (the first bytes such a file has, the type it is served as)
    "jpg": (b"\xff\xd8\xff", "image/jpeg"),
    "jpeg": (b"\xff\xd8\xff", "image/jpeg"),
    "png": (b"\x89PNG\r\n\x1a\n", "image/png"),
    "pdf": (b"%PDF-", "application/pdf"),
    "xlsx": (b"PK\x03\x04", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "docx": (
        b"PK\x03\x04",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
}
UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')


@dataclass(frozen=True)
class Upload:
    """A file as it came in."""

    filename: str
    content: bytes


def safe_name(raw: str) -> str:
    """The file's own name without any path, control or reserved characters, at most 120."""
    name = unicodedata.normalize("NFC", raw).replace("\\", "/").rsplit("/", 1)[-1]
    name = UNSAFE.sub("_", name).strip(" .")
    return name[-120:] or "file"


def check(upload: Upload) -> tuple[str, str]:
    """The file's safe name and content type, or an error saying what is wrong with it."""
    name = safe_name(upload.filename)
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in KINDS:
        raise InvalidInputError(
            _(
                "file %(name)s: only %(kinds)s files are accepted",
                name=name, kinds=listing(sorted(KINDS)),
            ),
            fields={"file": _("type not accepted")},
        )  # fmt: skip
    if not upload.content:
        raise InvalidInputError(_("file %(name)s is empty", name=name), fields={"file": _("empty")})
    if len(upload.content) > MAX_BYTES:
        raise InvalidInputError(
            _(
                "file %(name)s is %(size)s MB; at most %(limit)s MB is accepted",
                name=name, size=round(len(upload.content) / 1048576, 1),
                limit=MAX_BYTES // 1048576,
            ),
            fields={"file": _("too large")},
        )  # fmt: skip
    magic, content_type = KINDS[extension]
    if not upload.content.startswith(magic):
        raise InvalidInputError(
            _("file %(name)s is not a real .%(ext)s file", name=name, ext=extension),
            fields={"file": _("content does not match the name")},
        )
    return name, content_type


def add(
    *, session: Session, actor: Actor, task_id: int, text: str, upload: Upload | None = None
) -> TaskEvidence:
    """Attach evidence (a note, a file or both) to a task that is still being worked on."""
    actor.require(Permission.dispatch_work)
    task = service.get_task(session=session, actor=actor, task_id=task_id)
    if not task.leaf or task.status.finished:
        raise ConflictError(
            _(
                "task %(id)s is %(status)s: no evidence can be added",
                id=task.id,
                status=task.status.text,
            )
        )
    note = text.strip()[: service.REASON_MAX]
    if not note and upload is None:
        raise InvalidInputError(
            _("evidence needs a note or a file"), fields={"text": _("a note or a file")}
        )
    row = TaskEvidence(
        task_id=task.id, area_code=task.area_code, text=note, user_id=actor.user_id,
        username=actor.username,
    )  # fmt: skip
    if upload is not None:
        files = select(TaskEvidence.id).where(
            TaskEvidence.task_id == task.id, TaskEvidence.filename.is_not(None)
        )
        if len(session.scalars(files).all()) >= MAX_FILES_PER_TASK:
            raise ConflictError(
                _("task %(id)s already has %(n)s files", id=task.id, n=MAX_FILES_PER_TASK)
            )
        row.filename, row.content_type = check(upload)
        row.size, row.content = len(upload.content), upload.content
        row.sha256 = hashlib.sha256(upload.content).hexdigest()
    session.add(row)
    session.flush()
    audit.record(
        session=session, actor=actor, action=AuditAction.create, entity_type="task_evidence",
        entity_id=str(row.id), area_code=task.area_code,
        detail={"task": task.id, "file": row.filename, "size": row.size, "sha256": row.sha256},
    )  # fmt: skip
    return row


def listed(*, session: Session, actor: Actor, task_id: int) -> list[TaskEvidence]:
    """A task's evidence, oldest first (files' contents not loaded)."""
    task = service.get_task(session=session, actor=actor, task_id=task_id)
    query = select(TaskEvidence).where(TaskEvidence.task_id == task.id).order_by(TaskEvidence.id)
    return list(session.scalars(query))


def file(*, session: Session, actor: Actor, evidence_id: int) -> TaskEvidence:
    """One evidence row with its file's content, within scope."""
    actor.require(Permission.dispatch_read)
    row = session.scalar(
        select(TaskEvidence)
        .options(undefer(TaskEvidence.content))
        .where(TaskEvidence.id == evidence_id)
    )
    if row is None or row.content is None or not actor.reaches(row.area_code):
        raise NotFoundError(_("no evidence file %(id)s", id=evidence_id))
    return row
