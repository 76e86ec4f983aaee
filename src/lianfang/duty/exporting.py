"""Exporting an area's duty roster in the very sheet the import reads, so that an exported file
imports again unchanged; the template to fill in. Phones are masked unless the caller may
reveal personal data (a masked phone imports back as the stored one)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.areas import codes
from lianfang.areas import service as areas
from lianfang.auth import audit
from lianfang.auth.choices import AuditAction, Permission
from lianfang.auth.models import User
from lianfang.auth.scope import Actor
from lianfang.db.engine import begin_write
from lianfang.duty import service
from lianfang.duty.choices import HOURS
from lianfang.duty.models import DutyShift
from lianfang.duty.sheet import SPEC
from lianfang.errors import InvalidInputError
from lianfang.i18n import _
from lianfang.io import sheets, workbooks

FORMATS = ("xlsx", "csv")


def rows(
    *, session: Session, actor: Actor, area_code: str, start: date, end: date
) -> list[list[str]]:
    """The sheet's rows for the duty shifts of an area and every area below it."""
    found = service.listed(session=session, actor=actor, area_code=area_code, start=start, end=end)
    names = areas.names(session=session, area_codes={s.area_code for s in found})
    users = _usernames(session, {s.user_id for s in found if s.user_id})
    return [_cells(s, names, users, actor) for s in found]


def _cells(s: DutyShift, names: dict[str, str], users: dict[int, str], actor: Actor) -> list[str]:
    start, end = timeutil.local(s.starts_at).time(), timeutil.local(s.ends_at).time()
    usual = HOURS[s.shift] == (start, end)
    return [
        s.area_code, names.get(s.area_code, ""), s.on_date.isoformat(), s.shift.zh,
        "" if usual else f"{start:%H:%M}", "" if usual else f"{end:%H:%M}", s.role.zh, s.name,
        users.get(s.user_id or 0, ""), service.shown_phone(actor, s.phone), s.note,
    ]  # fmt: skip


def _usernames(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.username).where(User.id.in_(ids))).tuples())


def export(
    *, session: Session, actor: Actor, area_code: str, start: date, end: date,
    file_format: str = "xlsx",
) -> tuple[bytes, int]:  # fmt: skip
    """The file of an export and its row count; audited."""
    if file_format not in FORMATS:
        raise InvalidInputError(_("format must be xlsx or csv, not %(format)s", format=file_format))
    data = rows(session=session, actor=actor, area_code=area_code, start=start, end=end)
    begin_write(session)
    audit.record(
        session=session, actor=actor, action=AuditAction.export, entity_type="duty_shift",
        area_code=codes.normalise(area_code),
        detail={"from": start.isoformat(), "to": end.isoformat(), "rows": len(data),
                "masked": not actor.can(Permission.pii_reveal), "format": file_format},
    )  # fmt: skip
    return as_file(data, file_format), len(data)


def as_file(data: list[list[str]], file_format: str) -> bytes:
    """Rows as a CSV or a workbook of the roster sheet."""
    return sheets.write_csv(SPEC, data) if file_format == "csv" else workbooks.export(SPEC, data)


def template() -> bytes:
    """The empty roster sheet to fill in, with its drop-down lists and notes."""
    return workbooks.template(SPEC)
