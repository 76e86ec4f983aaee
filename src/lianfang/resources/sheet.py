"""The sheets resources import: facilities, capacity reports and stock counts. A file is one of
them, told apart by its headers (Chinese or English)."""

from __future__ import annotations

from lianfang.errors import ImportFileError
from lianfang.i18n import _, pgettext
from lianfang.io import sheets
from lianfang.io.sheets import Column, SheetSpec
from lianfang.resources.choices import Capability, FacilityStatus, FacilityType

CODE = Column("facility_code", _("facility code"), required=True, width=18)
FACILITIES = SheetSpec("facilities", (
    CODE,
    Column("name", pgettext("facility sheet", "name"), required=True, width=24),
    Column("type", pgettext("facility sheet", "type"), required=True,
           choices=tuple(t.zh for t in FacilityType), width=16),
    Column("area_code", _("area code"), required=True, width=14),
    Column("lon", _("longitude")), Column("lat", _("latitude")),
    Column("address", _("address"), width=24), Column("hours", _("opening hours")),
    Column("phone", pgettext("facility sheet", "phone")),
    Column("capabilities", _("capabilities"), width=24,
           note=_("separated by %(separator)s: %(values)s", separator="、",
                    values="、".join(c.zh for c in Capability))),
    Column("status", pgettext("facility sheet", "status"),
           choices=tuple(s.zh for s in FacilityStatus)),
))  # fmt: skip
CAPACITY = SheetSpec("capacity", (
    CODE,
    Column("reported_at", _("reported at"), required=True, width=18,
           note=_("YYYY-MM-DD HH:MM, Beijing time")),
    Column("beds_total", _("beds")), Column("beds_occupied", _("beds occupied")),
    Column("icu_total", _("ICU beds")), Column("icu_occupied", _("ICU beds occupied")),
    Column("fever_visits", _("fever-clinic visits")), Column("staff_on_duty", _("staff on duty")),
))  # fmt: skip
COUNTS = SheetSpec("stock counts", (
    CODE,
    Column("item", _("item"), required=True,
           note=_("item code or its Chinese name, e.g. ibuprofen")),
    Column("counted", _("counted"), required=True),
    Column("counted_at", _("counted at"), width=18,
           note=_("YYYY-MM-DD HH:MM, Beijing time; empty: now. A count that agrees with the "
                  "balance and is no newer than its last report changes nothing")),
))  # fmt: skip
SPECS = (FACILITIES, CAPACITY, COUNTS)


def read(data: bytes, source: str) -> tuple[SheetSpec, sheets.Table]:
    """The table of a file and which of the three sheets it is (by its headers)."""
    first: ImportFileError | None = None
    for spec in SPECS:
        try:
            table = sheets.read(data, source, spec)
        except ImportFileError as error:
            first = first or error
            continue
        if all(c.key in table.keys for c in spec.columns if c.required):
            return spec, table
    raise ImportFileError(
        _(
            "%(source)s is not a facilities, capacity or stock-count sheet (%(problem)s)",
            source=source,
            problem=first.text if first else _("required columns missing"),
        )
    )
