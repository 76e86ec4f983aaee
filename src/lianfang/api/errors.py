"""One place that turns LianfangError into HTTP answers: JSON for /api, a page for the web."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from lianfang.db.errors import conflict
from lianfang.errors import (
    AuthenticationError,
    DatabaseUnavailableError,
    LianfangError,
    RateLimitedError,
)
from lianfang.i18n import _
from lianfang.schemas import unknown_fields, unknown_message
from lianfang.web.language import request_language


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api") or request.headers.get("HX-Request") == "true"


RETRY_AFTER_S = 5
"""What a 503 tells the client to wait before trying again."""


def _headers(exc: LianfangError) -> dict[str, str] | None:
    if isinstance(exc, AuthenticationError):
        return {"WWW-Authenticate": "Bearer"}
    if isinstance(exc, DatabaseUnavailableError):
        return {"Retry-After": str(RETRY_AFTER_S)}
    if isinstance(exc, RateLimitedError):
        return {"Retry-After": str(exc.retry_after_s)}
    return None


async def lianfang_error(request: Request, exc: Exception) -> Response:
    """Answer a service error in the caller's language."""
    assert isinstance(exc, LianfangError)
    language = request_language(request)
    if _wants_json(request):
        return JSONResponse(
            status_code=exc.status_code,
            content={
                "error": exc.kind,
                "message": exc.message(language),
                "message_zh": exc.zh,
                "message_en": exc.en,
            },
            headers=_headers(exc),
        )
    if isinstance(exc, AuthenticationError):
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    from lianfang.web.pages import render_error

    page = render_error(request, exc.status_code, exc.message(language))
    page.headers.update(_headers(exc) or {})
    return page


async def validation_error(request: Request, exc: Exception) -> Response:
    """Name the field that is wrong; name every unknown field, with the nearest known one."""
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid"}
    where = ".".join(str(part) for part in first["loc"])
    if not _wants_json(request):  # a page's form or address: an error page, not JSON
        from lianfang.web.pages import render_error

        return render_error(request, 422, f"{where}: {first['msg']}")
    content: dict[str, object] = {"error": "invalid", "message": f"{where}: {first['msg']}"}
    unknown = unknown_fields(exc.errors(), _body_model(request))
    if unknown:
        content |= {
            "error": "unknown_fields",
            "message": unknown_message(unknown, request_language(request)),
            "message_zh": unknown_message(unknown, "zh"),
            "message_en": unknown_message(unknown, "en"),
            "unknown_fields": [u.as_json() for u in unknown],
        }
    content["detail"] = [
        {"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()
    ]
    return JSONResponse(status_code=422, content=content)


def _body_model(request: Request) -> type[BaseModel] | None:
    """The schema of the body of the route that refused the request, if it has one."""
    route = request.scope.get("route")
    body = getattr(route, "body_field", None)
    annotation = getattr(getattr(body, "field_info", None), "annotation", None)
    return (
        annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    )


async def database_error(request: Request, exc: Exception) -> Response:
    """The database went away mid-request: say so (503) rather than fail with a 500."""
    assert isinstance(exc, OperationalError)
    reason = str(exc.orig or exc).strip().splitlines()[0]
    return await lianfang_error(
        request,
        DatabaseUnavailableError(_("the database is unavailable: %(reason)s", reason=reason)),
    )


async def busy_error(request: Request, exc: Exception) -> Response:
    """No database connection came free within the pool time-out: 503, try again shortly."""
    return await lianfang_error(
        request,
        DatabaseUnavailableError(
            _("the server is busy (every database connection is in use); retry shortly")
        ),
    )


async def integrity_error(request: Request, exc: Exception) -> Response:
    """A write the database refused (a uniqueness race, a missing reference): 409 naming the
    table and columns, never the values."""
    assert isinstance(exc, IntegrityError)
    return await lianfang_error(request, conflict(exc))


def install(app: FastAPI) -> None:
    """Register the handlers: how every error maps to a status code is decided here."""
    app.add_exception_handler(LianfangError, lianfang_error)
    app.add_exception_handler(IntegrityError, integrity_error)
    app.add_exception_handler(PoolTimeout, busy_error)
    app.add_exception_handler(OperationalError, database_error)
    app.add_exception_handler(RequestValidationError, validation_error)
