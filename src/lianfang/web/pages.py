"""The pages people use: sign-in, home with the area switcher, the area page."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from sqlalchemy.orm import Session

from lianfang import i18n
from lianfang.api.deps import (
    SESSION_COOKIE,
    Route,
    SessionDep,
    SettingsDep,
    SignInSessionDep,
    check_csrf,
    client_ip,
    sign_in,
    web_session,
)
from lianfang.areas import codes
from lianfang.areas import service as areas
from lianfang.areas.choices import AGE_BANDS, CoordSource, PopulationSource
from lianfang.auth import service as auth
from lianfang.auth.models import User, UserSession
from lianfang.auth.scope import Actor
from lianfang.db.engine import read_apart
from lianfang.demo import service as demo_service
from lianfang.dispatch import service as dispatch
from lianfang.errors import AuthenticationError, LianfangError
from lianfang.i18n import LANGUAGES, _, use_language
from lianfang.notify import service as notify
from lianfang.timeutil import format_local
from lianfang.timeutil import today as world_today
from lianfang.web.language import LANG_COOKIE, request_language, switch_link

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
LOGIN_CSRF_COOKIE = "lianfang_login_csrf"
templates = Jinja2Templates(
    env=Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
    )
)
templates.env.install_gettext_callables(  # type: ignore[attr-defined]
    i18n.gettext,
    i18n.ngettext,
    newstyle=True,
    pgettext=i18n.context_gettext,
    npgettext=i18n.context_ngettext,
)
templates.env.filters.update(num=i18n.number, pct=i18n.percent)


def page_numbers(page: int, pages: int, around: int = 2) -> list[int | None]:
    """The page numbers a pager shows: the first, the last and those around the current one,
    with None where numbers are left out (shown as …)."""
    shown = sorted({1, pages, *range(max(1, page - around), min(pages, page + around) + 1)})
    out: list[int | None] = []
    for number in shown:
        if out and number - (out[-1] or 0) > 1:
            out.append(None)
        out.append(number)
    return out


templates.env.globals.update(
    page_numbers=page_numbers,
    format_local=format_local,
    listing=i18n.listing,
    world_today=world_today,  # not `today`: pages pass their own `today` value
    switch_link=switch_link,
    AGE_BANDS=AGE_BANDS,
    CoordSource=CoordSource,
    PopulationSource=PopulationSource,
)

router = APIRouter(include_in_schema=False, route_class=Route)


class SignedIn:
    """The signed-in user of a page request, with their web session."""

    def __init__(
        self, user: User, web: UserSession, actor: Actor, unread: int = 0, open_tasks: int = 0
    ) -> None:
        self.user = user
        self.web = web
        self.actor = actor
        self.unread = unread  # notifications not yet read (the header's badge)
        self.open_tasks = open_tasks  # tasks waiting for them ("my tasks" in the header)


def signed_in(request: Request, session: SessionDep) -> SignedIn:
    """The page's user; anyone else is sent to sign in."""
    with read_apart(session):
        found = web_session(request, session)
        if found is None:
            raise AuthenticationError(_("sign in first"))
        user, web = found
        actor = auth.actor_for(user, client_ip(request))
        return SignedIn(
            user, web, actor, notify.unread_count(session=session, actor=actor),
            dispatch.open_count(session=session, actor=actor),
        )  # fmt: skip


SignedInDep = Annotated[SignedIn, Depends(signed_in)]


@contextmanager
def page_session(request: Request) -> Iterator[Session]:
    """The session a page renders with: the request's own while it is open (one connection per
    request), else a short one of its own (a page without a database dependency, an error page
    rendered after the request let its session go)."""
    session: Session | None = getattr(request.state, "db", None)
    if session is not None and not getattr(request.state, "db_closed", False):
        yield session
        return
    with request.app.state.sessionmaker() as own:
        yield own


SPARED = frozenset({429, 503})
"""Answers that do not touch the database: it failed (503), or the caller asks too often (429)."""


