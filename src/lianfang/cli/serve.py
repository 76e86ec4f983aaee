"""``lianfang serve``: the web application and API."""

from __future__ import annotations

from typing import Annotated

import typer

from lianfang.cli.common import DbOption, open_engine, say, settings_for
from lianfang.i18n import _


def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (default 127.0.0.1).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (default 8000).")] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=64,
            help="Server processes (default 1, or the workers setting); more serve more "
            "requests a second where cores are free.",
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Serve the web interface and the API (OpenAPI docs at /docs)."""
    settings = settings_for(db)
    open_engine(db).dispose()  # fail fast, with a clear message, on a missing or old schema
    start(host or settings.host, port or settings.port, workers or settings.workers)


def start(host: str, port: int, workers: int = 1) -> None:
    """Run the server until interrupted."""
    import uvicorn

    from lianfang import logs

    say(
        _("lianfang is serving at http://%(host)s:%(port)s (Ctrl+C to stop)", host=host, port=port),
    )
    uvicorn.run(
        "lianfang.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        log_level="warning",
        log_config=logs.uvicorn_config(),
        workers=workers,  # each process builds its app (and its forecast queue) from settings
    )
