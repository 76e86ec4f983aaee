"""create_app(): the FastAPI application with the API, the pages and the vendored static files."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine

from lianfang import __version__, jobs, logs, timeutil
from lianfang.api import errors, ratelimit, responses
from lianfang.api.deps import get_actor, request_session
from lianfang.api.routes import router as api_router
from lianfang.config import Settings, get_settings
from lianfang.db.engine import make_engine, make_sessionmaker
from lianfang.demo import service as demo_service
from lianfang.forecast import flows
from lianfang.people import flows as export_flows
from lianfang.web.alert_pages import router as alert_page_router
from lianfang.web.briefing_pages import router as briefing_page_router
from lianfang.web.channel_pages import router as channel_page_router
from lianfang.web.dispatch_pages import router as dispatch_page_router
from lianfang.web.duty_pages import router as duty_page_router
from lianfang.web.forecast_pages import router as forecast_page_router
from lianfang.web.language import LanguageMiddleware
from lianfang.web.medicine_pages import router as medicine_page_router
from lianfang.web.notify_pages import router as notify_page_router
from lianfang.web.pages import STATIC_DIR
from lianfang.web.pages import router as page_router
from lianfang.web.people_pages import router as people_page_router
from lianfang.web.person_pages import router as person_page_router
from lianfang.web.resources_pages import router as resources_page_router
from lianfang.web.task_pages import router as task_page_router


@asynccontextmanager
async def _threads_by_connections(app: FastAPI, reserved: int) -> AsyncIterator[None]:
    """As many threads for requests as the pool has connections (when it has a limit), less the
    ``reserved`` ones the periodic jobs hold: a request that reaches a thread then finds a
    connection free, instead of waiting for one (and failing with 503 after the pool's time-out)
    while requests queued for a thread hold them all. No more threads either: one process runs
    Python on one core at a time, and each thread beyond what keeps that core busy while others
    wait for the database only lengthens every request's turn — and the locks it holds."""
    size = getattr(app.state.engine.pool, "size", None)
    if callable(size):
        anyio.to_thread.current_default_thread_limiter().total_tokens = max(1, size() - reserved)
    yield


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """Build the application on the configured (or given) database, and set the process's
    clock: LIANFANG_TODAY, else the day of the database's demo world, else the real date."""
    logs.install()  # no personal data in the server's log, whoever configured its handlers
    settings = settings or get_settings()
    engine = engine or make_engine(
        settings.database_url, pool_size=settings.pool_size, pool_timeout_s=settings.pool_timeout_s
    )
    timeutil.use(demo_service.clock_for(engine=engine, setting=settings.today))
    queue = flows.JobQueue(
        engine.url.render_as_string(hide_password=False),
        make_sessionmaker(engine),
        settings.forecast_jobs,
        scheduler=settings.dask_scheduler,
    )

    @asynccontextmanager
    async def lifespan(started: FastAPI) -> AsyncIterator[None]:
        runner = (  # its first pass a tick after start-up, once the server answers
            jobs.Runner(make_sessionmaker(engine), delay=jobs.TICK_S) if settings.jobs else None
        )
        async with _threads_by_connections(started, reserved=1 if runner else 0):
            if settings.forecast_jobs > 0:  # a server computing no forecasts leaves runs alone
                queue.open()
            if runner is not None:
                runner.start()
            try:
                yield
            finally:
                if runner is not None:
                    runner.stop()
                queue.close()

    app = FastAPI(
        lifespan=lifespan,
        title="lianfang 联防",
        version=__version__,
        description="联防联控指挥调度平台 API — joint prevention and control command and dispatch. "
        "Authenticate with `POST /api/auth/token`, then send `Authorization: Bearer <token>`.",
        docs_url=None,  # served by web.pages from the vendored Swagger UI: nothing from a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.forecast_jobs = queue
    app.state.start_forecast = queue.submit  # tests swap in a recorder
    app.state.start_export = export_flows.start  # likewise
    app.add_middleware(LanguageMiddleware, default=settings.language)
    errors.install(app)
    app.include_router(api_router, prefix="/api")
    app.include_router(page_router)
    app.include_router(forecast_page_router)
    app.include_router(alert_page_router)
    app.include_router(people_page_router)
    app.include_router(person_page_router)
    app.include_router(resources_page_router)
    app.include_router(medicine_page_router)
    app.include_router(briefing_page_router)
    app.include_router(notify_page_router)
    app.include_router(channel_page_router)
    app.include_router(dispatch_page_router)
    app.include_router(duty_page_router)
    app.include_router(task_page_router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    responses.declare_errors(
        app, actor=get_actor, sign_in=request_session, limited=ratelimit.public_lookup
    )
    return app
