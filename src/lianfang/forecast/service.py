"""Forecasts on real areas: the population from the database, runs stored with their inputs."""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lianfang import __version__
from lianfang.areas import codes
from lianfang.areas import service as areas
from lianfang.areas.choices import AreaLevel
from lianfang.areas.models import Area, AreaPopulation
from lianfang.auth import audit
from lianfang.auth.choices import AuditAction, Permission
from lianfang.auth.scope import Actor
from lianfang.db import locks
from lianfang.demo.population import is_community
from lianfang.errors import ConflictError, InvalidInputError, NotFoundError
from lianfang.forecast.engine import RUN_FORMAT
from lianfang.forecast.models import ForecastRun, RunKind, RunStatus
from lianfang.forecast.population import Metapopulation
from lianfang.forecast.presets import PRESETS
from lianfang.i18n import LANGUAGES, Text, _, current_language
from lianfang.people.choices import Grade
from lianfang.people.models import Person
from lianfang.pii import scrub
from lianfang.timeutil import utcnow

BANDS = ("age_0_14", "age_15_59", "age_60_64", "age_65_79", "age_80_plus")
RURAL_SEED_WEIGHT = 0.2
"""Weight of a rural village relative to an urban community in where the first infections
appear (the Dec 2022 wave reached cities first)."""


@dataclass(frozen=True)
class AreaPopulationModel:
    """An area's villages as the engine needs them, with the groups results are reported by."""

    population: Metapopulation
    groups: list[int]  # per village: index of the area's child it lies in
    group_codes: list[str]
    group_names: list[str]
    coordinates: list[tuple[float | None, float | None]]
    names: list[str]

    def as_inputs(self) -> dict[str, Any]:
        """What is stored with a run so that it can be reproduced."""
        pop = self.population
        return {
            "codes": list(pop.codes),
            "residents": pop.residents.round().astype(int).tolist(),
            "town": pop.town.tolist(),
            "county": pop.county.tolist(),
            "seed_weight": None if pop.seed_weight is None else pop.seed_weight.tolist(),
            "high_risk": None
            if pop.high_risk is None
            else [None if np.isnan(x) else float(x) for x in pop.high_risk],
            "groups": self.groups,
            "group_codes": self.group_codes,
            "group_names": self.group_names,
        }


def population_for(*, session: Session, actor: Actor, code: str) -> AreaPopulationModel:
    """The villages below an area with their residents by age band."""
    area = areas.get_area(session=session, actor=actor, code=code)
    prefix = codes.short(area.code)
    rows = session.execute(
        select(Area, AreaPopulation)
        .join(AreaPopulation, AreaPopulation.area_code == Area.code)
        .where(codes.in_subtree(Area.code, prefix), Area.level == AreaLevel.village)
        .order_by(Area.code)
    ).all()
    if not rows:
        raise InvalidInputError(
            _(
                "no village below %(name)s has population figures: import them first",
                name=area.name,
            ),
        )
    kids = {k.code: k for k in areas.children(session=session, actor=actor, code=area.code)}
    width = codes.LEVEL_LENGTHS[area.level.child] if area.level.child else 12
    child_codes = sorted({v.code[:width].ljust(12, "0") for v, _ in rows})
    child_index = {c: i for i, c in enumerate(child_codes)}
    towns = sorted({v.code[:9] for v, _ in rows})
    counties = sorted({v.code[:6] for v, _ in rows})
    residents = np.array([[getattr(p, b) for b in BANDS] for _, p in rows], dtype=np.float64)
    red = red_grade_people(session, prefix)
    pop = Metapopulation.from_arrays(
        [v.code for v, _ in rows],
        residents,
        [towns.index(v.code[:9]) for v, _ in rows],
        [counties.index(v.code[:6]) for v, _ in rows],
        [1.0 if is_community(v.name) else RURAL_SEED_WEIGHT for v, _ in rows],
        [red.get(v.code) for v, _ in rows] if red else None,
    )
    return AreaPopulationModel(
        population=pop,
        groups=[child_index[v.code[:width].ljust(12, "0")] for v, _ in rows],
        group_codes=child_codes,
        group_names=[kids[c].name if c in kids else c for c in child_codes],
        coordinates=[(v.lon, v.lat) for v, _ in rows],
        names=[v.name for v, _ in rows],
    )


