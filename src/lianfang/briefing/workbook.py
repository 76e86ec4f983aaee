"""The briefing as an .xlsx workbook: the key figures, the child areas worst first (with the
change since yesterday and a coverage chart) and the directives behind schedule. Numbers are
written as numbers (so a meeting's secretary can sort and sum them), text with
``write_string`` (never run as a formula)."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from lianfang.briefing.choices import Layer
from lianfang.briefing.read import Briefing, Row
from lianfang.briefing.render import long_date, share_change
from lianfang.duty.choices import DutyRole
from lianfang.i18n import Text, _, pgettext, use_language
from lianfang.timeutil import format_local, now


@dataclass(frozen=True)
class Column:
    layer: Layer | None
    header: Text
    width: int
    value: Callable[[Row], Any]
    share: bool = False  # a 0..1 share, written with a percent format


COLUMNS = (
    Column(Layer.coverage, _("Red and yellow people"), 12, lambda r: r.followed),
    Column(Layer.coverage, _("Reached by all four"), 12, lambda r: r.all_four),
    Column(Layer.coverage, _("Coverage"), 10, lambda r: r.coverage, share=True),
    Column(Layer.coverage, _("Coverage since yesterday"), 12, share_change, share=True),
    Column(Layer.coverage, _("Overdue"), 10, lambda r: r.overdue),
    Column(Layer.coverage, _("Overdue since yesterday"), 12, lambda r: r.change("overdue")),
    Column(Layer.alerts, _("Alerts"), 10, lambda r: r.alerts),
    Column(Layer.alerts, _("Alerts since yesterday"), 12, lambda r: r.change("alerts")),
    Column(Layer.beds, _("Beds"), 10, lambda r: r.beds_total),
    Column(Layer.beds, _("Beds occupied"), 10, lambda r: r.beds_occupied),
    Column(Layer.beds, _("Bed occupancy"), 10, lambda r: r.beds_share, share=True),
    Column(Layer.beds, _("ICU beds"), 10, lambda r: r.icu_total),
    Column(Layer.beds, _("ICU beds occupied"), 10, lambda r: r.icu_occupied),
    Column(Layer.beds, _("ICU occupancy"), 10, lambda r: r.icu_share, share=True),
    Column(Layer.stock, _("Stock short"), 10, lambda r: r.stock_short),
    Column(Layer.stock, _("Facilities short"), 10, lambda r: r.short_facilities),
    Column(Layer.peak, _("Peak"), 12, lambda r: r.peak.isoformat() if r.peak else None),
    Column(Layer.tasks, _("Late tasks"), 10, lambda r: r.tasks_late),
    Column(Layer.tasks, _("Late tasks since yesterday"), 12, lambda r: r.change("tasks_late")),
)
"""The figures of a row, in the workbook's order, each under the layer that shows it."""


def _write(sheet: Worksheet, r: int, c: int, value: Any, fmt: Format | None) -> None:
    if value is None:
        sheet.write_blank(r, c, None)
    elif isinstance(value, int | float):
        sheet.write_number(r, c, value, fmt)
    else:
        sheet.write_string(r, c, str(value))


def workbook(read: Briefing, lang: str = "zh") -> bytes:
    """The briefing's workbook in a language (Chinese by default, as meetings read it)."""
    with use_language(lang):
        return _workbook(read, lang)


