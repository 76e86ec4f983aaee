"""Work a request hands to a separate process, so that the request is answered at once (a
forecast, a large export): the process opens its own engine, runs one stored job, and ends."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from lianfang.db.engine import make_engine, make_sessionmaker

Job = Callable[[sessionmaker[Session], int], None]
"""What runs in the process: a module-level function (or a partial of one) taking a session
factory and the id of the stored job."""


def run_in_process(job: Job, database_url: str, job_id: int) -> None:
    """Entry point of the background process: its own engine, then the job."""
    engine = make_engine(database_url)
    try:
        job(make_sessionmaker(engine), job_id)
    finally:
        engine.dispose()


def start(
    job: Job, database_url: str, job_id: int, name: str
) -> multiprocessing.process.BaseProcess:
    """Start a stored job in a new process without waiting for it."""
    process = multiprocessing.get_context("spawn").Process(
        target=run_in_process, args=(job, database_url, job_id), name=name, daemon=False
    )
    process.start()
    return process
