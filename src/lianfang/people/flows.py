"""Side effects around exports: making a large one in a separate process."""

from __future__ import annotations

import multiprocessing

from lianfang.db import background
from lianfang.people import exporting


def start(database_url: str, job_id: int) -> multiprocessing.process.BaseProcess:
    """Start making a queued export without blocking the caller (the web request)."""
    return background.start(exporting.run, database_url, job_id, f"export-{job_id}")