def red_grade_people(session: Session, prefix: str) -> dict[str, float]:
    """Red-grade people per village below an area, for the villages whose key-population
    registry is loaded (anyone registered there; 0 when none of them is red). The forecast's
    antiviral demand and the antivirals measure follow them; other villages take the fallback
    share (``population.HIGH_RISK_ELDERLY``)."""
    found = session.execute(
        select(
            Person.area_code,
            func.count(),
            func.count().filter(Person.grade == Grade.red),
        )
        .where(codes.in_subtree(Person.area_code, prefix))
        .group_by(Person.area_code)
    ).all()
    return {code: float(reds) for code, _people, reds in found}


def create_run(
    *,
    session: Session,
    actor: Actor,
    code: str,
    kind: RunKind,
    inputs: dict[str, Any],
    worker: str | None = None,
    rerun_of: int | None = None,
) -> ForecastRun:
    """Queue a forecast or fit for an area, storing every input; with ``worker`` (the CLI,
    which computes it itself) the run is claimed by that process at once, so that no server
    takes it from the queue."""
    actor.require(Permission.forecast_run)
    area = areas.get_area(session=session, actor=actor, code=code)
    run = ForecastRun(
        area_code=area.code,
        kind=kind,
        status=RunStatus.queued,
        progress=0.0,
        inputs=json.dumps(inputs, ensure_ascii=False, default=str),
        created_by=actor.username,
        format_version=RUN_FORMAT,
        package_version=__version__,
    )
    if worker is not None:
        claim(run=run, worker=worker)
    session.add(run)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action=AuditAction.create,
        entity_type="forecast_run",
        entity_id=str(run.id),
        area_code=area.code,
        detail={
            "kind": kind.value,
            "days": inputs.get("days"),
            "members": inputs.get("members"),
            **({"rerun_of": rerun_of} if rerun_of is not None else {}),
        },
    )
    return run


def check_reproducible(run: ForecastRun) -> None:
    """Refuse to compute a run whose stored inputs this lianfang would turn into other figures:
    one queued by another run format (or before formats were recorded)."""
    if run.format_version == RUN_FORMAT:
        return
    if run.format_version is None:
        raise ConflictError(
            _(
                "forecast run %(run)s was stored before lianfang recorded the run format "
                "(lianfang %(version)s computes format %(current)s), so it cannot be reproduced: "
                "the same inputs may now give other figures; start a new run instead",
                run=run.id,
                version=__version__,
                current=RUN_FORMAT,
            )
        )
    raise ConflictError(
        _(
            "forecast run %(run)s was made by lianfang %(made_by)s with run format %(format)s; "
            "this lianfang (%(version)s) computes format %(current)s, whose figures differ for "
            "the same inputs, so it cannot reproduce the run; start a new run instead, or "
            "re-run it with lianfang %(made_by)s",
            run=run.id,
            made_by=run.package_version or "?",
            format=run.format_version,
            version=__version__,
            current=RUN_FORMAT,
        )
    )


def rerun(*, session: Session, actor: Actor, run_id: int, worker: str | None = None) -> ForecastRun:
    """Queue a new run with exactly the stored inputs of another (its population included, not
    the area's population today), when this lianfang computes the same run format (claimed
    at once by ``worker``, as in ``create_run``)."""
    actor.require(Permission.forecast_run)
    original = get_run(session=session, actor=actor, run_id=run_id)
    check_reproducible(original)
    run = create_run(
        session=session,
        actor=actor,
        code=original.area_code,
        kind=original.kind,
        inputs=json.loads(original.inputs),
        rerun_of=original.id,
        worker=worker,
    )
    return run


TIMING_KEYS = frozenset({"seconds"})
"""Result entries that measure the machine rather than the epidemic (a fit's wall time)."""


def same_figures(first: dict[str, Any], second: dict[str, Any]) -> bool:
    """Whether two stored results hold the same figures (timings aside)."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in TIMING_KEYS}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return bool(strip(first) == strip(second))


def presets() -> list[dict[str, Any]]:
    """The ready-made scenarios as JSON-ready dicts."""
    return [make().to_dict() for make in PRESETS.values()]


def forecast_inputs(
    *, days: int, members: int, seed: int, scenarios: list[dict[str, Any]] | None = None,
    parameters: dict[str, Any] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """What a forecast run stores besides the population (the presets when no scenario is
    given)."""
    return {
        "days": days,
        "members": members,
        "seed": seed,
        "scenarios": scenarios or presets(),
        "parameters": parameters or {},
    }


def queue(
    *,
    session: Session,
    actor: Actor,
    code: str,
    kind: RunKind,
    inputs: dict[str, Any],
    worker: str | None = None,
) -> ForecastRun:
    """Queue a run with the area's population stored beside its inputs (the caller commits,
    then hands it to the job queue, or computes it itself as ``worker``)."""
    model = population_for(session=session, actor=actor, code=code)
    return create_run(
        session=session,
        actor=actor,
        code=code,
        kind=kind,
        inputs={**inputs, **model.as_inputs()},
        worker=worker,
    )


def result_of(run: ForecastRun) -> dict[str, Any] | None:
    """A finished run's stored result, parsed (None until it is done)."""
    if run.status is not RunStatus.done or not run.result:
        return None
    result: dict[str, Any] = json.loads(run.result)
    return result


