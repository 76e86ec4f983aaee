"""An area's planning forecast: the one run or fit a commander adopted, and what it says an area
inside needs, per item and day.

Resources (days of supply), planning (allocation) and the briefing (peak date) read demand only
through ``adopted_forecast``; its answer is the ``AdoptedForecast`` dataclass below."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lianfang.areas import codes
from lianfang.areas import service as areas
from lianfang.areas.models import Area
from lianfang.auth import audit
from lianfang.auth.choices import AuditAction, Permission
from lianfang.auth.scope import Actor
from lianfang.config import get_settings
from lianfang.errors import ConflictError, InvalidInputError, NotFoundError
from lianfang.forecast.models import ForecastAdoption, ForecastRun, RunKind, RunStatus
from lianfang.forecast.service import get_run, result_of
from lianfang.i18n import Text, _
from lianfang.timeutil import utcnow

ITEMS: dict[str, Text] = {
    "antipyretic_courses": _("courses"),
    "antiviral_courses": _("courses"),
    "hospital_census": _("beds occupied"),
    "icu_census": _("ICU beds occupied"),
    "oxygen_patients": _("patients on oxygen"),
    "oxygen_concentrators": _("concentrators in use"),
    "oxygen_cylinders": _("J-size cylinders a day"),
    "visits": _("fever-clinic visits"),
    "admissions": _("admissions"),
    "deaths": _("deaths"),
}
"""The items demand is given for (the run's measure names) and the unit of each."""


@dataclass(frozen=True)
class Demand:
    """One item's daily demand in one area: the median and its 5–95% band, from ``start``."""

    item: str
    unit: str
    low: tuple[float, ...]
    median: tuple[float, ...]
    high: tuple[float, ...]

    def on(self, day: date, start: date) -> tuple[float, float, float] | None:
        """(low, median, high) on one day; None outside the forecast."""
        index = (day - start).days
        if not 0 <= index < len(self.median):
            return None
        return self.low[index], self.median[index], self.high[index]


@dataclass(frozen=True)
class AdoptedForecast:
    """What the adopted planning forecast says an area needs.

    ``area_code`` is the area asked about; ``adopted_area_code`` the area whose adoption answers
    (the area itself or the nearest area above it that has one). Demand of an area that the run
    reports (the run's area or one of its child areas) is the run's own; of an area deeper down
    (a town of a city's run, a village), the child area's demand times the area's share of that
    child's residents (``scaled`` is then that share, else 1.0). ``stale`` is true when newer
    observations were fitted after it or the run is older than the ``forecast_stale_days``
    setting; ``stale_reasons`` say which."""

    area_code: str
    area_name: str
    adopted_area_code: str
    adopted_area_name: str
    run_id: int
    kind: str  # "forecast" or "fit"
    scenario: str
    adopted_by: str
    adopted_at: datetime
    made_at: datetime
    format_version: int | None
    start: date
    days: int
    demand: dict[str, Demand]
    peak_date: date | None
    peak_date_low: date | None
    peak_date_high: date | None
    scaled: float
    stale: bool
    stale_reasons: tuple[str, ...] = field(default=())

    @property
    def dates(self) -> list[date]:
        return [self.start + timedelta(days=d) for d in range(self.days)]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (dates as ISO strings)."""
        return {
            "area_code": self.area_code,
            "area_name": self.area_name,
            "adopted_area_code": self.adopted_area_code,
            "adopted_area_name": self.adopted_area_name,
            "run_id": self.run_id,
            "kind": self.kind,
            "scenario": self.scenario,
            "adopted_by": self.adopted_by,
            "adopted_at": self.adopted_at.isoformat(),
            "made_at": self.made_at.isoformat(),
            "format_version": self.format_version,
            "start": self.start.isoformat(),
            "days": self.days,
            "peak_date": _iso(self.peak_date),
            "peak_date_low": _iso(self.peak_date_low),
            "peak_date_high": _iso(self.peak_date_high),
            "scaled": self.scaled,
            "stale": self.stale,
            "stale_reasons": list(self.stale_reasons),
            "demand": {
                k: {
                    "unit": d.unit,
                    "low": list(d.low),
                    "median": list(d.median),
                    "high": list(d.high),
                }
                for k, d in self.demand.items()
            },
        }


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def adopt(*, session: Session, actor: Actor, run_id: int, scenario: int = 0) -> ForecastAdoption:
    """Make a finished run (one of its scenarios) or fit its area's planning forecast; the one
    adopted before, if any, is ended and kept as history."""
    actor.require(Permission.forecast_adopt)
    run = get_run(session=session, actor=actor, run_id=run_id)
    result = result_of(run)
    if result is None:
        raise ConflictError(
            _(
                "forecast run %(run)s is %(status)s: only a finished run can be adopted",
                run=run.id,
                status=run.status.label(),
            )
        )
    count = len(result.get("scenarios", []))
    if count == 0:
        raise ConflictError(
            _(
                "forecast run %(run)s was stored before fits forecast beds, drugs and oxygen: "
                "fit the series again and adopt the new fit",
                run=run.id,
            )
        )
    if not 0 <= scenario < count:
        raise InvalidInputError(
            _(
                "scenario: run %(run)s has scenarios 0 to %(last)s, not %(scenario)s",
                run=run.id,
                last=count - 1,
                scenario=scenario,
            )
        )
    now = utcnow()
    previous = current(session=session, actor=actor, code=run.area_code)
    entries = []
    if previous is not None:
        previous.replaced_at, previous.replaced_by = now, actor.username
        session.flush()  # ends it before the new one takes the area's one current place
        entries.append(
            audit.Entry(
                AuditAction.update,
                "forecast_adoption",
                str(previous.id),
                previous.area_code,
                {"replaced": True, "run_id": previous.run_id},
            )
        )
    adoption = ForecastAdoption(
        area_code=run.area_code,
        run_id=run.id,
        scenario=scenario,
        adopted_by=actor.username,
        adopted_at=now,
    )
    session.add(adoption)
    session.flush()
    entries.append(
        audit.Entry(
            AuditAction.create,
            "forecast_adoption",
            str(adoption.id),
            run.area_code,
            {"run_id": run.id, "scenario": scenario},
        )
    )
    audit.record_many(session=session, actor=actor, entries=entries)
    return adoption


def current(*, session: Session, actor: Actor, code: str) -> ForecastAdoption | None:
    """The area's adopted forecast now (not one of an area above it), or None."""
    actor.require(Permission.areas_read)
    area = codes.normalise(code)
    actor.require_area(area)
    return session.scalar(
        select(ForecastAdoption).where(
            ForecastAdoption.area_code == area, ForecastAdoption.replaced_at.is_(None)
        )
    )


def history(*, session: Session, actor: Actor, code: str) -> list[ForecastAdoption]:
    """Every adoption of the area, the current one first, then newest first."""
    actor.require(Permission.areas_read)
    area = codes.normalise(code)
    actor.require_area(area)
    rows = session.scalars(
        select(ForecastAdoption)
        .where(ForecastAdoption.area_code == area)
        .order_by(ForecastAdoption.adopted_at.desc(), ForecastAdoption.id.desc())
    )
    return sorted(rows, key=lambda a: a.replaced_at is not None)


def adopted_forecast(
    *, session: Session, actor: Actor, area: str, max_age_days: float | None = None
) -> AdoptedForecast:
    """Demand per item and day, with 5–95% bands, for ``area`` from the planning forecast
    adopted for it or for the nearest area above it (NotFoundError when there is none).

    A viewer whose scope lies inside the adopted area reads it for their own area."""
    actor.require(Permission.areas_read)
    info = areas.get_area(session=session, actor=actor, code=area)
    adoption = _covering(session, info.code)
    if adoption is None:
        raise NotFoundError(
            _("no planning forecast is adopted for %(name)s or an area above it", name=info.name)
        )
    run = session.get(ForecastRun, adoption.run_id)
    assert run is not None  # a foreign key
    result = result_of(run)
    assert result is not None  # only finished runs are adopted
    chosen = result["scenarios"][adoption.scenario]
    column, share = _column(run, result, info.code)
    start = date.fromisoformat(chosen["start"])
    demand = {
        item: Demand(
            item=item,
            unit=str(unit),
            low=tuple(_scaled(chosen["bands"][item]["low"][column], share)),
            median=tuple(_scaled(chosen["bands"][item]["median"][column], share)),
            high=tuple(_scaled(chosen["bands"][item]["high"][column], share)),
        )
        for item, unit in ITEMS.items()
        if item in chosen["bands"]
    }
    peak = chosen["peaks"][column]
    reasons = _stale_reasons(session, run, max_age_days)
    return AdoptedForecast(
        area_code=info.code,
        area_name=info.name,
        adopted_area_code=adoption.area_code,
        adopted_area_name=session.get(Area, adoption.area_code).name  # type: ignore[union-attr]
        if adoption.area_code != info.code
        else info.name,
        run_id=run.id,
        kind=run.kind.value,
        scenario=chosen["name"],
        adopted_by=adoption.adopted_by,
        adopted_at=adoption.adopted_at,
        made_at=run.finished_at or run.created_at,
        format_version=run.format_version,
        start=start,
        days=int(chosen["days"]),
        demand=demand,
        peak_date=_day(peak.get("peak_date")),
        peak_date_low=_day(peak.get("peak_date_low")),
        peak_date_high=_day(peak.get("peak_date_high")),
        scaled=share,
        stale=bool(reasons),
        stale_reasons=reasons,
    )


def _day(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _scaled(values: list[float | None], share: float) -> list[float]:
    return [round((v or 0.0) * share, 2) for v in values]


def _covering(session: Session, code: str) -> ForecastAdoption | None:
    """The current adoption of the area or of the nearest area above it."""
    chain: list[str] = []
    at: str | None = code
    while at is not None:
        chain.append(at)
        at = codes.parent_of(at)
    found = {
        a.area_code: a
        for a in session.scalars(
            select(ForecastAdoption).where(
                ForecastAdoption.area_code.in_(chain), ForecastAdoption.replaced_at.is_(None)
            )
        )
    }
    return next((found[c] for c in chain if c in found), None)


def _column(run: ForecastRun, result: dict[str, Any], code: str) -> tuple[int, float]:
    """The result column that reports the area, and the share of it that is the area: the
    whole-area column, a child area's, or a child's scaled by the area's share of its
    residents (an area deeper than the run's children)."""
    groups: list[str] = result["group_codes"]
    if code == run.area_code:
        return len(groups), 1.0
    if code in groups:
        return groups.index(code), 1.0
    inputs = json.loads(run.inputs)
    villages: list[str] = inputs["codes"]
    residents = [sum(r) for r in inputs["residents"]]
    child = next(i for i, g in enumerate(groups) if codes.contains(g, code))
    inside = sum(n for v, n in zip(villages, residents, strict=True) if codes.contains(code, v))
    whole = sum(
        n for v, n in zip(villages, residents, strict=True) if codes.contains(groups[child], v)
    )
    return child, (inside / whole if whole else 0.0)


def _stale_reasons(
    session: Session, run: ForecastRun, max_age_days: float | None
) -> tuple[str, ...]:
    """Why the adopted run no longer stands: observations fitted after it, or its age."""
    limit = get_settings().forecast_stale_days if max_age_days is None else max_age_days
    made = run.finished_at or run.created_at
    reasons: list[Text] = []
    age = (utcnow() - made).total_seconds() / 86400
    if age > limit:
        reasons.append(
            _(
                "made %(age)s days ago, more than the %(limit)s days a planning forecast stands",
                age=f"{age:.0f}",
                limit=f"{limit:g}",
            )
        )
    newer = _newer_observations(session, run)
    if newer is not None:
        reasons.append(
            _(
                "fit #%(fit)s, made later, holds observations up to %(last)s that this forecast "
                "was not made from",
                fit=newer[0],
                last=newer[1].isoformat(),
            )
        )
    return tuple(str(r) for r in reasons)


def _newer_observations(session: Session, run: ForecastRun) -> tuple[int, date] | None:
    """A later fit, of the run's area or an area inside it, holding observations the run did not
    have: past the last day an adopted fit was fitted to, or any at all for a plain run (which
    used none)."""
    inputs = json.loads(run.inputs)
    known = _last_observed(inputs) if run.kind is RunKind.fit else None
    if known is not None and inputs.get("until"):  # what it was fitted to, not what it held out
        known = min(known, date.fromisoformat(inputs["until"]))
    later = session.scalars(
        select(ForecastRun)
        .where(
            ForecastRun.kind == RunKind.fit,
            ForecastRun.id > run.id,
            ForecastRun.status != RunStatus.failed,
            codes.in_subtree(ForecastRun.area_code, codes.short(run.area_code)),
        )
        .order_by(ForecastRun.id.desc())
    )
    for fit in later:
        last = _last_observed(json.loads(fit.inputs))
        if last is not None and (known is None or last > known):
            return fit.id, last
    return None


def _last_observed(inputs: dict[str, Any]) -> date | None:
    """The last day with any observation in a fit's inputs."""
    start = inputs.get("observed_start")
    if not start:
        return None
    series: dict[str, list[float | None]] = inputs.get("observed", {})
    last = max(
        (i for values in series.values() for i, v in enumerate(values) if v is not None),
        default=None,
    )
    return None if last is None else date.fromisoformat(start) + timedelta(days=last)


@dataclass
class _Prepared:
    """One adopted run read once for many areas: the chosen scenario, its start, and the
    residents below each code prefix of the run's villages (for areas deeper than its
    children)."""

    run: ForecastRun
    chosen: dict[str, Any]
    groups: list[str]
    start: date
    below: dict[str, float] | None = None

    def residents_below(self, prefix: str) -> float:
        if self.below is None:
            inputs = json.loads(self.run.inputs)
            self.below = {}
            for village, bands in zip(inputs["codes"], inputs["residents"], strict=True):
                n = sum(bands)
                for length in (2, 4, 6, 9, 12):
                    key = village[:length]
                    self.below[key] = self.below.get(key, 0) + n
        return self.below.get(prefix, 0)

    def column(self, code: str) -> tuple[int, float]:
        """What ``_column`` answers, from the prepared sums."""
        if code == self.run.area_code:
            return len(self.groups), 1.0
        if code in self.groups:
            return self.groups.index(code), 1.0
        child = next(i for i, g in enumerate(self.groups) if codes.contains(g, code))
        inside = self.residents_below(codes.short(code))
        whole = self.residents_below(codes.short(self.groups[child]))
        return child, (inside / whole if whole else 0.0)


def adopted_medians(
    *, session: Session, actor: Actor, area_codes: Sequence[str], day: date, series: Sequence[str]
) -> dict[str, dict[str, float]]:
    """The median demand on ``day`` of each series for many areas (12-digit codes) at once:
    for each area, what ``adopted_forecast(area).demand[s].on(day, start)`` gives as its median,
    each adopted run read once. Areas without an adoption at or above them are left out, and so
    is a series the run does not hold or a day outside it."""
    actor.require(Permission.areas_read)
    current_ = {
        a.area_code: a
        for a in session.scalars(
            select(ForecastAdoption).where(ForecastAdoption.replaced_at.is_(None))
        )
    }
    if not current_:
        return {}
    prepared: dict[int, _Prepared] = {}
    out: dict[str, dict[str, float]] = {}
    for area in area_codes:
        at: str | None = area
        adoption = None
        while at is not None and adoption is None:
            adoption = current_.get(at)
            at = codes.parent_of(at)
        if adoption is None:
            continue
        actor.require_area(area)
        if adoption.id not in prepared:
            run = session.get(ForecastRun, adoption.run_id)
            assert run is not None  # a foreign key
            result = result_of(run)
            assert result is not None  # only finished runs are adopted
            chosen = result["scenarios"][adoption.scenario]
            prepared[adoption.id] = _Prepared(
                run, chosen, result["group_codes"], date.fromisoformat(chosen["start"])
            )
        ready = prepared[adoption.id]
        column, share = ready.column(area)
        index = (day - ready.start).days
        found: dict[str, float] = {}
        for name in series:
            if name not in ITEMS or name not in ready.chosen["bands"]:
                continue
            values = ready.chosen["bands"][name]["median"][column]
            if 0 <= index < len(values):
                found[name] = round((values[index] or 0.0) * share, 2)
        out[area] = found
    return out
