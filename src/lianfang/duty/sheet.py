"""The duty-roster sheet: one row per person on duty, the same for templates, imports and
exports (an export imports again unchanged). Headers in Chinese or English."""

from __future__ import annotations

from lianfang.duty.choices import DutyRole, Shift
from lianfang.i18n import _, pgettext
from lianfang.io.sheets import Column, SheetSpec

SPEC = SheetSpec("duty roster", (
    Column("area_code", _("area code"), required=True, width=14,
           note=_("the 12-digit code of the city, county, town or village (or its short form)")),
    Column("area_name", pgettext("duty sheet", "area"), export_only=True, width=16),
    Column("on_date", pgettext("duty sheet", "date"), required=True, width=12,
           note=_("YYYY-MM-DD")),
    Column("shift", pgettext("duty sheet", "shift"), required=True, width=10,
           choices=tuple(s.zh for s in Shift),
           note=_("day 08:00–20:00, night 20:00–08:00, 24 hours 08:00–08:00; the start and end "
                  "columns override them")),
    Column("start", pgettext("duty sheet", "starts at"), width=10,
           note=_("HH:MM, Beijing time (blank: the shift's usual hours)")),
    Column("end", pgettext("duty sheet", "ends at"), width=10,
           note=_("HH:MM; not after the start means the next day")),
    Column("role", pgettext("duty sheet", "role"), required=True, width=12,
           choices=tuple(r.zh for r in DutyRole),
           note=_("at most one leader per area and shift")),
    Column("name", pgettext("duty sheet", "name"), required=True, width=12),
    Column("username", pgettext("duty sheet", "account"), width=14,
           note=_("the person's lianfang account, so that alerts reach them in the application")),
    Column("phone", pgettext("duty sheet", "phone"), width=16),
    Column("note", pgettext("duty sheet", "note"), width=24),
))  # fmt: skip