def _workbook(read: Briefing, lang: str) -> bytes:
    out = io.BytesIO()
    columns = [c for c in COLUMNS if c.layer is None or c.layer in read.layers]
    with xlsxwriter.Workbook(out, {"in_memory": True}) as book:
        bold = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        title = book.add_format({"bold": True, "font_size": 14})
        pct = book.add_format({"num_format": "0.0%"})
        sheet = book.add_worksheet(str(pgettext("workbook sheet", "Briefing")))
        heading = _("Daily briefing of %(area)s, %(day)s", area=read.area.name,
                    day=long_date(read.day, lang))  # fmt: skip
        sheet.write_string(0, 0, str(heading), title)
        when = (
            _("Figures as of %(when)s.", when=format_local(now(), lang))
            if read.live
            else _("Figures as stored on %(when)s.", when=format_local(read.taken_at, lang))
        )
        sheet.write_string(1, 0, str(when))
        level = read.child_level.label(lang) if read.child_level else ""
        headers = [level or str(pgettext("area", "Name")), *(str(c.header) for c in columns)]
        for col, text in enumerate(headers):
            sheet.write_string(3, col, text, bold)
            sheet.set_column(col, col, 18 if col == 0 else columns[col - 1].width)
        rows = [read.area, *read.rows]
        for r, row in enumerate(rows, start=4):
            sheet.write_string(r, 0, row.name, bold if row is read.area else None)
            for c, column in enumerate(columns, start=1):
                _write(sheet, r, c, column.value(row), pct if column.share else None)
        sheet.freeze_panes(4, 1)
        if read.rows:
            sheet.autofilter(3, 0, 3 + len(rows) - 1, len(columns))
        _chart(book, sheet, read, columns, first=5, last=3 + len(rows))
        _behind(book, read, bold)
        _duty(book, read, bold, lang)
    return out.getvalue()


def _chart(
    book: xlsxwriter.Workbook, sheet: Worksheet, read: Briefing, columns: list[Column],
    first: int, last: int,
) -> None:  # fmt: skip
    """A bar chart of coverage per child area beside the rows."""
    index = next((i for i, c in enumerate(columns, start=1) if c.header.msgid == "Coverage"), 0)
    if not index or not read.rows:
        return
    chart = book.add_chart({"type": "bar"})
    name = sheet.get_name()
    chart.add_series({
        "name": str(_("Coverage of all four guarantees")),
        "categories": [name, first - 1, 0, last, 0],
        "values": [name, first - 1, index, last, index],
        "fill": {"color": "#d9363e"},
    })  # fmt: skip
    chart.set_title({"name": str(_("Coverage of all four guarantees"))})
    chart.set_legend({"none": True})
    chart.set_x_axis({"num_format": "0%", "max": 1})
    chart.set_y_axis({"reverse": True})
    sheet.insert_chart(last + 3, 0, chart, {"x_scale": 1.4, "y_scale": 1.2})


def _behind(book: xlsxwriter.Workbook, read: Briefing, bold: Format) -> None:
    if Layer.tasks not in read.layers:
        return
    sheet = book.add_worksheet(str(_("Directives behind schedule")))
    headers = [_("Directive"), _("Deadline"), _("Leaf tasks"), _("Done"), _("Late")]
    for col, text in enumerate(headers):
        sheet.write_string(0, col, str(text), bold)
        sheet.set_column(col, col, 40 if col == 0 else 12)
    for r, d in enumerate(read.behind, start=1):
        sheet.write_string(r, 0, d.title)
        sheet.write_string(r, 1, d.deadline.isoformat())
        sheet.write_number(r, 2, d.total)
        sheet.write_number(r, 3, d.done)
        sheet.write_number(r, 4, d.late)


def _duty(book: xlsxwriter.Workbook, read: Briefing, bold: Format, lang: str) -> None:
    """Tonight's duty: one row per person on duty, an area with nobody in a row of its own."""
    if read.duty is None:
        return
    sheet = book.add_worksheet(str(pgettext("workbook sheet", "Duty roster")))
    sheet.write_string(0, 0, str(_("on duty at 22:00 of %(day)s", day=long_date(read.day, lang))))
    headers = [
        pgettext("duty sheet", "area"),
        pgettext("duty sheet", "role"),
        pgettext("duty sheet", "name"),
        pgettext("duty sheet", "phone"),
        _("Hours"),
    ]
    for col, text in enumerate(headers):
        sheet.write_string(2, col, str(text), bold)
        sheet.set_column(col, col, 18 if col in (0, 3) else 12)
    r = 3
    for d in read.duty:
        people = [(DutyRole.leader, p) for p in d.leaders] + [(DutyRole.staff, p) for p in d.staff]
        if not people:
            sheet.write_string(r, 0, d.name)
            sheet.write_string(r, 1, str(_("Nobody on duty.")))
            r += 1
        for role, p in people:
            for c, cell in enumerate((d.name, role.label(), p.name, p.phone, p.hours)):
                sheet.write_string(r, c, cell)
            r += 1
    sheet.freeze_panes(3, 0)
