"""Key-population pages: the registry list with its map, the coverage dashboard, imports and
exports. The person page and its forms are in ``person_pages``."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.api.deps import PageNumber, SessionDep, check_csrf, download
from lianfang.areas import codes
from lianfang.areas import service as areas
from lianfang.areas.choices import AreaLevel
from lianfang.auth.choices import Permission
from lianfang.choices import Choice
from lianfang.errors import ImportFileError, InvalidInputError, LianfangError
from lianfang.i18n import _
from lianfang.ids import MAX_ID, RecordId
from lianfang.io import sheets, workbooks
from lianfang.people import exporting, identity, importing, overview
from lianfang.people import service as people
from lianfang.people.choices import CoverageSort, Grade, Guarantee, SortOrder
from lianfang.people.models import Person
from lianfang.people.service import PeopleFilter
from lianfang.people.sheet import SPEC
from lianfang.web.language import request_language
from lianfang.web.pages import SignedIn, SignedInDep, render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
C = TypeVar("C", bound=Choice)


def choice(kind: type[C], value: str) -> C:
    """The member of a choice a form or address names, or a clear refusal."""
    try:
        return kind.of(value)
    except KeyError:
        raise InvalidInputError(_("no such option '%(value)s'", value=value)) from None


@dataclass(frozen=True)
class Query:
    """The list filters as they appear in the page's address."""

    area: str
    grade: str = ""
    missing: str = ""
    overdue: bool = False
    alert: bool = False
    q: str = ""

    def to_filter(self) -> PeopleFilter:
        grades = frozenset({choice(Grade, self.grade)}) if self.grade else frozenset()
        missing = choice(Guarantee, self.missing) if self.missing else None
        return PeopleFilter(
            area=self.area, grades=grades, missing=missing, overdue=self.overdue,
            alert_open=self.alert, q=self.q[:40],
        )  # fmt: skip

    def params(self, **changes: object) -> dict[str, str]:
        """The filters as address parameters, some changed (``None`` or "" drops one)."""
        values: dict[str, Any] = {
            "area": self.area, "grade": self.grade, "missing": self.missing,
            "overdue": "1" if self.overdue else "", "alert": "1" if self.alert else "", "q": self.q,
        } | changes  # fmt: skip
        kept = {k: v for k, v in values.items() if v not in (None, "", False)}
        return {k: "1" if v is True else str(v) for k, v in kept.items()}

    def url(self, **changes: object) -> str:
        """The list address with some filters changed (``None`` or "" drops one)."""
        return "/people?" + urlencode(self.params(**changes))


def _query(
    me: SignedIn, area: str | None, grade: str, missing: str, overdue: str, alert: str, q: str
) -> Query:
    code = codes.normalise(area) if area else (me.user.area_code or "320600000000")
    return Query(code, grade, missing, overdue == "1", alert == "1", q.strip())


def link(code: str, **filters: object) -> str:
    """The list address of exactly these people under an area."""
    return Query(code).url(**filters)


def ticks(person: Person, today: date) -> dict[Guarantee, bool] | None:
    """Which of the four guarantees hold for a listed person (None for green people)."""
    if not person.grade.followed:
        return None
    return {state.guarantee: state.met for state in people.guarantee_states(person, today)}


