"""The villages a user may name in a people sheet: the template's list of them (name, town,
county, 12-digit code) and finding a village by its name.

A sheet's village column takes a code, or a village's name where exactly one village of the
user's area (their scope, or the area given to the import) bears it; an ambiguous or unknown
name is an error of its row naming the candidates."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from lianfang.areas import codes
from lianfang.areas import service as areas
from lianfang.areas.choices import AreaLevel
from lianfang.areas.models import Area
from lianfang.auth.choices import Permission
from lianfang.auth.scope import Actor
from lianfang.i18n import Text, _, listing, pgettext
from lianfang.io import workbooks
from lianfang.people.sheet import SPEC

SHOWN_CANDIDATES = 5  # an ambiguous name names this many of its villages, then "…"


@dataclass(frozen=True)
class Village:
    """A village (community) with the names of its town and county."""

    code: str
    name: str
    town: str
    county: str

    def described(self) -> str:
        """County, town and village with the code, as an error names a candidate."""
        return f"{self.county}{self.town}{self.name}（{self.code}）"


def _scope(actor: Actor, area: str | None) -> str:
    """The code prefix names are looked up under: the area given (within scope), else the
    actor's whole scope."""
    if not area:
        return actor.prefix
    code = codes.normalise(area)
    actor.require_area(code)
    return codes.short(code)


def _villages(session: Session, prefix: str) -> list[Village]:
    """The villages under a prefix with their town's and county's names, ordered by code."""
    query = select(Area.code, Area.name).where(
        codes.in_subtree(Area.code, prefix), Area.level == AreaLevel.village
    )
    found = [(code, name) for code, name in session.execute(query.order_by(Area.code))]
    parents = {c for code, _ in found for c in (_town(code), _county(code))}
    named = areas.names(session=session, area_codes=parents)
    return [
        Village(code, name, named.get(_town(code), ""), named.get(_county(code), ""))
        for code, name in found
    ]


COMMITTEE = (("村民委员会", "村"), ("居民委员会", ""), ("村委会", "村"), ("居委会", ""))
KINDS = ("社区", "村")


def forms(name: str) -> set[str]:
    """The ways a sheet may write a village's registered name: as registered (新桥村委会,
    朝阳社区居委会), as the village (新桥村, 朝阳社区; 新桥村村委会 is 新桥村 too) and bare
    (新桥, 朝阳; which may then meet several villages: an ambiguous name)."""
    text = "".join(name.split())
    found = {text}
    for suffix, kind in COMMITTEE:
        if text.endswith(suffix) and len(text) > len(suffix):
            text = text.removesuffix(suffix) + kind
            break
    text = text.replace("村村", "村") if text.endswith("村村") else text
    found.add(text)
    for kind in KINDS:
        if text.endswith(kind) and len(text) > len(kind):
            found.add(text.removesuffix(kind))
            break
    return found


def _town(code: str) -> str:
    return code[:9] + "000"


def _county(code: str) -> str:
    return code[:6] + "000000"


def in_area(*, session: Session, actor: Actor, area: str | None = None) -> list[Village]:
    """Every village a user may name in a people sheet: those of their scope (or of ``area``
    within it), ordered by code."""
    actor.require(Permission.people_read)
    return _villages(session, _scope(actor, area))


def template(*, session: Session, actor: Actor, area: str | None = None) -> bytes:
    """The people sheet template with a second sheet listing the user's villages."""
    villages = in_area(session=session, actor=actor, area=area)
    return workbooks.template(SPEC, listings=[listing_sheet(villages)])


LISTING_NAME = pgettext("people sheet", "villages")


def listing_sheet(villages: list[Village]) -> workbooks.Listing:
    """The villages as the template's reference sheet (written in Chinese, like the template)."""
    zh = "zh"
    return workbooks.Listing(
        name=LISTING_NAME.in_language(zh),
        headers=[
            pgettext("people sheet", "village").in_language(zh),
            pgettext("people sheet", "town").in_language(zh),
            pgettext("people sheet", "county").in_language(zh),
            pgettext("people sheet", "village code").in_language(zh),
        ],
        widths=[18, 18, 12, 16],
        rows=[(v.name, v.town, v.county, v.code) for v in villages],
        note=_(
            "The villages of your area. In the village column of the first sheet write the "
            "12-digit code, or the village's name where no other village of your area bears it."
        ).in_language(zh),
    )


def by_name(
    *, session: Session, actor: Actor, names: Iterable[str], area: str | None = None
) -> dict[str, str | Text]:
    """Each name's village code where one village of the area bears it (in one of its
    ``forms``), else the problem: no village of that name, or several (naming them)."""
    wanted = {n for n in names if n}
    found: dict[str, list[Village]] = defaultdict(list)
    for village in _villages(session, _scope(actor, area)) if wanted else ():
        for form in forms(village.name):
            found[form].append(village)
    out: dict[str, str | Text] = {}
    for name in wanted:
        candidates = found.get("".join(name.split()), [])
        if len(candidates) == 1:
            out[name] = candidates[0].code
        elif not candidates:
            out[name] = _(
                "no village named '%(name)s' in your area; write its 12-digit code (see the "
                "template's village list)",
                name=name,
            )
        else:
            shown = [c.described() for c in candidates[:SHOWN_CANDIDATES]]
            if len(candidates) > SHOWN_CANDIDATES:
                shown.append("…")
            out[name] = _(
                "%(count)s villages in your area are named '%(name)s': %(candidates)s; write "
                "the code of the one meant",
                count=len(candidates),
                name=name,
                candidates=listing(shown),
            )
    return out
