"""The briefing as a document: its HTML (the web page embeds the same body), a printable A4 PDF
made from that HTML by WeasyPrint with the Chinese fonts embedded, and the figures a chart
draws. Charts are inline SVG drawn here, so the page, the PDF and a saved .html file show them
without JavaScript."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from jinja2 import Environment, FileSystemLoader

from lianfang import i18n
from lianfang.areas import codes
from lianfang.briefing.choices import Layer
from lianfang.briefing.read import Behind, Briefing, Row
from lianfang.i18n import _, use_language
from lianfang.timeutil import format_local, now, utcnow

HERE = Path(__file__).parent
env = Environment(
    loader=FileSystemLoader(HERE / "templates"), autoescape=True, extensions=["jinja2.ext.i18n"]
)
env.install_gettext_callables(  # type: ignore[attr-defined]
    i18n.gettext,
    i18n.ngettext,
    newstyle=True,
    pgettext=i18n.context_gettext,
    npgettext=i18n.context_ngettext,
)


def delta(value: float | None, digits: int = 0, share: bool = False) -> str:
    """A change as people read it: +3, −2, ±0, +1.5 pp; empty when unknown."""
    if value is None:
        return ""
    if share:
        value, digits = value * 100, 1
    if round(value, digits) == 0:
        return "±0"
    sign = "+" if value > 0 else "−"
    text = i18n.number(abs(value), digits)
    return f"{sign}{text}{_(' pp') if share else ''}"


def share_change(row: Row) -> float | None:
    """Change of the coverage share since yesterday."""
    if row.previous is None or row.coverage is None or row.previous.coverage is None:
        return None
    return row.coverage - row.previous.coverage


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str
    colour: str


def coverage_bars(rows: list[Row]) -> list[Bar]:
    """Coverage share per child area, worst first (areas without red or yellow people left out)."""
    out = []
    for r in rows:
        share = r.coverage
        if share is None:
            continue
        colour = "#d9363e" if share < 0.5 else "#e6a23c" if share < 0.8 else "#3ba272"
        out.append(Bar(r.name, share, i18n.percent(share), colour))
    return out


def occupancy_bars(rows: list[Row]) -> list[Bar]:
    """Bed occupancy per child area, fullest first."""
    found = [(r, r.beds_share) for r in rows if r.beds_share is not None]
    found.sort(key=lambda pair: -(pair[1] or 0))
    return [
        Bar(r.name, share or 0.0, i18n.percent(share),
            "#d9363e" if (share or 0) >= 0.9 else "#e6a23c" if (share or 0) >= 0.75 else "#3ba272")
        for r, share in found
    ]  # fmt: skip


def long_date(day: date, lang: str) -> str:
    """A date as a heading writes it: 2023年1月5日, 2023-01-05."""
    return f"{day.year}年{day.month}月{day.day}日" if lang == "zh" else day.isoformat()


env.filters.update(num=i18n.number, pct=i18n.percent, delta=delta)
env.globals.update(
    format_local=format_local,
    share_change=share_change,
    long_date=long_date,
    coverage_bars=coverage_bars,
    occupancy_bars=occupancy_bars,
    Layer=Layer,
)


def _context(read: Briefing, lang: str) -> dict[str, object]:
    return {
        "b": read,
        "lang": lang,
        "made_at": utcnow(),  # the machine's clock: when this document was made
        "world_now": now(),  # the world's clock: the moment live figures stand for
        "shown": set(read.layers),
        "peak_days": (read.area.peak - read.day).days if read.area.peak else None,
    }


def body(
    read: Briefing,
    lang: str,
    link: Callable[[Row], str] | None = None,
    directive_link: Callable[[Behind], str] | None = None,
) -> str:
    """The briefing's content, which the web page shows inside its frame (with links to drill
    down: ``link`` for a child area, ``directive_link`` for a directive)."""
    with use_language(lang):
        return env.get_template("body.html").render(
            _context(read, lang) | {"link": link, "directive_link": directive_link}
        )


def document(read: Briefing, lang: str) -> str:
    """The briefing as a standalone HTML document (A4, print styles): the saved .html file and
    the source of the PDF."""
    with use_language(lang):
        return env.get_template("document.html").render(
            _context(read, lang) | {"content": body(read, lang)}
        )


def pdf(read: Briefing, lang: str) -> bytes:
    """The briefing as an A4 PDF made from the document's HTML (WeasyPrint: Pango lays out the
    text with the system's Noto CJK fonts, which the PDF embeds as subsets)."""
    from weasyprint import HTML  # heavy: only when a PDF is asked for

    made: bytes = HTML(string=document(read, lang), base_url=str(HERE)).write_pdf()
    return made


def filename(read: Briefing, suffix: str) -> str:
    """``briefing-320623-2023-01-05.pdf``."""
    return f"briefing-{codes.short(read.area.code)}-{read.day:%Y-%m-%d}.{suffix}"
