"""Key-population pages: the registry list with its map, the coverage dashboard, imports and
exports. The person page and its forms are in ``person_pages``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.api.deps import PageNumber, Route, SessionDep, check_csrf, download
from lianfang.areas import codes
from lianfang.areas import service as areas
from lianfang.auth.choices import Permission
from lianfang.choices import Choice
from lianfang.errors import ImportFileError, InvalidInputError, LianfangError
from lianfang.i18n import _
from lianfang.ids import MAX_ID, RecordId
from lianfang.io import sheets, workbooks
from lianfang.people import exporting, identity, importing, overview
from lianfang.people import service as people
from lianfang.people.choices import Grade, Guarantee
from lianfang.people.models import Person
from lianfang.people.service import PeopleFilter
from lianfang.people.sheet import SPEC
from lianfang.web.language import request_language
from lianfang.web.pages import SignedIn, SignedInDep, render

router = APIRouter(include_in_schema=False, route_class=Route)
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

    def url(self, **changes: object) -> str:
        """The list address with some filters changed (``None`` or "" drops one)."""
        values: dict[str, Any] = {
            "area": self.area, "grade": self.grade, "missing": self.missing,
            "overdue": "1" if self.overdue else "", "alert": "1" if self.alert else "", "q": self.q,
        } | changes  # fmt: skip
        kept = {k: v for k, v in values.items() if v not in (None, "", False)}
        return "/people?" + urlencode({k: "1" if v is True else v for k, v in kept.items()})


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
) -> HTMLResponse:  # fmt: skip
    query = _query(me, area, grade, missing, overdue, alert, q)
    context = _list_context(session, me, query, page)
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


def _share(covered: int, total: int) -> float | None:
    return covered / total if total else None


@router.get("/people/coverage", response_class=HTMLResponse)
def coverage_page(
    request: Request, session: SessionDep, me: SignedInDep, area: str | None = None
) -> HTMLResponse:
    code = codes.normalise(area) if area else (me.user.area_code or "320600000000")
    info = areas.detail(session=session, actor=me.actor, code=code)
    total, children = overview.area_coverage(
        session=session, actor=me.actor, code=code, today=timeutil.today()
    )
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
    return render(
        request,
        "people/coverage.html",
        {"me": me, "info": info, "total": total, "children": children, "chart": chart,
         "link": link, "Grade": Grade, "Guarantee": Guarantee, "share": _share},
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
