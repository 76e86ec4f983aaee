"""Periodic jobs: one registry, one lease table, one runner.

A domain registers its periodic work at import time::

    from lianfang import jobs

    def escalate(session: Session, run: jobs.Run) -> int:
        ...  # find what is due, change it, audit it; return how many records it changed

    jobs.register("dispatch.escalate", timedelta(minutes=15), escalate)

and adds its module to ``MODULES`` below, so that the server and ``lianfang worker`` load it.

The rules a job keeps:

- **Idempotent**: it computes what is due from the database (open tasks past their deadline
  and not yet escalated; people whose grade differs from the rule's), so running it twice does
  nothing the second time, and a run that failed half-way (rolled back) is simply done again by
  the next one. Nothing is kept in memory between runs: a restart loses nothing.
- **One process at a time**: before a run, ``run_due`` takes the job's lease (a row of
  ``job_lease``, claimed with one conditional UPDATE that only one process can win), runs the
  job in one transaction, and then records when it last ran and frees the lease. A lease that
  its holder never freed (the process died) expires after ``LEASE`` and another process takes it.
- It asks ``lianfang.timeutil.today()/now()`` what day the world is in; the lease and its
  schedule use the machine's clock (``utcnow``).

Where jobs run: inside ``lianfang serve`` (a thread, ``Runner``) unless ``LIANFANG_JOBS=0``,
and in ``lianfang worker``, for deployments with several web processes (set ``LIANFANG_JOBS=0``
on them and run one worker, or leave jobs on everywhere: the lease keeps each job to one
process at a time).
"""

from __future__ import annotations

import importlib
import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import String, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import Date

from lianfang import timeutil
from lianfang.db.base import Base
from lianfang.db.engine import transaction

MODULES: tuple[str, ...] = (
    "lianfang.dispatch.jobs",
    "lianfang.alerts.jobs",
    "lianfang.notify.jobs",
)
"""The modules that register jobs (imported by ``load``). A domain adds its own here."""

LEASE = timedelta(minutes=10)
"""How long a run may hold its job before another process may take the job over."""

TICK_S = 30.0
"""How often the runner looks for due jobs."""

log = logging.getLogger("lianfang.jobs")


class JobLease(Base):
    """Which process runs a periodic job until when, and when it last completed: two processes
    never run the same job at once, and a job runs no more often than it is meant to."""

    __tablename__ = "job_lease"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    area_code: Mapped[str | None] = mapped_column(String(12))  # None: the whole database
    holder: Mapped[str | None] = mapped_column(String(100))
    expires_at: Mapped[datetime | None] = mapped_column()
    last_day: Mapped[date | None] = mapped_column(Date)
    last_run_at: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=timeutil.utcnow, onupdate=timeutil.utcnow)


@dataclass(frozen=True)
class Run:
    """What a job is told about its run: the day and moment the world is in, and who runs it."""

    today: date
    now: datetime
    holder: str


JobFunction = Callable[[Session, Run], int | None]


@dataclass(frozen=True)
class Job:
    """A registered job: its name, how often it runs and what it does."""

    name: str
    every: timedelta
    fn: JobFunction
    doc: str = ""


@dataclass
class Outcome:
    """What one pass of ``run_due`` did, per job: records changed, skipped (not due or held by
    another process) or the error (one line) it failed with."""

    ran: dict[str, int] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


REGISTRY: dict[str, Job] = {}


def register(name: str, every: timedelta, fn: JobFunction) -> Job:
    """Register a periodic job (at import time of its module). ``fn(session, run)`` runs in one
    writing transaction, must be idempotent, and returns how many records it changed."""
    if not 0 < len(name) <= 50:
        raise ValueError("a job's name has 1 to 50 characters")
    if every <= timedelta(0):
        raise ValueError("a job runs every positive interval")
    known = REGISTRY.get(name)
    if known is not None and known.fn is not fn:
        raise ValueError(f"job {name} is registered twice")
    job = Job(name, every, fn, (fn.__doc__ or "").strip().split("\n\n")[0])
    REGISTRY[name] = job
    return job


