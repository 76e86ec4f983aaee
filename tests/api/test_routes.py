"""Every route ends its reads in its own thread (``api.deps.Route``), new domains' routes too."""

from __future__ import annotations

from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy import Engine

from lianfang.api.app import create_app
from lianfang.api.deps import Route
from lianfang.config import Settings


def test_every_route_is_a_lianfang_route(engine: Engine, settings: Settings) -> None:
    app = create_app(settings, engine)
    routes = [c.original_route for c in iter_route_contexts(app.routes)]
    routes = [r for r in routes if isinstance(r, APIRoute)]
    assert len(routes) > 50
    strays = [f"{sorted(r.methods)} {r.path}" for r in routes if not isinstance(r, Route)]
    assert not strays, f"use APIRouter(route_class=Route) for: {strays}"
