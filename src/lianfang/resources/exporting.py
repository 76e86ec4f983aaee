"""Exporting facilities, capacity reports and stock counts of an area in the very sheets the
import reads (``resources.sheet``), so an exported file imports again unchanged. No personal data
is in them, so nothing is masked; every export is audited (``export``), as the people's are.
The API (``GET /api/resources/export``), the pages' export links and the CLI all call
``export``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.areas import codes
from lianfang.auth import audit
from lianfang.auth.choices import AuditAction, Permission
from lianfang.auth.scope import Actor
from lianfang.db.engine import begin_write
from lianfang.errors import InvalidInputError
from lianfang.i18n import _
from lianfang.io import sheets, workbooks
from lianfang.io.sheets import SheetSpec
from lianfang.resources.choices import Capability
from lianfang.resources.models import CapacityReport, Facility, Item, StockBalance
from lianfang.resources.service import area_in_scope
from lianfang.resources.sheet import CAPACITY, COUNTS, FACILITIES

KINDS: dict[str, SheetSpec] = {"facilities": FACILITIES, "capacity": CAPACITY, "stock": COUNTS}
"""What can be exported: facilities, capacity reports, stock (each item's balance, as a count)."""
ENTITIES = {"facilities": "facility", "capacity": "capacity_report", "stock": "stock_balance"}
FORMATS = ("xlsx", "csv")


def _minute(at: datetime) -> str:
    """A moment as the sheets write it: Beijing time, to the minute."""
    return timeutil.local(at).strftime("%Y-%m-%d %H:%M")


def _number(value: float | None) -> str:
    return "" if value is None else str(value)


def rows(
    *, session: Session, actor: Actor, kind: str, area_code: str
) -> tuple[SheetSpec, list[list[str]]]:
    """The sheet of a kind and its rows for the facilities of an area in the actor's scope."""
    actor.require(Permission.resources_read)
    if kind not in KINDS:
        raise InvalidInputError(
            _("unknown export %(kind)s; known: %(known)s", kind=kind, known=", ".join(KINDS))
        )
    prefix = codes.short(area_in_scope(session, actor, area_code).code)
    where = [codes.in_subtree(Facility.area_code, prefix), actor.area_filter(Facility.area_code)]
    out: list[list[str]] = []
    if kind == "facilities":
        order = list(Capability)
        for f in session.scalars(select(Facility).where(*where).order_by(Facility.code)):
            caps = "、".join(c.zh for c in sorted(f.capabilities, key=order.index))
            out.append([f.code, f.name, f.type.zh, f.area_code, _number(f.lon), _number(f.lat),
                        f.address, f.hours, f.phone, caps, f.status.zh])  # fmt: skip
    elif kind == "capacity":
        query = (
            select(Facility.code, CapacityReport)
            .join(CapacityReport, CapacityReport.facility_id == Facility.id)
            .where(*where)
            .order_by(Facility.code, CapacityReport.reported_at)
        )
        for code, r in session.execute(query):
            out.append([
                code, _minute(r.reported_at),
                *(_number(v) for v in (r.beds_total, r.beds_occupied, r.icu_total,
                                       r.icu_occupied, r.fever_visits, r.staff_on_duty)),
            ])  # fmt: skip
    else:
        counts = (
            select(Facility.code, Item.code, StockBalance.balance, StockBalance.moved_at)
            .join(StockBalance, StockBalance.facility_id == Facility.id)
            .join(Item, Item.id == StockBalance.item_id)
            .where(*where)
            .order_by(Facility.code, Item.id)
        )
        out = [[f, i, str(b), _minute(at)] for f, i, b, at in session.execute(counts).all()]
    return KINDS[kind], out


def export(
    *, session: Session, actor: Actor, kind: str, area_code: str, file_format: str = "xlsx"
) -> tuple[bytes, int]:
    """The file of an export — a workbook, or a CSV (cells a spreadsheet would run neutralised
    by ``io.sheets``) — and how many rows it holds; audited as an export of the area."""
    if file_format not in FORMATS:
        raise InvalidInputError(_("format must be xlsx or csv, not %(format)s", format=file_format))
    spec, data = rows(session=session, actor=actor, kind=kind, area_code=area_code)
    content = sheets.write_csv(spec, data) if file_format == "csv" else workbooks.export(spec, data)
    begin_write(session)  # a GET reads first: the audit row is a short write of its own
    audit.record(
        session=session, actor=actor, action=AuditAction.export, entity_type=ENTITIES[kind],
        area_code=codes.normalise(area_code),
        detail={"kind": kind, "format": file_format, "rows": len(data)},
    )  # fmt: skip
    return content, len(data)