def _list_context(session: Session, me: SignedIn, query: Query, page: int) -> dict[str, Any]:
    found = people.list_people(
        session=session, actor=me.actor, f=query.to_filter(), page=page, size=PAGE_SIZE
    )
    session.commit()  # a search by ID number is audited
    today = timeutil.today()
    town = query.area[:9] + "000" if len(codes.short(query.area)) >= 9 else None
    if town and not me.actor.reaches(town):
        town = query.area  # a village worker picks from their own village
    assignable = town is not None and me.actor.can(Permission.people_edit)
    return {
        "me": me,
        "query": query,
        "responsibles": people.responsibles(session=session, actor=me.actor, area=town)
        if assignable and town
        else [],
        "found": found,
        "pages": max(1, -(-found.total // PAGE_SIZE)),
        "today": today,
        "villages": areas.names(session=session, area_codes=[p.area_code for p in found.items]),
        "ticks": {p.id: ticks(p, today) for p in found.items},
        "age": lambda p: identity.age_on(p.birth_date, today),
        "mask": identity.mask_id,
        "Grade": Grade,
        "Guarantee": Guarantee,
    }


@router.get("/people", response_class=HTMLResponse)
def people_list(
    request: Request, session: SessionDep, me: SignedInDep, area: str | None = None,
    grade: str = "", missing: str = "", overdue: str = "", alert: str = "", q: str = "",
    page: PageNumber = 1,
) -> Response:  # fmt: skip
    query = _query(me, area, grade, missing, overdue, alert, q)
    context = _list_context(session, me, query, page)
    if page > context["pages"]:  # a page past the end (typed into the jump box): the last one
        return RedirectResponse(query.url(page=context["pages"]), status_code=303)
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "people-table":
        return render(request, "people/_table.html", context)
    info = areas.detail(session=session, actor=me.actor, code=query.area)
    return render(
        request,
        "people/list.html",
        context | {"info": info, "can": me.actor.can, "Permission": Permission},
    )


@router.get("/people/map")
def people_map(session: SessionDep, me: SignedInDep, area: str) -> JSONResponse:
    villages = overview.village_points(session=session, actor=me.actor, code=area)
    return JSONResponse({"villages": villages})


@dataclass(frozen=True)
class CoverageQuery:
    """A coverage table's address: the area, the level listed, its order and page."""

    path: str
    area: str
    level: AreaLevel | None
    sort: CoverageSort
    descending: bool
    page: int = 1

    def params(self, **changes: object) -> dict[str, str]:
        values: dict[str, Any] = {
            "area": codes.short(self.area), "level": self.level.value if self.level else "",
            "sort": self.sort.value, "order": "desc" if self.descending else "asc",
            "page": self.page if self.page > 1 else "",
        } | changes  # fmt: skip
        return {k: str(v) for k, v in values.items() if v not in (None, "")}

    def url(self, **changes: object) -> str:
        return f"{self.path}?{urlencode(self.params(**changes))}"

    @property
    def key(self) -> str:
        return self.sort.value

    def sorted_by(self, key: str) -> str:
        """The address ordered by a column: its figures largest first, once more the other way;
        back on the first page, every other parameter kept."""
        sort = CoverageSort(key)
        down = not self.descending if sort is self.sort else overview.default_descending(sort)
        return self.url(sort=sort.value, order="desc" if down else "asc", page=None)


def _coverage_query(
    path: str, me: SignedIn, area: str | None, level: str, sort: str, order: str, page: int = 1
) -> CoverageQuery:
    code = codes.normalise(area) if area else (me.user.area_code or "320600000000")
    key = _option(CoverageSort, sort) if sort else CoverageSort.code
    way = _option(SortOrder, order) if order else None
    descending = overview.default_descending(key) if way is None else way is SortOrder.desc
    chosen = _option(AreaLevel, level) if level else None
    return CoverageQuery(path, code, chosen, key, descending, page)


E = TypeVar("E", bound=enum.StrEnum)


def _option(kind: type[E], value: str) -> E:
    """The value of an address's option, or a clear refusal."""
    try:
        return kind(value)
    except ValueError:
        raise InvalidInputError(_("no such option '%(value)s'", value=value)) from None


def ranking_level(code: str) -> AreaLevel | None:
    """The level a ranking lists by default: the towns of a city or county, the villages of a
    town; none under a village."""
    level = codes.level_of(code)
    if level.depth < AreaLevel.town.depth:
        return AreaLevel.town
    return level.child


@router.get("/people/coverage", response_class=HTMLResponse)
def coverage_page(
    request: Request, session: SessionDep, me: SignedInDep, area: str | None = None,
    sort: str = "", order: str = "",
) -> HTMLResponse:  # fmt: skip
    query = _coverage_query("/people/coverage", me, area, "", sort, order)
    code = query.area
    info = areas.detail(session=session, actor=me.actor, code=code)
    total, children = overview.area_coverage(
        session=session, actor=me.actor, code=code, today=timeutil.today(), sort=query.sort,
        descending=query.descending,
    )  # fmt: skip
    lang = request_language(request)
    chart = {
        "areas": [c.name for c in children],
        "codes": [c.code for c in children],
        "covered": {g.value: [c.covered[g] for c in children] for g in Guarantee},
        "missing": {g.value: [c.missing(g) for c in children] for g in Guarantee},
        "grades": [
            {"value": g.value, "name": g.label(lang), "count": getattr(total, g.value),
             "colour": g.colour, "link": link(code, grade=g.value)}
            for g in Grade
        ],
        "labels": {g.value: g.label(lang) for g in Guarantee},
        "order": [g.value for g in Guarantee],  # tojson sorts the keys of "labels"
        "covered_label": _("Covered").in_language(lang),
        "missing_label": _("Missing").in_language(lang),
    }  # fmt: skip
    level = ranking_level(code)
    ranking = CoverageQuery("/people/ranking", code, level, CoverageSort.code, False)
    return render(
        request,
        "people/coverage.html",
        {"me": me, "info": info, "total": total, "children": children, "chart": chart,
         "link": link, "Grade": Grade, "Guarantee": Guarantee, "sorting": query,
         "ranking": ranking if level else None, "CoverageSort": CoverageSort},
    )  # fmt: skip


RANKING_PAGE = 50


@router.get("/people/ranking", response_class=HTMLResponse)
def ranking_page(
    request: Request, session: SessionDep, me: SignedInDep, area: str | None = None,
    level: str = "", sort: str = "", order: str = "", page: PageNumber = 1,
) -> Response:  # fmt: skip
    """Every area of a level under an area (all the towns of the city), ranked by a figure."""
    query = _coverage_query("/people/ranking", me, area, level, sort, order, page)
    code = query.area
    if query.level is None:
        chosen = ranking_level(code)
        if chosen is None:  # a village has nothing below it to rank
            raise InvalidInputError(_("a village has no areas below it to rank"))
        query = CoverageQuery(query.path, code, chosen, query.sort, query.descending, page)
    info = areas.detail(session=session, actor=me.actor, code=code)
    total, rows = overview.area_coverage(
        session=session, actor=me.actor, code=code, today=timeutil.today(), level=query.level,
        sort=query.sort, descending=query.descending,
    )  # fmt: skip
    pages = max(1, -(-len(rows) // RANKING_PAGE))
    if page > pages:
        return RedirectResponse(query.url(page=pages), status_code=303)
    start = (page - 1) * RANKING_PAGE
    levels = [lv for lv in AreaLevel if lv.depth > codes.level_of(code).depth]
    return render(
        request,
        "people/ranking.html",
        {"me": me, "info": info, "total": total, "rows": rows[start : start + RANKING_PAGE],
         "first_rank": start + 1, "count": len(rows), "page": page, "pages": pages,
         "sorting": query, "levels": levels, "link": link, "Grade": Grade,
         "Guarantee": Guarantee, "CoverageSort": CoverageSort},
    )  # fmt: skip


@router.get("/people/export")
def export_masked(
    session: SessionDep, me: SignedInDep, area: str | None = None, grade: str = "",
    missing: str = "", overdue: str = "", alert: str = "", q: str = "", format: str = "xlsx",
) -> Response:  # fmt: skip
    query = _query(me, area, grade, missing, overdue, alert, q)
    data, _ = exporting.export(
        session=session, actor=me.actor, f=query.to_filter(), file_format=format
    )
    session.commit()
    return download(data, f"key-people-{query.area}.{format}")


@router.post("/people/export")
def export_revealed(
    session: SessionDep, me: SignedInDep, csrf_token: Annotated[str, Form()],
    reason: Annotated[str, Form()], area: Annotated[str, Form()],
    grade: Annotated[str, Form()] = "",
    missing: Annotated[str, Form()] = "", overdue: Annotated[str, Form()] = "",
    alert: Annotated[str, Form()] = "", q: Annotated[str, Form()] = "",
    format: Annotated[str, Form()] = "xlsx",
) -> Response:  # fmt: skip
    check_csrf(me.web, csrf_token)
    query = _query(me, area, grade, missing, overdue, alert, q)
    data, _ = exporting.export(
        session=session, actor=me.actor, f=query.to_filter(), file_format=format,
        reveal=True, reason=reason,
    )  # fmt: skip
    session.commit()
    return download(data, f"key-people-{query.area}-full.{format}")


@router.post("/people/assign")
def assign(
    session: SessionDep, me: SignedInDep, csrf_token: Annotated[str, Form()],
    responsible_id: Annotated[int, Form(ge=1, le=MAX_ID)], back: Annotated[str, Form()] = "/people",
    person: Annotated[list[RecordId] | None, Form()] = None,
) -> Response:  # fmt: skip
    check_csrf(me.web, csrf_token)
    people.assign(
        session=session, actor=me.actor, person_ids=person or [], responsible_id=responsible_id
    )
    session.commit()
    target = back if back.startswith("/people") else "/people"
    return RedirectResponse(target, status_code=303)


@router.get("/people/import", response_class=HTMLResponse)
def import_page(request: Request, me: SignedInDep) -> HTMLResponse:
    me.actor.require(Permission.people_edit)
    return render(request, "people/import.html", {"me": me})


@router.get("/people/import/template")
def import_template(me: SignedInDep) -> Response:
    me.actor.require(Permission.people_read)
    return download(workbooks.template(SPEC), "key-people-template.xlsx")


@router.post("/people/import", response_class=HTMLResponse)
def import_upload(
    request: Request, session: SessionDep, me: SignedInDep, csrf_token: Annotated[str, Form()],
    upload: Annotated[UploadFile, File()], dry_run: Annotated[str, Form()] = "",
) -> HTMLResponse:  # fmt: skip
    check_csrf(me.web, csrf_token)
    me.actor.require(Permission.people_edit)
    context: dict[str, Any] = {"me": me, "filename": upload.filename}
    try:
        table = sheets.read(upload.file.read(), upload.filename or "upload.csv", SPEC)
    except LianfangError as exc:
        return render(request, "people/import.html", context | {"problem": exc}, 422)
    try:
        result = importing.import_table(
            session=session, actor=me.actor, table=table, dry_run=dry_run == "1"
        )
    except ImportFileError as exc:
        session.rollback()
        token = exporting.keep_report(session=session, actor=me.actor, error=exc, table=table)
        session.commit()
        return render(
            request, "people/import.html", context | {"problem": exc, "token": token}, 422
        )
    session.commit()
    return render(request, "people/import.html", context | {"result": result})


@router.get("/people/import/report/{token}")
def import_report(session: SessionDep, me: SignedInDep, token: str) -> Response:
    kept = exporting.report(session=session, actor=me.actor, token=token)
    return download(kept.content, f"import-errors-{token[:8]}.xlsx")
