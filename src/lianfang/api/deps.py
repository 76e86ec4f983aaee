"""What routes and pages share from the web layer: the request's database session, who is
asking, and file responses. The one module of ``lianfang.api`` a domain's routes may import."""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Callable
from pathlib import PurePath
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Path, Query, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from lianfang.auth import service as auth
from lianfang.auth.models import User, UserSession
from lianfang.auth.scope import Actor
from lianfang.config import Settings
from lianfang.db.engine import read_apart, release, writes
from lianfang.errors import AuthenticationError, PermissionDenied
from lianfang.i18n import _
from lianfang.ids import MAX_ID, MAX_OFFSET

PathId = Annotated[int, Path(ge=1, le=MAX_ID, description=f"record id, 1–{MAX_ID}")]
"""A record id in a path: out of range answers 422, never reaches the database."""
QueryId = Annotated[int | None, Query(ge=1, le=MAX_ID, description=f"record id, 1–{MAX_ID}")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="rows to skip")]
PageNumber = Annotated[int, Query(ge=1, le=MAX_OFFSET, description="page, from 1")]

SESSION_COOKIE = "lianfang_session"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
CSRF_HEADER = "X-CSRF-Token"


class Route(APIRoute):
    """Every route of the application (``APIRouter(route_class=Route)``; a test checks): a
    plain (not ``async``) endpoint ends its read of the database in its own thread.

    FastAPI validates a plain endpoint's answer in another thread, after a wait for a free one,
    and closes the request's session only after that. A connection held through that wait is
    missing from the pool; under a crowd, the threads that then wait for a connection are the
    ones the held connections wait for, until the pool's time-out answers 503. An endpoint
    that left changes uncommitted keeps them for the session's close, which rolls them back."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint):
            endpoint = _ending_reads(endpoint)
        super().__init__(path, endpoint, **kwargs)


def _ending_reads(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(endpoint)
    def run(*args: Any, **kwargs: Any) -> Any:
        answer = endpoint(*args, **kwargs)
        for value in kwargs.values():
            if isinstance(value, Session) and not (value.new or value.dirty or value.deleted):
                release(value)
        return answer

    return run


def get_settings_dep(request: Request) -> Settings:
    """The application's settings."""
    settings: Settings = request.app.state.settings
    return settings


async def request_session(request: Request) -> AsyncIterator[Session]:
    """The request's one database session (pages render with it too, ``web.pages.page_session``);
    its transactions begin when first used, as readers.

    Opened and closed on the event loop (closing rolls back at most a read: no waiting), so that
    a request whose work is done gives its connection back at once, not after waiting for a
    free thread to close it in."""
    session: Session = request.app.state.sessionmaker()
    request.state.db = session
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
        request.state.db_closed = True


def get_session(request: Request, session: Annotated[Session, Depends(request_session)]) -> Session:
    """The request's session; the transactions of a request that may write (POST, PATCH, ...)
    are writers' (``db.engine.writes``), except the reading of who is calling (``read_apart``).

    On SQLite a writer takes the write lock at its start and waits for it (bounded by the busy
    timeout) rather than failing half-way; reads (GET) never take it. Writes commit explicitly
    before answering."""
    if request.method not in SAFE_METHODS:
        writes(session)
    return session


SessionDep = Annotated[Session, Depends(get_session)]
SignInSessionDep = Annotated[Session, Depends(request_session)]
"""For sign-in only: the password is checked before the write transaction (see ``sign_in``)."""
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def client_ip(request: Request) -> str | None:
    """The caller's address, as the server sees it."""
    return request.client.host if request.client else None


def _from_bearer(request: Request, session: Session) -> User | None:
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    user = auth.resolve_token(session=session, plain=header[7:].strip())
    if user is None:
        raise AuthenticationError(_("the token is invalid or has expired"))
    return user


def web_session(request: Request, session: Session) -> tuple[User, UserSession] | None:
    """The signed-in user and web session behind the request's cookie, if any."""
    cookie = request.cookies.get(SESSION_COOKIE)
    return auth.resolve_session(session=session, cookie=cookie) if cookie else None


def get_actor(request: Request, session: SessionDep) -> Actor:
    """Who is calling the API: a bearer token, else the web session cookie (with CSRF on writes)."""
    with read_apart(session):
        user = _from_bearer(request, session)
        if user is None:
            found = web_session(request, session)
            if found is None:
                raise AuthenticationError(_("sign in first"))
            user, web = found
            if request.method not in SAFE_METHODS:
                check_csrf(web, request.headers.get(CSRF_HEADER))
        return auth.actor_for(user, client_ip(request))


def check_csrf(web: UserSession, token: str | None) -> None:
    """Refuse a cookie-authenticated write whose CSRF token does not match the session's."""
    if not token or token != web.csrf_token:
        raise PermissionDenied(_("stale form (CSRF check failed); reload"))


CurrentActor = Annotated[Actor, Depends(get_actor)]


def sign_in(session: Session, request: Request, username: str, password: str) -> User:
    """Check a password (reading only: the slow hash is not under the write lock), then audit
    the attempt in a short write; a failed attempt is committed before the error."""
    try:
        return auth.authenticate(
            session=session, username=username, password=password, ip=client_ip(request)
        )
    except AuthenticationError:
        session.commit()
        raise


MEDIA_TYPES = {
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".csv": "text/csv; charset=utf-8",
    ".pdf": "application/pdf",
    ".html": "text/html; charset=utf-8",
}


def download(data: bytes, filename: str) -> Response:
    """A file download, its type from the name's suffix (the name may be Chinese)."""
    media_type = MEDIA_TYPES.get(PurePath(filename).suffix.lower(), "application/octet-stream")
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_")
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    return Response(data, media_type=media_type, headers={"Content-Disposition": disposition})
