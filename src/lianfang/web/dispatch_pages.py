"""Directive pages: the list with its filters and progress bars, the new-directive form (each
problem beside its field), and one directive with its roll-up tree, drilled down one level per
click. The read models are ``dispatch.views`` and ``dispatch.rollup``; this module translates
them into pages and the form into a call of ``dispatch.service.issue``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.api.deps import PageNumber, PathId, Route, SessionDep, check_csrf
from lianfang.areas import codes
from lianfang.areas import service as areas
from lianfang.areas.choices import AreaLevel
from lianfang.auth.choices import Permission
from lianfang.dispatch import rollup, service, views
from lianfang.dispatch.choices import Progress
from lianfang.dispatch.views import DirectiveFilter, DirectiveState
from lianfang.errors import ConflictError, InvalidInputError, NotFoundError
from lianfang.i18n import Text, _
from lianfang.web.language import request_language
from lianfang.web.pages import SignedIn, SignedInDep, render

router = APIRouter(include_in_schema=False, route_class=Route)
PAGE_SIZE = 30
DEFAULT_DAYS = 3  # a new directive's deadline, days from today, until one is chosen
SHOWN = (Progress.done, Progress.in_progress, Progress.not_started, Progress.late,
         Progress.rejected)  # fmt: skip
SPLIT = re.compile(r"[\s,，、;；]+")
REACHABLE = (AreaLevel.county, AreaLevel.town, AreaLevel.village)


def _state(raw: str) -> DirectiveState | None:
    return DirectiveState.of(raw) if raw in DirectiveState._value2member_map_ else None


@router.get("/directives", response_class=HTMLResponse)
def directive_list(
    request: Request, session: SessionDep, me: SignedInDep,
    state: Annotated[str, Query(max_length=10)] = "",
    issuer: Annotated[str, Query(max_length=20)] = "",
    page: PageNumber = 1,
) -> HTMLResponse:  # fmt: skip
    """Directives issued in the user's area or reaching into it, filtered, with progress."""
    chosen = _state(state)
    issuer_code = codes.normalise(issuer) if issuer.strip() else None
    f = DirectiveFilter(state=chosen, issuer=issuer_code)
    found, total = views.directives(
        session=session, actor=me.actor, f=f, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    counts = rollup.summaries(session=session, actor=me.actor, directive_ids=[d.id for d in found])
    params = {"state": chosen.value if chosen else "",
              "issuer": codes.short(issuer_code) if issuer_code else ""}  # fmt: skip

    def url(page: int = 1) -> str:
        kept = {k: v for k, v in params.items() if v} | ({"page": str(page)} if page > 1 else {})
        return "/directives" + ("?" + urlencode(kept) if kept else "")

    return render(request, "dispatch/list.html", {
        "me": me, "directives": found, "counts": counts, "total": total, "page": page,
        "pages": max(1, -(-total // PAGE_SIZE)), "url": url,
        "params": {k: v for k, v in params.items() if v}, "state": params["state"],
        "issuer": params["issuer"], "issuers": views.issuers(session=session, actor=me.actor),
        "names": _names(session, [d.area_code for d in found]), "DirectiveState": DirectiveState,
        "SHOWN": SHOWN, "today": timeutil.today(), "short": codes.short,
        "can_issue": me.actor.can(Permission.dispatch_issue),
    })  # fmt: skip


def _names(session: Session, area_codes: list[str]) -> dict[str, str]:
    return areas.names(session=session, area_codes=area_codes)


@dataclass
class DirectiveForm:
    """The new-directive form as typed."""

    title: str = ""
    text: str = ""
    area: str = ""
    to_level: str = AreaLevel.village.value
    deadline: str = ""
    children: list[str] | None = None  # ticked child areas of the issuing one (None: all)
    targets: str = ""  # more target areas by code or name
    departments: str = ""


def _form_page(
    request: Request, session: Session, me: SignedIn, form: DirectiveForm,
    problems: dict[str, Text] | None = None, error: Text | None = None, status: int = 200,
) -> HTMLResponse:  # fmt: skip
    me.actor.require(Permission.dispatch_issue)
    choices = views.issuing_areas(session=session, actor=me.actor)
    issuing = next((a for a in choices if a.code == form.area), choices[0] if choices else None)
    kids: list[Any] = []
    if issuing is not None:
        form.area = issuing.code
        kids = areas.children(session=session, actor=me.actor, code=issuing.code)
    levels = [lv for lv in REACHABLE if issuing is None or lv.depth > issuing.level.depth]
    return render(request, "dispatch/new.html", {
        "me": me, "form": form, "problems": problems or {}, "error": error, "choices": choices,
        "issuing": issuing, "kids": kids, "levels": levels, "short": codes.short,
        "ticked": {k.code for k in kids} if form.children is None else set(form.children),
    }, status_code=status)  # fmt: skip


@router.get("/directives/new", response_class=HTMLResponse)
def new_directive(
    request: Request, session: SessionDep, me: SignedInDep,
    area: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:  # fmt: skip
    """The form: the issuing area (the user's own by default), its children ticked."""
    code = codes.normalise(area) if area.strip() else (me.user.area_code or "")
    deadline = (timeutil.today() + timedelta(days=DEFAULT_DAYS)).isoformat()
    return _form_page(request, session, me, DirectiveForm(area=code, deadline=deadline))


def _read_form(form: DirectiveForm) -> tuple[date | None, AreaLevel | None, dict[str, Text]]:
    problems: dict[str, Text] = {}
    if not form.title.strip():
        problems["title"] = _("required")
    deadline = None
    try:
        deadline = date.fromisoformat(form.deadline.strip())
    except ValueError:
        problems["deadline"] = _("a date as YYYY-MM-DD")
    level = AreaLevel.of(form.to_level) if form.to_level in [v.value for v in REACHABLE] else None
    if level is None:
        problems["to_level"] = _("choose county, town or village")
    return deadline, level, problems


@router.post("/directives/new", response_class=HTMLResponse)
def issue_directive(
    request: Request, session: SessionDep, me: SignedInDep,
    csrf_token: Annotated[str, Form()], title: Annotated[str, Form(max_length=400)] = "",
    text: Annotated[str, Form(max_length=40_000)] = "", area: Annotated[str, Form()] = "",
    to_level: Annotated[str, Form()] = "", deadline: Annotated[str, Form()] = "",
    children: Annotated[list[str] | None, Form()] = None,
    targets: Annotated[str, Form(max_length=20_000)] = "",
    departments: Annotated[str, Form(max_length=2000)] = "",
) -> Response:  # fmt: skip
    """Issue the directive and cascade it; a refused one keeps every value and says why beside
    the field."""
    check_csrf(me.web, csrf_token)
    form = DirectiveForm(title, text, codes.normalise(area) if area.strip() else "", to_level,
                         deadline, [c for c in (children or []) if c.isdigit()], targets,
                         departments)  # fmt: skip
    when, level, problems = _read_form(form)
    if problems or when is None or level is None:
        return _form_page(request, session, me, form, problems, status=422)
    try:
        picked = _targets(session, form)
        directive = service.issue(session=session, actor=me.actor, data=service.DirectiveInput(
            area=form.area, title=form.title, text=form.text, to_level=level, deadline=when,
            targets=picked, departments=[d for d in SPLIT.split(form.departments) if d],
        ))  # fmt: skip
    except (InvalidInputError, ConflictError, NotFoundError) as exc:
        session.rollback()  # an unknown area typed as a target is that field's problem
        fields = dict(exc.fields) if isinstance(exc, InvalidInputError) else {}
        if isinstance(exc, NotFoundError):
            fields = {"targets": exc.text}
        return _form_page(request, session, me, form, fields, error=exc.text, status=422)
    session.commit()
    return RedirectResponse(f"/directives/{directive.id}?saved=issued", status_code=303)


def _targets(session: Session, form: DirectiveForm) -> list[str]:
    """The ticked children inside the issuing area and the areas typed by code or name."""
    typed = views.resolve_targets(
        session=session, issuing=form.area, tokens=[t for t in SPLIT.split(form.targets) if t]
    )
    ticked = {codes.normalise(c) for c in form.children or []}
    picked = sorted({c for c in ticked if codes.contains(form.area, c)} | set(typed))
    if not picked:
        message = _("tick at least one area, or type the codes or names of the areas")
        raise InvalidInputError(message, fields={"targets": message})
    return picked


def _target_names(session: Session, targets: str) -> list[str]:
    wanted = [c for c in targets.split(",") if c]
    names = _names(session, wanted)
    return [names.get(c, codes.short(c)) for c in wanted]


@router.get("/directives/{directive_id:int}", response_class=HTMLResponse)
def directive_page(
    directive_id: PathId, request: Request, session: SessionDep, me: SignedInDep,
    area: Annotated[str, Query(max_length=20)] = "",
    saved: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:  # fmt: skip
    """A directive: its text and the roll-up per child area of ``area``, worst first."""
    tree = rollup.rollup(
        session=session, actor=me.actor, directive_id=directive_id,
        area=area if area.strip() else None,
    )  # fmt: skip
    d = tree.directive
    return render(request, "dispatch/directive.html", {
        "me": me, "d": d, "tree": tree, "saved": saved, "SHOWN": SHOWN,
        "computed": timeutil.format_local(timeutil.now(), request_language(request)),
        "issuer": _names(session, [d.area_code]).get(d.area_code, d.area_code),
        "today": timeutil.today(), "short": codes.short,
        "targets": _target_names(session, d.targets),
    })  # fmt: skip