def render(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    """Render a template in the request's language, with the demo banner every page uses."""
    language = request_language(request)
    demo = None
    if status_code not in SPARED:  # the database failed, or must be spared this caller
        with page_session(request) as session:
            demo = demo_service.latest(session=session)
    with use_language(language):
        return templates.TemplateResponse(
            request, name, {"lang": language, "demo": demo, **context}, status_code=status_code
        )


def render_error(request: Request, status_code: int, message: str) -> HTMLResponse:
    """A page that says why a request was refused, with the signed-in user's navigation.

    It runs after the request's session was closed; when the database is what failed (503), or
    the caller asks too often (429), it does not touch it."""
    me = None
    if status_code not in SPARED:
        with page_session(request) as session:
            found = web_session(request, session)
            me = SignedIn(found[0], found[1], auth.actor_for(found[0])) if found else None
    public = request.url.path.startswith(PUBLIC_PAGES)
    return render(
        request,
        "error.html",
        {"status": status_code, "message": message, "me": me,
         "back": "/medicine" if public else "/",
         "again": str(request.url.path) + (f"?{request.url.query}" if request.url.query else "")},
        status_code=status_code,
    )  # fmt: skip


PUBLIC_PAGES = ("/medicine",)
"""Pages anyone may open without signing in: their error pages lead back to them."""


def _safe_next(target: str | None) -> str:
    """Only follow a local path after sign-in."""
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and not urlsplit(target).netloc
    ):
        return target
    return "/"


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/", error: str | None = None) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = render(
        request,
        "auth/login.html",
        {"csrf": token, "next": _safe_next(next), "error": error, "me": None},
    )
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict")
    return response


@router.post("/login")
def login(
    request: Request,
    session: SignInSessionDep,
    settings: SettingsDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    language = request_language(request)
    if not csrf_token or csrf_token != request.cookies.get(LOGIN_CSRF_COOKIE):
        return login_page(request, next, _("Request refused").in_language(language))
    try:
        user = sign_in(session, request, username.strip(), password)
    except LianfangError as exc:
        return login_page(request, next, exc.message(language))
    opened = auth.open_session(
        session=session, user=user, hours=settings.session_hours, ip=client_ip(request)
    )
    session.commit()
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        opened.cookie,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        max_age=int(settings.session_hours * 3600),
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
def logout(
    request: Request, session: SessionDep, me: SignedInDep, csrf_token: Annotated[str, Form()]
) -> Response:
    check_csrf(me.web, csrf_token)
    auth.close_session(session=session, cookie=request.cookies[SESSION_COOKIE], actor=me.actor)
    session.commit()
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/lang/{language}")
def switch_language(language: str, next: str = "/") -> Response:
    response = RedirectResponse(_safe_next(next), status_code=303)
    if language in LANGUAGES:
        response.set_cookie(LANG_COOKIE, language, max_age=365 * 24 * 3600, samesite="lax")
    return response


@router.get("/favicon.ico")
def favicon() -> FileResponse:
    """The site's icon, where browsers ask for it first."""
    return FileResponse(STATIC_DIR / "favicon.ico", media_type="image/x-icon")


SWAGGER_UI = "/static/vendor/swagger-ui-5.35.0"  # scripts/vendor-js.sh, static/vendor/VENDOR.md


@router.get("/docs", response_class=HTMLResponse)
def api_docs(request: Request) -> HTMLResponse:
    """Swagger UI from the vendored files: the page asks nothing of the internet (no CDN, no
    online validator), so it works where the deployment has no way out."""
    return get_swagger_ui_html(
        openapi_url=request.app.openapi_url or "/openapi.json",
        title=f"{request.app.title} — API",
        swagger_js_url=f"{SWAGGER_UI}/swagger-ui-bundle.js",
        swagger_css_url=f"{SWAGGER_UI}/swagger-ui.css",
        swagger_favicon_url="/favicon.ico",
        swagger_ui_parameters={"validatorUrl": None},
    )


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: SessionDep, me: SignedInDep) -> HTMLResponse:
    from lianfang.web.briefing_pages import OVERVIEW_ROLES, overview_page  # imports this module

    if me.user.area_code and me.user.role in OVERVIEW_ROLES:
        return overview_page(request, session, me, me.user.area_code)
    scope = None
    if me.user.area_code:
        scope = areas.detail(session=session, actor=me.actor, code=me.user.area_code)
    return render(request, "home.html", {"me": me, "scope": scope})


@router.get("/areas/search", response_class=HTMLResponse)
def search_fragment(
    request: Request, session: SessionDep, me: SignedInDep, q: str = ""
) -> HTMLResponse:
    found = (
        areas.search(session=session, actor=me.actor, query=q[:50], limit=15) if q.strip() else []
    )
    return render(request, "areas/_search_results.html", {"results": found, "q": q, "me": me})


@router.get("/areas/{code}", response_class=HTMLResponse)
def area_page(code: str, request: Request, session: SessionDep, me: SignedInDep) -> HTMLResponse:
    info = areas.detail(session=session, actor=me.actor, code=code)
    kids = areas.children(session=session, actor=me.actor, code=code)
    return render(
        request,
        "areas/area.html",
        {
            "me": me,
            "info": info,
            "children": kids,
            "short": codes.short,
            "reachable": [me.actor.reaches(a.code) for a in info.ancestors],
        },
    )
