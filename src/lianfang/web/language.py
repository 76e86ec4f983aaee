"""Which language a request gets: ``?lang=``, then the cookie, then Accept-Language, then the
server's default; a middleware makes it the current language while the request is served."""

from __future__ import annotations

from urllib.parse import parse_qs, parse_qsl, urlencode

from fastapi import Request
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Receive, Scope, Send

from lianfang.i18n import LANGUAGES, known, use_language

LANG_COOKIE = "lianfang_lang"


def choose(query: str | None, cookie: str | None, accept: str | None, default: str) -> str:
    """The language asked for: the query, then the cookie, then Accept-Language, else default."""
    for candidate in (query, cookie):
        if candidate in LANGUAGES:
            return candidate
    return from_accept_language(accept) or known(default)


def from_accept_language(header: str | None) -> str | None:
    """The preferred language of an Accept-Language header that lianfang speaks, if any."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, index, primary))
    return min(ranked)[2] if ranked else None


def switch_link(language: str, path: str, query: str) -> str:
    """The link that switches to a language and comes back to the same page with the same query
    (filters, area, sort), less any ``lang=`` in it, which would override the new choice."""
    kept = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != "lang"]
    here = f"{path}?{urlencode(kept)}" if kept else path
    return f"/lang/{language}?{urlencode({'next': here})}"


def request_language(request: Request) -> str:
    """The language of a request."""
    settings = getattr(request.app.state, "settings", None)
    return choose(
        request.query_params.get("lang"),
        request.cookies.get(LANG_COOKIE),
        request.headers.get("accept-language"),
        settings.language if settings is not None else "zh",
    )


class LanguageMiddleware:
    """Serve each HTTP request in its language (``lianfang.i18n.current_language``)."""

    def __init__(self, app: ASGIApp, default: str = "zh") -> None:
        self.app = app
        self.default = default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        query = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("lang", [None])[0]
        cookie = cookie_parser(headers.get("cookie", "")).get(LANG_COOKIE)
        language = choose(query, cookie, headers.get("accept-language"), self.default)
        with use_language(language):
            await self.app(scope, receive, send)
