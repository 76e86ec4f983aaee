"""Key-population pages: the registry list with its map, the coverage dashboard, imports and
exports. The person page and its forms are in ``person_pages``."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.api.deps import PageNumber, PathId, Route, SessionDep, check_csrf, download
from lianfang.areas import codes
from lianfang.areas import service as areas
from lianfang.areas.choices import AreaLevel
from lianfang.auth.choices import Permission
from lianfang.choices import Choice
from lianfang.errors import ImportFileError, InvalidInputError, LianfangError
from lianfang.i18n import Text, _
from lianfang.ids import MAX_ID, RecordId
from lianfang.io import sheets
from lianfang.people import (
    exporting,
    guarantees,
    hospitals,
    identity,
    importing,
    overview,
    villages,
)
from lianfang.people import service as people
from lianfang.people.choices import CoverageSort, ExportStatus, Grade, Guarantee, SortOrder
from lianfang.people.models import Person
from lianfang.people.service import PeopleFilter
from lianfang.people.sheet import SPEC
from lianfang.people.sheet_routes import background_rows, launch
from lianfang.web.language import request_language
from lianfang.web.pages import SignedIn, SignedInDep, render

router = APIRouter(include_in_schema=False, route_class=Route)
PAGE_SIZE = 50
TOP_ALERTS = 10  # the newest open referral alerts above a list; the rest behind a link
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

    def fields(self) -> dict[str, str]:
        """Every filter as a form field: the list's address, its exports and the full-export
        form are all built from these, so what is exported is what the list shows."""
        return {
            "area": self.area, "grade": self.grade, "missing": self.missing,
            "overdue": "1" if self.overdue else "", "alert": "1" if self.alert else "", "q": self.q,
        }  # fmt: skip

    def url(self, **changes: object) -> str:
        """The list address with some filters changed (``None`` or "" drops one)."""
        return self._address("/people", changes)

    def params(self, **changes: object) -> dict[str, str]:
        """The filters set, as address parameters, some changed (``None`` or "" drops one)."""
        values: dict[str, Any] = self.fields() | changes
        kept = {k: v for k, v in values.items() if v not in (None, "", False)}
        return {k: "1" if v is True else str(v) for k, v in kept.items()}

    def _address(self, path: str, changes: dict[str, object]) -> str:
        return path + "?" + urlencode(self.params(**changes))

    def export_url(self, file_format: str) -> str:
        """The masked export of exactly the people the list shows."""
        return self._address("/people/export", {"format": file_format})


def _query(
    me: SignedIn, area: str | None, grade: str, missing: str, overdue: str, alert: str, q: str
) -> Query:
    code = codes.normalise(area) if area else (me.user.area_code or "320600000000")
    return Query(code, grade, missing, overdue == "1", alert == "1", q.strip())


def link(code: str, **filters: object) -> str:
    """The list address of exactly these people under an area."""
    return Query(code).url(**filters)


def ticks(
    person: Person, today: date, designated: Mapping[int, guarantees.Hospital]
) -> dict[Guarantee, bool] | None:
    """Which of the four guarantees hold for a listed person (None for green people)."""
    if not person.grade.followed:
        return None
    states = people.guarantee_states(person, today, designated)
    return {state.guarantee: state.met for state in states}


def lacks(held: dict[Guarantee, bool]) -> list[Text]:
    """The guarantees a listed person lacks, in their order, as a card names them."""
    return [g.text for g, met in held.items() if not met]


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
    designated = hospitals.facts(session, (p.hospital_id for p in found.items))
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
        "ticks": {p.id: ticks(p, today, designated) for p in found.items},
        "alerts": overview.alerts_of(session=session, person_ids=[p.id for p in found.items]),
        "age": lambda p: identity.age_on(p.birth_date, today),
        "mask": identity.mask_id,
        "lacks": lacks,
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
    context |= _exports_context(request, session, me, query)
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "people-table":
        # the table, and out of band the exports: they follow the filters just applied
        return render(request, "people/_filtered.html", context)
    info = areas.detail(session=session, actor=me.actor, code=query.area)
    top_alerts, alerts_total = overview.alert_list(
        session=session, actor=me.actor, code=query.area, limit=TOP_ALERTS
    )
    return render(
        request,
        "people/list.html",
        context | {"info": info, "top_alerts": top_alerts, "alerts_total": alerts_total},
    )


def _exports_context(
    request: Request, session: Session, me: SignedIn, query: Query
) -> dict[str, Any]:
    """What the exports under a list need: whether they are made in the background, and the
    user's background exports still kept."""
    can_export = me.actor.can(Permission.people_export)
    return {
        "can": me.actor.can, "Permission": Permission,
        "background_rows": background_rows(request),
        "my_exports": exporting.jobs(session=session, actor=me.actor, limit=5)
        if can_export else [],
    }  # fmt: skip


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
    request: Request, session: SessionDep, me: SignedInDep, area: str | None = None,
    grade: str = "", missing: str = "", overdue: str = "", alert: str = "", q: str = "",
    format: str = "xlsx",
) -> Response:  # fmt: skip
    query = _query(me, area, grade, missing, overdue, alert, q)
    rows = exporting.size(session=session, actor=me.actor, f=query.to_filter())
    if rows > background_rows(request):  # too large to wait for: offer the background
        context = {"me": me, "query": query, "rows": rows, "format": format}
        return render(request, "people/export.html", context)
    data, _ = exporting.export(
        session=session, actor=me.actor, f=query.to_filter(), file_format=format
    )
    session.commit()
    return download(data, f"key-people-{query.area}.{format}")


