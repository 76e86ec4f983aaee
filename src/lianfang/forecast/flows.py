"""Side effects around forecasts: running a stored run in a separate process."""

from __future__ import annotations

import functools
import multiprocessing

from lianfang.db import background
from lianfang.forecast import worker

WORKERS = 2
"""Processes an ensemble spreads over (the machine has two cores)."""


def start(database_url: str, run_id: int) -> multiprocessing.process.BaseProcess:
    """Start computing a queued run without blocking the caller (the web request)."""
    job = functools.partial(worker.execute, workers=WORKERS)
    return background.start(job, database_url, run_id, f"forecast-{run_id}")
