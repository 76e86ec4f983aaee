"""Every API route declares the errors it can answer, in one pass over the routes.

``declare_errors`` runs once in ``create_app`` after every router is mounted, so a new domain's
routes inherit the declarations without writing any. The rule (the handlers in ``api/errors.py``
decide the codes; this only states them in the OpenAPI document):

- every route: 400 (input a service refused), 422 (a request that does not validate, an id or
  offset out of range), 503 (database unavailable or busy; with Retry-After);
- every route that needs a signed-in caller: 401 (no or a bad token), 403 (no permission, area
  out of scope), 404 (a record or area not found within scope);
- sign-in: 401;
- every route that takes one of the caller's public lookups (``ratelimit.public_lookup``): 429
  (too many from this address; with Retry-After);
- every write (POST, PUT, PATCH, DELETE): 409 (a conflict with a stored record, named by table
  and columns).

Routes that need a caller also declare the bearer token (``BEARER``), so Swagger UI at ``/docs``
offers "Authorize" and sends the token with the calls it tries.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel, Field

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
BEARER = {
    "type": "http",
    "scheme": "bearer",
    "description": "A token from POST /api/auth/token (a browser signed in on the web may send "
    "its session cookie instead, with X-CSRF-Token on writes)",
}


class ErrorRead(BaseModel):
    """Every error the API answers: a kind, and the message in the caller's language and both."""

    error: str = Field(description="kind: invalid, unauthenticated, forbidden, not_found, ...")
    message: str
    message_zh: str
    message_en: str


class ValidationErrorRead(BaseModel):
    """A request that does not validate: the first problem in ``message``, all in ``detail``."""

    error: str = "invalid"
    message: str
    detail: list[dict[str, Any]] = Field(
        description="each problem: loc, msg and type for a request field; field, row, column "
        "and message_zh/message_en for a value that failed the sheet's checks"
    )


ERRORS: dict[int, tuple[type[BaseModel], str]] = {
    400: (ErrorRead, "Input refused: the message says what and where"),
    401: (ErrorRead, "Not signed in, or the token is invalid or has expired"),
    403: (ErrorRead, "No permission, or the area lies outside your scope"),
    404: (ErrorRead, "Not found within your scope"),
    409: (ErrorRead, "Conflicts with a stored record (table and columns named, never values)"),
    429: (ErrorRead, "Too many requests from this address; retry after Retry-After seconds"),
    422: (ValidationErrorRead, "The request does not validate (a field, an id out of range)"),
    503: (ErrorRead, "The database is unavailable or busy; retry after Retry-After seconds"),
}


def _calls(dependant: Dependant, target: Any) -> bool:
    return dependant.call is target or any(_calls(d, target) for d in dependant.dependencies)


def codes_of(route: APIRoute, actor: Any, sign_in: Any, limited: Any) -> set[int]:
    """The error status codes a route can answer."""
    found = {400, 422, 503}
    if _calls(route.dependant, actor):
        found |= {401, 403, 404}
    if _calls(route.dependant, limited):
        found.add(429)
    if any(d.call is sign_in for d in route.dependant.dependencies):  # sign-in's own session
        found.add(401)
    if (route.methods or set()) & WRITES:
        found.add(409)
    return found


def api_routes(app: FastAPI) -> Iterator[tuple[APIRoute, str]]:
    """Every route in the OpenAPI document, with its full path (routers included)."""
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and getattr(context, "include_in_schema", True):
            yield route, context.path_format or route.path_format


def _error_schemas(components: dict[str, Any]) -> None:
    for model in (ErrorRead, ValidationErrorRead):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(schema.pop("$defs", {}))
        components[model.__name__] = schema


def _declare(operation: dict[str, Any], codes: set[int]) -> None:
    responses = operation.setdefault("responses", {})
    for code in sorted(codes):
        model, description = ERRORS[code]
        declared = responses.setdefault(str(code), {"description": description})
        if code == 422 or "content" not in declared:  # our 422 is not FastAPI's default shape
            reference = {"$ref": f"#/components/schemas/{model.__name__}"}
            declared["content"] = {"application/json": {"schema": reference}}


def declare_errors(app: FastAPI, *, actor: Any, sign_in: Any, limited: Any) -> None:
    """Make the OpenAPI document state every route's error responses (keeping the description
    of any a route declared itself)."""
    build = app.openapi
    done: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        if done:
            return done[0]
        schema = build()
        components = schema.setdefault("components", {})
        _error_schemas(components.setdefault("schemas", {}))
        components.setdefault("securitySchemes", {})["bearer"] = BEARER
        for route, path_format in api_routes(app):
            path = schema["paths"].get(path_format, {})
            for method in route.methods or ():
                if method.lower() in path:
                    _declare(path[method.lower()], codes_of(route, actor, sign_in, limited))
                    if _calls(route.dependant, actor):
                        path[method.lower()]["security"] = [{"bearer": []}]
        done.append(schema)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
