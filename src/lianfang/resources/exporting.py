"""Exporting facilities, capacity reports and stock counts of an area in the very sheets the
import reads (``resources.sheet``), so an exported file imports again unchanged. No personal data
is in them, so nothing is masked."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.areas import codes
from lianfang.auth.choices import Permission
from lianfang.auth.scope import Actor
from lianfang.errors import InvalidInputError
from lianfang.i18n import _
from lianfang.io import sheets, workbooks
from lianfang.io.sheets import SheetSpec
from lianfang.resources.choices import Capability
from lianfang.resources.models import CapacityReport, Facility, Item, StockBalance
from lianfang.resources.sheet import CAPACITY, COUNTS, FACILITIES
from lianfang.resources.views import area

KINDS: dict[str, SheetSpec] = {"facilities": FACILITIES, "capacity": CAPACITY, "counts": COUNTS}
FORMATS = ("xlsx", "csv")


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
    prefix = codes.short(area(session, actor, area_code).code)
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
                code, timeutil.local(r.reported_at).strftime("%Y-%m-%d %H:%M"),
                *(_number(v) for v in (r.beds_total, r.beds_occupied, r.icu_total,
                                       r.icu_occupied, r.fever_visits, r.staff_on_duty)),
            ])  # fmt: skip
    else:
        counts = (
            select(Facility.code, Item.code, StockBalance.balance)
            .join(StockBalance, StockBalance.facility_id == Facility.id)
            .join(Item, Item.id == StockBalance.item_id)
            .where(*where)
            .order_by(Facility.code, Item.id)
        )
        out = [[f, i, str(b)] for f, i, b in session.execute(counts).all()]
    return KINDS[kind], out


def export(
    *, session: Session, actor: Actor, kind: str, area_code: str, file_format: str = "xlsx"
) -> bytes:
    """The file of an export: a workbook, or a CSV (cells a spreadsheet would run neutralised)."""
    if file_format not in FORMATS:
        raise InvalidInputError(_("format must be xlsx or csv, not %(format)s", format=file_format))
    spec, data = rows(session=session, actor=actor, kind=kind, area_code=area_code)
    return as_file(spec, data, file_format)


def as_file(spec: SheetSpec, data: Sequence[Sequence[str]], file_format: str) -> bytes:
    if file_format == "csv":
        return sheets.write_csv(spec, data)
    return workbooks.export(spec, data)
