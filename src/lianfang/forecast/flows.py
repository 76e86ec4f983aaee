"""Side effects around forecasts: the server's job queue, which computes queued runs in
separate processes, a bounded number at a time.

The queue is the ``forecast_run`` table: a run is queued by the request that started it and
claimed, oldest first, by a server with a free slot (``forecast_jobs``, default 2). A claimed
run is computed in a process of its own, so that a long ensemble never blocks a page; the
process dies with the server. On start-up the server fails the runs whose process is gone
(``service.fail_orphans``); runs still queued are computed in turn."""

from __future__ import annotations

import contextlib
import ctypes
import functools
import logging
import signal
import sys
import threading
from collections.abc import Callable
from multiprocessing.process import BaseProcess

from sqlalchemy.orm import Session, sessionmaker

from lianfang import logs
from lianfang.db import background
from lianfang.db.engine import transaction
from lianfang.forecast import service, worker
from lianfang.forecast.models import ForecastRun, RunStatus
from lianfang.i18n import Text, _

WORKERS = 2
"""Processes an ensemble spreads over (the machine has two cores)."""
POLL_S = 2.0
"""How often the queue looks for runs queued elsewhere and for finished processes, when
nothing wakes it sooner."""
STOP_WAIT_S = 5.0
"""How long a stopping server waits for a run's process to end after asking it to."""
PR_SET_PDEATHSIG = 1
log = logging.getLogger("lianfang.forecast")

Starter = Callable[[str, int, str | None], BaseProcess]


def compute(factory: sessionmaker[Session], run_id: int, scheduler: str | None = None) -> None:
    """What a run's process does: die with the server, log through the PII filter (the
    traceback of a failure goes to the log on stderr, the reason to the run), then the run.
    Exits 1 when the run failed."""
    _die_with_parent()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger("lianfang").addHandler(handler)
    logging.getLogger("lianfang").setLevel(logging.INFO)
    logs.install(("", "lianfang"))
    try:
        worker.execute(factory, run_id, workers=WORKERS, scheduler=scheduler)
    except Exception:  # logged and stored by execute; nothing more on stderr
        sys.exit(1)


def _die_with_parent() -> None:
    """Linux: end this process when the server that started it ends (even when killed), so
    that no run goes on computing, unseen, for a server that is gone."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def start(database_url: str, run_id: int, scheduler: str | None = None) -> BaseProcess:
    """Start computing a claimed run in a process of its own."""
    job = functools.partial(compute, scheduler=scheduler)
    return background.start(job, database_url, run_id, f"forecast-{run_id}")


class JobQueue:
    """Computes queued runs, oldest first, at most ``limit`` at a time on this machine: one
    queue per server process, and the processes of one host (``serve --workers``) share the
    limit through ``service.claim_next``."""

    def __init__(
        self,
        database_url: str,
        factory: sessionmaker[Session],
        limit: int,
        scheduler: str | None = None,
        starter: Starter = start,
    ) -> None:
        self.database_url, self.factory, self.limit = database_url, factory, limit
        self.scheduler, self.starter = scheduler, starter
        self.running: dict[int, BaseProcess] = {}
        self.name = service.this_process()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def open(self) -> None:
        """Start taking runs, in a thread of its own: first it fails the runs orphaned by a
        server that stopped (``recover``), then it claims queued runs while slots are free.
        The database is not touched here, so a server starts even while it is unreachable."""
        self._thread = threading.Thread(target=self._loop, name="forecast-queue", daemon=True)
        self._thread.start()

    def recover(self) -> list[int]:
        """Fail the runs whose process is gone (``service.fail_orphans``); their ids."""
        with transaction(self.factory) as session:
            orphans = service.fail_orphans(session=session)
        if orphans:
            log.warning("forecast runs %s were interrupted by a server stop: failed", orphans)
        return orphans

    def submit(self, run_id: int | None = None) -> None:
        """A run was queued: look at the queue now rather than at the next poll."""
        self._wake.set()

    def close(self) -> None:
        """Stop taking runs; end the processes still computing and fail their runs (the
        server is stopping)."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=STOP_WAIT_S)
        with self._lock:
            for process in self.running.values():
                process.terminate()
            for process in self.running.values():
                process.join(timeout=STOP_WAIT_S)
                if process.is_alive():
                    process.kill()
            stopped, self.running = list(self.running), {}
        if stopped:
            with transaction(self.factory) as session:
                for run_id in stopped:
                    run = session.get(ForecastRun, run_id)
                    if run is not None and run.status is RunStatus.running:
                        service.fail(session=session, run=run, reason=service.interrupted(run))

    def _loop(self) -> None:
        recovered = False
        while not self._stopping.is_set():
            try:
                if not recovered:
                    self.recover()
                    recovered = True
                self.step()
            except Exception:  # a database that went away: log it and try again later
                log.exception("the forecast queue could not look at its runs")
            self._wake.wait(POLL_S)
            self._wake.clear()

    def step(self) -> None:
        """Reap finished processes, then claim queued runs while a slot is free."""
        with self._lock:
            self._reap()
            while len(self.running) < self.limit and not self._stopping.is_set():
                with self.factory() as session:
                    if not service.any_queued(session=session):
                        return
                with transaction(self.factory) as session:
                    run = service.claim_next(session=session, worker=self.name, limit=self.limit)
                    run_id = None if run is None else run.id
                if run_id is None:
                    return
                try:
                    self.running[run_id] = self.starter(self.database_url, run_id, self.scheduler)
                except Exception:
                    log.exception("forecast run %s: its process could not start", run_id)
                    self._fail(run_id, _("the server could not start a process for this run"))

    def _reap(self) -> None:
        """Forget processes that ended; fail the run of one that died without saying how its
        run ended (killed, out of memory)."""
        for run_id, process in list(self.running.items()):
            if process.is_alive():
                continue
            del self.running[run_id]
            process.join()
            reason = _(
                "the process computing this run stopped unexpectedly (exit code %(code)s; out "
                "of memory?); start it again",
                code=process.exitcode,
            )
            if self._fail(run_id, reason):
                log.error("forecast run %s: its process ended (%s)", run_id, process.exitcode)

    def _fail(self, run_id: int, reason: Text) -> bool:
        """Fail a run this queue claimed unless it already ended; whether it did."""
        with transaction(self.factory) as session:
            run = session.get(ForecastRun, run_id)
            if run is None or run.status not in (RunStatus.queued, RunStatus.running):
                return False
            service.fail(session=session, run=run, reason=reason)
            return True
