"""Read models of the registry that the API, the pages and the CLI share: an area's coverage
with its children named, the villages of a map, open alerts per person and as lists. Each
caller only translates these (JSON, a page, a table); none computes them itself."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.alerts import service as alert_service
from lianfang.alerts.choices import AlertKind, AlertStatus
from lianfang.alerts.models import Alert
from lianfang.alerts.suggest import stored_text
from lianfang.areas import codes
from lianfang.areas import service as areas
from lianfang.areas.choices import AreaLevel
from lianfang.areas.models import Area
from lianfang.auth.scope import Actor
from lianfang.i18n import Text
from lianfang.people import coverage, followups
from lianfang.people.choices import CoverageSort, Guarantee
from lianfang.people.models import FollowUp, Person
from lianfang.people.schemas import CoverageFigures, CoverageRead


def area_coverage(
    *,
    session: Session,
    actor: Actor,
    code: str,
    today: date,
    level: AreaLevel | None = None,
    sort: CoverageSort = CoverageSort.code,
    descending: bool | None = None,
) -> tuple[coverage.Counts, list[coverage.Counts]]:
    """Coverage of an area and, named, of every area within scope below it: its children, or
    all the areas of a deeper ``level`` (every town of a city) — those without key people too,
    with zeros. Ordered by ``sort`` (``descending`` by default for figures, ascending for the
    code order), ties in code order."""
    full = codes.normalise(code)
    total, found = coverage.summary(
        session=session, actor=actor, code=full, today=today, level=level
    )
    width = coverage.below(full, level)
    below = areas.names_below(session=session, prefix=codes.short(full)) if width else {}
    names = below | areas.names(session=session, area_codes=[full])
    total.name = names.get(full, "")
    by_code = {c.code: c for c in found}
    for area_code in below:
        if len(codes.short(area_code)) == width and area_code not in by_code:
            by_code[area_code] = coverage.Counts(area_code)
    kept = [c for c in by_code.values() if actor.reaches(c.code)]
    direct = width == coverage.below(full, None)
    for child in kept:
        child.name = names.get(child.code, child.code)
        parent = codes.parent_of(child.code)
        child.within = "" if direct or parent is None else names.get(parent, "")
    return total, ordered(kept, sort, descending)


def ordered(
    rows: list[coverage.Counts], sort: CoverageSort, descending: bool | None = None
) -> list[coverage.Counts]:
    """Rows ordered by a key, ties in code order; areas without red or yellow people come last
    when ordering by a share."""
    by_code = sorted(rows, key=lambda c: c.code)
    down = default_descending(sort) if descending is None else descending
    if sort is CoverageSort.code:
        return by_code[::-1] if down else by_code
    if sort.share:
        valued = [c for c in by_code if c.followed]
        empty = [c for c in by_code if not c.followed]
        return sorted(valued, key=lambda c: sort_value(c, sort), reverse=down) + empty
    return sorted(by_code, key=lambda c: sort_value(c, sort), reverse=down)


def sort_value(counts: coverage.Counts, sort: CoverageSort) -> float:
    """The figure of an area that a key orders by."""
    guarantee = sort.guarantee
    if guarantee is not None:
        return (counts.gap(guarantee) or 0.0) if sort.share else counts.missing(guarantee)
    if sort is CoverageSort.alerts:
        return counts.alerts_open
    return float(getattr(counts, sort.value))


def coverage_read(
    *,
    session: Session,
    actor: Actor,
    code: str,
    level: AreaLevel | None = None,
    sort: CoverageSort = CoverageSort.code,
    descending: bool | None = None,
) -> CoverageRead:
    """Coverage of an area today, with its children's or a deeper level's, ordered (the API's
    answer, the CLI's table)."""
    today = timeutil.today()
    total, children = area_coverage(
        session=session, actor=actor, code=code, today=today, level=level, sort=sort,
        descending=descending,
    )  # fmt: skip
    figures = CoverageFigures.of(total, total.name)
    return CoverageRead(
        **figures.model_dump(),
        as_of=today,
        level=level or (codes.level_of(total.code).child),
        sort=sort,
        descending=default_descending(sort) if descending is None else descending,
        children=[CoverageFigures.of(c, c.name) for c in children],
    )


def default_descending(sort: CoverageSort) -> bool:
    """Figures are ordered largest first (the biggest gap on top), the code order ascending."""
    return sort is not CoverageSort.code


def village_points(*, session: Session, actor: Actor, code: str) -> list[dict[str, Any]]:
    """Red and yellow people per village under an area, how many have all four guarantees and
    each one, with the village's position (JSON-ready, for maps)."""
    today = timeutil.today()
    found = coverage.villages(session=session, actor=actor, code=codes.normalise(code), today=today)
    counts = [c for c in found if c.followed]
    places = {
        code: (name, lon, lat)
        for code, name, lon, lat in session.execute(
            select(Area.code, Area.name, Area.lon, Area.lat).where(
                Area.code.in_([c.code for c in counts])
            )
        )
    }
    return [
        {"code": c.code, "name": places[c.code][0], "lon": places[c.code][1],
         "lat": places[c.code][2], "followed": c.followed,
         "covered": {"all": c.all_four} | {g.value: c.covered[g] for g in Guarantee}}
        for c in counts if c.code in places and places[c.code][1] is not None
    ]  # fmt: skip


def open_alerts(*, session: Session, person_ids: Sequence[int]) -> dict[int, int]:
    """Open referral alerts per person, for people the caller has already read (in scope)."""
    rows = session.execute(
        select(Alert.person_id, func.count())
        .where(
            Alert.person_id.in_(person_ids),
            Alert.kind == AlertKind.referral,
            Alert.status == AlertStatus.open,
        )
        .group_by(Alert.person_id)
    )
    return {person_id: n for person_id, n in rows if person_id is not None}


@dataclass(frozen=True)
class OpenAlert:
    """An open referral alert as lists and pages show it: whom, where, why (with the readings
    that met each trigger) and when it was raised."""

    alert_id: int
    person_id: int
    name: str
    village: str
    reasons: list[Text]
    raised_at: datetime
    suggestion: Text | None = None  # the nearest capable hospital with a free bed


def _described(session: Session, alerts: Sequence[Alert]) -> list[OpenAlert]:
    if not alerts:
        return []
    person_ids = {a.person_id for a in alerts if a.person_id is not None}
    names = {
        person_id: name
        for person_id, name in session.execute(
            select(Person.id, Person.name).where(Person.id.in_(person_ids))
        )
    }
    readings = {
        f.id: f
        for f in session.scalars(
            select(FollowUp).where(FollowUp.id.in_({a.follow_up_id for a in alerts}))
        )
    }
    villages = areas.names(session=session, area_codes=[a.area_code for a in alerts])
    return [
        OpenAlert(
            alert_id=a.id,
            person_id=a.person_id or 0,
            name=names.get(a.person_id or 0, ""),
            village=villages.get(a.area_code, a.area_code),
            reasons=followups.explain(a, readings.get(a.follow_up_id or 0)),
            raised_at=a.opened_at,
            suggestion=stored_text(a.suggestion),
        )
        for a in alerts
    ]


def alert_list(
    *, session: Session, actor: Actor, code: str, limit: int = 20
) -> tuple[list[OpenAlert], int]:
    """The newest open referral alerts under an area (at most ``limit``) and how many are open."""
    found, total = alert_service.list_alerts(
        session=session,
        actor=actor,
        limit=limit,
        f=alert_service.AlertFilter(
            area=codes.normalise(code), kinds=frozenset({AlertKind.referral})
        ),
    )
    return _described(session, found), total


def alerts_of(*, session: Session, person_ids: Sequence[int]) -> dict[int, list[OpenAlert]]:
    """The open referral alerts of people the caller has already read (in scope), newest
    first, per person."""
    found = session.scalars(
        select(Alert)
        .where(
            Alert.person_id.in_(person_ids),
            Alert.kind == AlertKind.referral,
            Alert.status == AlertStatus.open,
        )
        .order_by(Alert.id.desc())
    ).all()
    described: dict[int, list[OpenAlert]] = {}
    for alert in _described(session, found):
        described.setdefault(alert.person_id, []).append(alert)
    return described
