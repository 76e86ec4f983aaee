"""Side effects around forecasts: running a stored run in a separate process."""

from __future__ import annotations

import multiprocessing

from lianfang.db.engine import make_engine, make_sessionmaker
from lianfang.forecast import worker

WORKERS = 2
"""Processes an ensemble spreads over (the machine has two cores)."""


def run_in_process(database_url: str, run_id: int) -> None:
    """Entry point of the background process: its own engine, then the run."""
    engine = make_engine(database_url)
    try:
        worker.execute(make_sessionmaker(engine), run_id, workers=WORKERS)
    finally:
        engine.dispose()


def start(database_url: str, run_id: int) -> multiprocessing.process.BaseProcess:
    """Start computing a queued run without blocking the caller (the web request)."""
    process = multiprocessing.get_context("spawn").Process(
        target=run_in_process, args=(database_url, run_id), name=f"forecast-{run_id}", daemon=False
    )
    process.start()
    return process