def load() -> dict[str, Job]:
    """Import every module that registers jobs; the registry."""
    for module in MODULES:
        importlib.import_module(module)
    return REGISTRY


def this_process() -> str:
    """Who holds a lease: the host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


def _claim(factory: sessionmaker[Session], job: Job, holder: str, force: bool) -> bool:
    """Take the job's lease when it is due and free (or expired): one conditional UPDATE."""
    moment = timeutil.utcnow()
    with transaction(factory) as session:
        if session.get(JobLease, job.name) is None:
            try:
                with session.begin_nested():
                    session.add(JobLease(name=job.name, updated_at=moment))
            except IntegrityError:  # another process added it meanwhile
                pass
        free = or_(JobLease.holder.is_(None), JobLease.expires_at < moment)
        conditions = [JobLease.name == job.name, free]
        if not force:
            conditions.append(
                or_(JobLease.last_run_at.is_(None), JobLease.last_run_at <= moment - job.every)
            )
        claimed = session.execute(
            update(JobLease)
            .where(*conditions)
            .values(holder=holder, expires_at=moment + LEASE, updated_at=moment)
            .execution_options(synchronize_session=False)
        )
        return bool(claimed.rowcount)  # type: ignore[attr-defined]


def _free(factory: sessionmaker[Session], job: Job, holder: str, *, completed: Run | None) -> None:
    values: dict[str, object] = {"holder": None, "expires_at": None}
    if completed is not None:
        values.update(last_run_at=timeutil.utcnow(), last_day=completed.today)
    with transaction(factory) as session:
        session.execute(
            update(JobLease)
            .where(JobLease.name == job.name, JobLease.holder == holder)
            .values(**values, updated_at=timeutil.utcnow())
            .execution_options(synchronize_session=False)
        )


def run_due(
    factory: sessionmaker[Session],
    *,
    names: list[str] | None = None,
    force: bool = False,
    holder: str | None = None,
) -> Outcome:
    """Run every registered job that is due (or those named; ``force``: due or not), each under
    its lease, in a transaction of its own. A job that fails is rolled back, reported in the
    outcome and logged; the others still run."""
    registry = load()
    holder = holder or this_process()
    outcome = Outcome()
    chosen = [registry[n] for n in names] if names is not None else list(registry.values())
    for job in chosen:
        if not _claim(factory, job, holder, force):
            outcome.skipped.append(job.name)
            continue
        run = Run(today=timeutil.today(), now=timeutil.now(), holder=holder)
        try:
            with transaction(factory) as session:
                changed = job.fn(session, run)
        except Exception as exc:  # one job's failure must not stop the others
            log.exception("job %s failed", job.name)
            outcome.failed[job.name] = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
            _free(factory, job, holder, completed=None)
            continue
        outcome.ran[job.name] = changed or 0
        _free(factory, job, holder, completed=run)
    return outcome


def status(session: Session) -> list[JobLease]:
    """Every job's lease row (when it last ran, who holds it now)."""
    return list(session.scalars(select(JobLease).order_by(JobLease.name)))


class Runner:
    """Runs due jobs every ``tick`` seconds in a daemon thread until stopped."""

    def __init__(
        self, factory: sessionmaker[Session], tick: float = TICK_S, delay: float = 0.0
    ) -> None:
        self.factory = factory
        self.tick = tick
        self.delay = delay
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def loop(self) -> None:
        """Run due jobs until stopped (the worker's foreground loop, the server's thread),
        after ``delay`` seconds (a server lets its first requests through first)."""
        if self.delay:
            self._stop.wait(self.delay)
        while not self._stop.is_set():
            try:
                run_due(self.factory)
            except Exception:  # the database is away: try again at the next tick
                log.exception("periodic jobs could not run")
            self._stop.wait(self.tick)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.loop, name="lianfang-jobs", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