def get_run(*, session: Session, actor: Actor, run_id: int) -> ForecastRun:
    """Get a run whose area lies within the actor's scope."""
    actor.require(Permission.areas_read)
    run = session.get(ForecastRun, run_id)
    if run is None:
        raise NotFoundError(_("no forecast run %(run_id)s", run_id=run_id))
    actor.require_area(run.area_code)
    return run


def list_runs(
    *, session: Session, actor: Actor, code: str | None = None, limit: int = 50
) -> list[ForecastRun]:
    """Runs within scope (optionally at one area), newest first."""
    actor.require(Permission.areas_read)
    statement = select(ForecastRun).where(actor.area_filter(ForecastRun.area_code))
    if code is not None:
        statement = statement.where(ForecastRun.area_code == codes.normalise(code))
    return list(session.scalars(statement.order_by(ForecastRun.id.desc()).limit(limit)))


def this_process() -> str:
    """How a run names the process computing it: host and process id."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


def claim(*, run: ForecastRun, worker: str) -> None:
    """Mark a run as being computed by ``worker`` (a queued run starts now)."""
    run.status = RunStatus.running
    run.worker = worker
    if run.started_at is None:
        run.started_at = utcnow()


def any_queued(*, session: Session) -> bool:
    """Whether a run waits to be claimed: a read, so that an idle queue's look takes no write
    lock (on SQLite a long writer, such as the alert rules' first pass, would make it wait)."""
    found = session.scalar(
        select(ForecastRun.id).where(ForecastRun.status == RunStatus.queued).limit(1)
    )
    return found is not None


def claim_next(*, session: Session, worker: str, limit: int | None = None) -> ForecastRun | None:
    """The oldest queued run, claimed for ``worker`` (None when nothing waits, or when
    ``limit`` runs are already computing on the worker's host: the server processes of one
    machine share the ``forecast_jobs`` setting). Two servers claiming at once never take the
    same run: on PostgreSQL the row is locked (others skip it) and claims on one host take turns
    (a named advisory lock), on SQLite the caller's transaction holds the write lock."""
    if limit is not None:
        locks.hold_named(session, locks.FORECAST_CLAIM)
        host = worker.rpartition(":")[0]
        computing = session.scalar(
            select(func.count())
            .select_from(ForecastRun)
            .where(
                ForecastRun.status == RunStatus.running,
                ForecastRun.worker.startswith(host + ":"),
            )
        )
        if (computing or 0) >= limit:
            return None
    run = session.scalars(
        select(ForecastRun)
        .where(ForecastRun.status == RunStatus.queued)
        .order_by(ForecastRun.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    ).first()
    if run is not None:
        claim(run=run, worker=worker)
    return run


def queue_positions(*, session: Session) -> dict[int, int]:
    """For each queued run, how many queued runs are ahead of it (started earlier)."""
    waiting = session.scalars(
        select(ForecastRun.id)
        .where(ForecastRun.status == RunStatus.queued)
        .order_by(ForecastRun.id)
    )
    return {run_id: ahead for ahead, run_id in enumerate(waiting)}


def queued_ahead(*, session: Session, run: ForecastRun) -> int:
    """How many queued runs will start before this queued one (0 once it is not queued)."""
    if run.status is not RunStatus.queued:
        return 0
    return int(
        session.scalar(
            select(func.count())
            .select_from(ForecastRun)
            .where(ForecastRun.status == RunStatus.queued, ForecastRun.id < run.id)
        )
        or 0
    )


def mark(
    *,
    session: Session,
    run: ForecastRun,
    status: RunStatus,
    progress: float | None = None,
    result: dict[str, Any] | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Record a run's progress or outcome (the worker calls this as it goes)."""
    run.status = status
    if progress is not None:
        run.progress = progress
    if detail is not None:
        run.progress_detail = json.dumps(detail)
    if status is RunStatus.running and run.started_at is None:
        run.started_at = utcnow()
    if status in (RunStatus.done, RunStatus.failed):
        run.finished_at = utcnow()
    if result is not None:
        run.result = json.dumps(
            _json_safe(result), ensure_ascii=False, allow_nan=False, default=str
        )


def fail(*, session: Session, run: ForecastRun, reason: Text) -> None:
    """Mark a run failed with a reason people can read, kept in every language (the
    traceback, if there was one, goes to the log, never here)."""
    mark(session=session, run=run, status=RunStatus.failed)
    run.error = json.dumps(
        {language: scrub(reason.in_language(language))[:2000] for language in LANGUAGES},
        ensure_ascii=False,
    )


def error_message(run: ForecastRun, language: str | None = None) -> str | None:
    """Why a run failed, in the current (or given) language; None unless it failed."""
    if run.error is None:
        return None
    try:
        stored = json.loads(run.error)
    except ValueError:
        stored = None
    if not isinstance(stored, dict):  # stored before reasons were kept as messages
        return _("the computation failed; the server's log has the details").in_language(
            language or current_language()
        )
    return str(stored.get(language or current_language()) or next(iter(stored.values()), ""))


def interrupted(run: ForecastRun) -> Text:
    """The reason given to a run whose computation was cut off by a server stopping."""
    return _(
        "the server stopped while this run was being computed (%(done)s done); start it again",
        done=f"{run.progress:.0%}",
    )


def fail_orphans(*, session: Session) -> list[int]:
    """Fail the runs left "running" by a process that no longer exists (a server or CLI that
    stopped or was killed mid-run), so that they do not show "computing" for ever. Runs
    recorded on another machine are left alone: whether their process lives cannot be told
    from here. Queued runs stay queued: the job queue starts them in turn. Returns their ids."""
    here = socket.gethostname()[:40]
    orphans = []
    for run in session.scalars(
        select(ForecastRun).where(ForecastRun.status == RunStatus.running).order_by(ForecastRun.id)
    ):
        host, _sep, pid = (run.worker or "").rpartition(":")
        if run.worker and host != here:
            continue
        if pid.isdigit() and _alive(int(pid)):
            continue
        fail(session=session, run=run, reason=interrupted(run))
        orphans.append(run.id)
    return orphans


def _alive(pid: int) -> bool:
    """Whether a process of this machine is running (a zombie is not)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def progress_text(run: ForecastRun, ahead: int | None = None) -> str:
    """Where a run is, as people read it: its place in the queue (``ahead``, from
    ``queued_ahead``), or the scenario and the members or days done."""
    if run.status is RunStatus.queued:
        if not ahead:
            return str(_("queued, starts next"))
        return str(_("queued, %(ahead)s ahead", ahead=ahead))
    if run.status is not RunStatus.running:
        return str(run.status.label(current_language()))
    detail: dict[str, Any] = json.loads(run.progress_detail) if run.progress_detail else {}
    return str(detail_text(detail, run.progress))


def detail_text(detail: dict[str, Any], progress: float) -> Text:
    """A running run's progress detail as a message."""
    share = f"{progress:.0%}"
    if detail.get("stage") == "fit":
        return _("computing · fitting the parameters · %(share)s", share=share)
    if detail.get("stage") == "fit_outcomes":
        return _(
            "computing · outcomes of %(done)s of %(total)s parameter draws · %(share)s",
            done=detail["done"],
            total=detail["total"],
            share=share,
        )
    if detail.get("stage") == "fit_forecast":
        return _("computing · forecasting from the fit · %(share)s", share=share)
    if detail.get("unit") == "members":
        done = _("%(done)s of %(total)s members", done=detail["done"], total=detail["total"])
    elif detail.get("unit") == "days":
        done = _("%(done)s of %(total)s days", done=detail["done"], total=detail["total"])
    else:
        return _("computing · %(share)s", share=share)
    return _(
        "computing · scenario %(index)s of %(count)s (%(name)s) · %(done)s · %(share)s",
        index=detail["scenario"],
        count=detail["scenarios"],
        name=detail.get("name", ""),
        done=done,
        share=share,
    )


def _json_safe(value: Any) -> Any:
    """The value with NaN and infinities as null: pages and clients parse strict JSON."""
    if isinstance(value, float):
        return value if np.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value