@router.post("/people/export")
def export_revealed(
    request: Request, session: SessionDep, me: SignedInDep, csrf_token: Annotated[str, Form()],
    reason: Annotated[str, Form()], area: Annotated[str, Form()],
    grade: Annotated[str, Form()] = "",
    missing: Annotated[str, Form()] = "", overdue: Annotated[str, Form()] = "",
    alert: Annotated[str, Form()] = "", q: Annotated[str, Form()] = "",
    format: Annotated[str, Form()] = "xlsx",
) -> Response:  # fmt: skip
    """The unmasked export: at once when small, else in the background."""
    check_csrf(me.web, csrf_token)
    query = _query(me, area, grade, missing, overdue, alert, q)
    f = query.to_filter()
    if exporting.size(session=session, actor=me.actor, f=f) > background_rows(request):
        return _start(request, session, me, query, format, reveal=True, reason=reason)
    data, _ = exporting.export(
        session=session, actor=me.actor, f=f, file_format=format, reveal=True, reason=reason
    )
    session.commit()
    return download(data, f"key-people-{query.area}-full.{format}")


@router.post("/people/exports")
def export_start(
    request: Request, session: SessionDep, me: SignedInDep, csrf_token: Annotated[str, Form()],
    area: Annotated[str, Form()], grade: Annotated[str, Form()] = "",
    missing: Annotated[str, Form()] = "", overdue: Annotated[str, Form()] = "",
    alert: Annotated[str, Form()] = "", q: Annotated[str, Form()] = "",
    format: Annotated[str, Form()] = "xlsx",
) -> Response:  # fmt: skip
    """A masked export made in the background, whatever its size."""
    check_csrf(me.web, csrf_token)
    query = _query(me, area, grade, missing, overdue, alert, q)
    return _start(request, session, me, query, format, reveal=False, reason="")


def _start(
    request: Request, session: Session, me: SignedIn, query: Query, file_format: str,
    reveal: bool, reason: str,
) -> Response:  # fmt: skip
    job = exporting.queue(
        session=session, actor=me.actor, f=query.to_filter(), file_format=file_format,
        reveal=reveal, reason=reason, keep_hours=request.app.state.settings.export_keep_hours,
    )  # fmt: skip
    launch(request, session, job)
    return RedirectResponse(f"/people/exports/{job.id}", status_code=303)


@router.get("/people/exports/{job_id}", response_class=HTMLResponse)
def export_job(request: Request, session: SessionDep, me: SignedInDep, job_id: PathId) -> Response:
    """A background export's progress (the page polls it), then its download link."""
    job = exporting.get_job(session=session, actor=me.actor, job_id=job_id)
    context = {
        "me": me, "job": job, "progress": exporting.progress(job),
        "list_url": _list_url(exporting.filter_of(job)), "ExportStatus": ExportStatus,
    }  # fmt: skip
    if request.headers.get("HX-Request"):
        return render(request, "people/_job.html", context)
    return render(request, "people/export.html", context)


def _list_url(f: PeopleFilter) -> str:
    """The list a job's filter came from."""
    grade = next(iter(f.grades)).value if len(f.grades) == 1 else ""
    query = Query(f.area, grade, f.missing.value if f.missing else "", f.overdue, f.alert_open)
    return query.url()  # the search is left out: it may be a whole ID number


@router.get("/people/exports/{job_id}/file")
def export_job_file(session: SessionDep, me: SignedInDep, job_id: PathId) -> Response:
    data, name = exporting.job_file(session=session, actor=me.actor, job_id=job_id)
    return download(data, name)


@router.post("/people/exports/{job_id}/delete")
def export_job_delete(
    session: SessionDep, me: SignedInDep, job_id: PathId, csrf_token: Annotated[str, Form()]
) -> Response:
    check_csrf(me.web, csrf_token)
    job = exporting.get_job(session=session, actor=me.actor, job_id=job_id)
    back = _list_url(exporting.filter_of(job))
    exporting.discard(session=session, actor=me.actor, job_id=job_id)
    session.commit()
    return RedirectResponse(back, status_code=303)


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
def import_template(session: SessionDep, me: SignedInDep) -> Response:
    data = villages.template(session=session, actor=me.actor)
    return download(data, "key-people-template.xlsx")


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
