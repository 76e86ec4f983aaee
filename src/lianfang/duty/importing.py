"""Importing a duty-roster sheet all or nothing: every row is checked and written in one
transaction (the rules of the roster included: nobody twice at once, one leader per area and
shift, across the file and what is stored); any row's problem rejects the file with row-level
errors and writes nothing. A dry run rolls back what it wrote. A row that names a person already
on that area's shift (same day, shift, role and name) updates them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from lianfang.areas import codes
from lianfang.areas.models import Area
from lianfang.auth import audit
from lianfang.auth.choices import AuditAction, Permission
from lianfang.auth.models import User
from lianfang.auth.scope import Actor
from lianfang.choices import Choice
from lianfang.db.engine import begin_write
from lianfang.duty import service
from lianfang.duty.choices import DutyRole, Shift
from lianfang.duty.models import DutyShift
from lianfang.duty.sheet import SPEC
from lianfang.errors import ImportRowError, InvalidInputError, LianfangError
from lianfang.i18n import Text, _, listing
from lianfang.io import sheets
from lianfang.pii import is_masked, mask_phone

Row = dict[str, str]
C = TypeVar("C", bound=Choice)


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    dry_run: bool = False


class CellError(LianfangError):
    """A cell that cannot be read, naming its column."""

    def __init__(self, key: str, message: Text) -> None:
        super().__init__(message)
        self.key = key


def _choice(kind: type[C], key: str, text: str) -> C:
    for member in kind:
        if text in (member.value, member.zh, member.en):
            return member
    raise CellError(key, _("not one of %(values)s", values=listing(m.zh for m in kind)))


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text[:10].replace("/", "-"))
    except ValueError:
        raise CellError("on_date", _("not a date (YYYY-MM-DD): %(value)s", value=text)) from None


def _time(key: str, text: str) -> time | None:
    if not text:
        return None
    try:
        return time.fromisoformat(text if len(text) > 4 else text.zfill(5))
    except ValueError:
        raise CellError(key, _("not a time (HH:MM): %(value)s", value=text)) from None


def _row(session: Session, actor: Actor, row: Row, result: ImportResult) -> None:
    try:
        code = codes.normalise(row["area_code"])
    except InvalidInputError as error:
        raise CellError("area_code", error.text) from None
    if session.get(Area, code) is None:
        raise CellError("area_code", _("no area %(code)s", code=row["area_code"]))
    if not actor.reaches(code):
        raise CellError(
            "area_code", _("area %(code)s is outside your scope", code=row["area_code"])
        )
    username = row.get("username") or None
    if username and session.scalar(select(User.id).where(User.username == username)) is None:
        raise CellError("username", _("no user %(username)s", username=username))
    on_date, shift = _date(row["on_date"]), _choice(Shift, "shift", row["shift"])
    role, name = _choice(DutyRole, "role", row["role"]), row["name"]
    start, end = _time("start", row.get("start", "")), _time("end", row.get("end", ""))
    existing = session.scalar(
        select(DutyShift).where(
            DutyShift.area_code == code, DutyShift.on_date == on_date, DutyShift.shift == shift,
            DutyShift.role == role, DutyShift.name == name,
        )
    )  # fmt: skip
    phone = row.get("phone", "")
    if is_masked(phone):  # an export's masked phone: keep the stored one it stands for
        if existing is None or mask_phone(existing.phone) != phone:
            raise CellError("phone", _("a masked number cannot be stored: write the full number"))
        phone = existing.phone
    data = service.ShiftIn(
        area_code=code, on_date=on_date, shift=shift, role=role, name=name,
        username=username, phone=phone, note=row.get("note", ""),
        start=start, end=end,
    )  # fmt: skip
    if existing is None:
        service.create(session=session, actor=actor, data=data)
        result.created += 1
    else:
        service.update(session=session, actor=actor, shift_id=existing.id, data=data)
        result.updated += 1


def import_table(
    *, session: Session, actor: Actor, table: sheets.Table, dry_run: bool = False
) -> ImportResult:
    """Check and write every row of a duty-roster sheet, all or nothing."""
    actor.require(Permission.duty_manage)
    begin_write(session)
    result = ImportResult(rows=len(table), dry_run=dry_run)
    errors: list[ImportRowError] = list(table.problems)
    columns = {c.key: table.values(c.key) for c in SPEC.importable}
    savepoint = session.begin_nested()
    for index in range(len(table)):
        row = {k: (v[index] if v is not None else "") for k, v in columns.items()}
        missing = [c for c in SPEC.importable if c.required and not row.get(c.key)]
        if missing:
            errors.append(sheets.row_error(table, SPEC, index, missing[0].key, _("required")))
            continue
        try:
            with session.begin_nested():
                _row(session, actor, row, result)
        except CellError as error:
            errors.append(sheets.row_error(table, SPEC, index, error.key, error.text))
        except LianfangError as error:
            key = _column_of(error)
            errors.append(sheets.row_error(table, SPEC, index, key, error.text))
    if errors:
        savepoint.rollback()
        raise sheets.failed(table, errors)
    if dry_run:
        savepoint.rollback()
        return result
    savepoint.commit()
    audit.record(
        session=session, actor=actor, action=AuditAction.load, entity_type="duty_shift",
        detail={"source": table.source, "rows": result.rows, "created": result.created,
                "updated": result.updated},
    )  # fmt: skip
    return result


def _column_of(error: LianfangError) -> str:
    """The column a service's refusal is about: the field it names, else the person."""
    keys = {c.key for c in SPEC.columns}
    named = [k for k in getattr(error, "fields", {}) if k in keys]
    return named[0] if named else "name"
