"""``lianfang serve``: the web application and API."""

from __future__ import annotations

from typing import Annotated

import typer

from lianfang.cli.common import DbOption, open_engine, say, settings_for


def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (default 127.0.0.1).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (default 8000).")] = None,
    db: DbOption = None,
) -> None:
    """Serve the web interface and the API (OpenAPI docs at /docs)."""
    settings = settings_for(db)
    open_engine(db).dispose()  # fail fast, with a clear message, on a missing or old schema
    start(host or settings.host, port or settings.port)


def start(host: str, port: int) -> None:
    """Run the server until interrupted."""
    import uvicorn

    from lianfang import logs

    say(
        f"lianfang 正在 http://{host}:{port} 提供服务（Ctrl+C 停止）",
        f"lianfang is serving at http://{host}:{port} (Ctrl+C to stop)",
    )
    uvicorn.run(
        "lianfang.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        log_level="warning",
        log_config=logs.uvicorn_config(),
    )
