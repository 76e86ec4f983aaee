"""One place that turns LianfangError into HTTP answers: JSON for /api, a page for the web."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import OperationalError

from lianfang.errors import AuthenticationError, DatabaseUnavailableError, LianfangError
from lianfang.web.language import request_language


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api") or request.headers.get("HX-Request") == "true"


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
            headers={"WWW-Authenticate": "Bearer"}
            if isinstance(exc, AuthenticationError)
            else None,
        )
    if isinstance(exc, AuthenticationError):
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    from lianfang.web.pages import render_error

    return render_error(request, exc.status_code, exc.message(language))


async def validation_error(request: Request, exc: Exception) -> Response:
    """Name the field that is wrong."""
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid"}
    where = ".".join(str(part) for part in first["loc"])
    return JSONResponse(
        status_code=422,
        content={
            "error": "invalid",
            "message": f"{where}: {first['msg']}",
            "detail": [
                {"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()
            ],
        },
    )


async def database_error(request: Request, exc: Exception) -> Response:
    """The database went away mid-request: say so (503) rather than fail with a 500."""
    assert isinstance(exc, OperationalError)
    reason = str(exc.orig or exc).strip().splitlines()[0]
    return await lianfang_error(
        request,
        DatabaseUnavailableError(
            f"数据库暂时不可用：{reason}", f"the database is unavailable: {reason}"
        ),
    )


def install(app: FastAPI) -> None:
    """Register the handlers."""
    app.add_exception_handler(LianfangError, lianfang_error)
    app.add_exception_handler(OperationalError, database_error)
    app.add_exception_handler(RequestValidationError, validation_error)
