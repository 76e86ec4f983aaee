"""Reading and changing the administrative tree; every call checks the actor's scope."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Select, func, insert, or_, select, update
from sqlalchemy.orm import QueryableAttribute, Session

from lianfang.areas import codes
from lianfang.areas.choices import AGE_BANDS, AreaLevel, CoordSource, PopulationSource
from lianfang.areas.files import DivisionRow
from lianfang.areas.models import Area, AreaBoundary, AreaPopulation
from lianfang.areas.schemas import (
    AreaChild,
    AreaCounts,
    AreaDetail,
    AreaRead,
    AreaRef,
    LoadReport,
    MapData,
    MapPoint,
    PopulationRead,
)
from lianfang.auth import audit
from lianfang.auth.choices import AuditAction, Permission
from lianfang.auth.scope import Actor
from lianfang.errors import InvalidInputError, NotFoundError
from lianfang.i18n import _, listing

BAND_COLUMNS = [name for name, _label in AGE_BANDS]
COUNT_FIELDS = {
    AreaLevel.county: "counties",
    AreaLevel.town: "towns",
    AreaLevel.village: "villages",
}


def get_area(*, session: Session, actor: Actor, code: str) -> Area:
    """Get an area by any form of its code, within the actor's scope."""
    actor.require(Permission.areas_read)
    full = codes.normalise(code)
    area = session.get(Area, full)
    if area is None:
        raise NotFoundError(
            _("no area with code %(code)s (it may not have been loaded)", code=code),
        )
    actor.require_area(area.code, area.name)
    return area


def detail(*, session: Session, actor: Actor, code: str) -> AreaDetail:
    """Get an area with its ancestors, the counts below it and its population."""
    area = get_area(session=session, actor=actor, code=code)
    chain = []
    parent = codes.parent_of(area.code)
    while parent is not None:
        chain.append(parent)
        parent = codes.parent_of(parent)
    ancestors = session.scalars(select(Area).where(Area.code.in_(chain))).all()
    ordered = sorted(ancestors, key=lambda a: a.level.depth)
    prefix = codes.short(area.code)
    return AreaDetail(
        area=AreaRead.model_validate(area),
        ancestors=[AreaRef.model_validate(a) for a in ordered],
        counts=_counts_below(session, prefix, len(prefix)).get(prefix, AreaCounts()),
        population=_population_below(session, prefix, len(prefix)).get(prefix),
    )


def children(*, session: Session, actor: Actor, code: str) -> list[AreaChild]:
    """List an area's children with the counts and population below each (three queries)."""
    area = get_area(session=session, actor=actor, code=code)
    child_level = area.level.child
    if child_level is None:
        return []
    prefix = codes.short(area.code)
    width = codes.LEVEL_LENGTHS[child_level]
    kids = session.scalars(
        select(Area).where(Area.parent_code == area.code).order_by(Area.code)
    ).all()
    counts = _counts_below(session, prefix, width)
    people = _population_below(session, prefix, width)
    return [
        AreaChild(
            **AreaRead.model_validate(kid).model_dump(exclude={"short_code"}),
            counts=counts.get(codes.short(kid.code), AreaCounts()),
            population=people.get(codes.short(kid.code)),
        )
        for kid in kids
    ]


def _counts_below(session: Session, prefix: str, width: int) -> dict[str, AreaCounts]:
    """Descendant counts by level, grouped by the first ``width`` digits of the code."""
    key = func.substr(Area.code, 1, width)
    deeper = [level for level in COUNT_FIELDS if codes.LEVEL_LENGTHS[level] > width]
    rows = session.execute(
        select(key, Area.level, func.count())
        .where(codes.in_subtree(Area.code, prefix), Area.level.in_(deeper))
        .group_by(key, Area.level)
    ).all()
    found: dict[str, dict[str, int]] = defaultdict(dict)
    for group, level, count in rows:
        found[group][COUNT_FIELDS[level]] = count
    return {group: AreaCounts(**values) for group, values in found.items()}


def _population_below(session: Session, prefix: str, width: int) -> dict[str, PopulationRead]:
    """Population sums grouped by the first ``width`` digits of the village code."""
    key = func.substr(AreaPopulation.area_code, 1, width)
    sums = [func.sum(getattr(AreaPopulation, column)) for column in BAND_COLUMNS]
    rows = session.execute(
        select(key, AreaPopulation.source, *sums)
        .where(codes.in_subtree(AreaPopulation.area_code, prefix))
        .group_by(key, AreaPopulation.source)
    ).all()
    found: dict[str, PopulationRead] = {}
    for group, source, *values in rows:
        current = found.setdefault(group, PopulationRead())
        for column, value in zip(BAND_COLUMNS, values, strict=True):
            setattr(current, column, getattr(current, column) + int(value or 0))
        current.sources.append(source)
    return found


def search(*, session: Session, actor: Actor, query: str, limit: int = 20) -> list[AreaRead]:
    """Find areas in scope by part of the name or the start of the code."""
    actor.require(Permission.areas_read)
    text = query.strip()
    if not text:
        return []
    condition = Area.name.contains(text, autoescape=True)
    if text.isdigit():
        condition = or_(condition, Area.code.startswith(text, autoescape=True))
    depth = func.length(func.rtrim(Area.code, "0"))
    rows = session.scalars(
        select(Area)
        .where(condition, actor.area_filter(Area.code))
        .order_by(depth, Area.code)
        .limit(max(1, min(limit, 100)))
    ).all()
    return [AreaRead.model_validate(row) for row in rows]


def map_data(*, session: Session, actor: Actor, code: str) -> MapData:
    """Boundary polygons and town/village points for an area's map."""
    area = get_area(session=session, actor=actor, code=code)
    county_prefix = codes.short(area.code)[:6]
    shown_prefix = (
        codes.short(area.code) if area.level.depth <= AreaLevel.county.depth else county_prefix
    )
    boundaries = session.execute(
        select(AreaBoundary.area_code, AreaBoundary.geometry, Area.name)
        .join(Area, Area.code == AreaBoundary.area_code)
        .where(
            codes.in_subtree(AreaBoundary.area_code, shown_prefix), Area.level == AreaLevel.county
        )
    ).all()
    features = [
        {
            "type": "Feature",
            "properties": {"name": name, "code": code_},
            "geometry": json.loads(geometry),
        }
        for code_, geometry, name in boundaries
    ]
    points = _points(session, area)
    return MapData(
        boundaries={"type": "FeatureCollection", "features": features},
        points=points,
        placed=any(p.coord_source is CoordSource.placed for p in points),
    )


def _points(session: Session, area: Area) -> list[MapPoint]:
    """Towns and villages below an area (towns only for a province), or the village itself."""
    levels = (
        [AreaLevel.town]
        if area.level is AreaLevel.province
        else [AreaLevel.town, AreaLevel.village]
    )
    statement: Select[Area] = select(Area).where(Area.lon.is_not(None), Area.lat.is_not(None))
    if area.level is AreaLevel.village:
        statement = statement.where(Area.code == area.code)
    else:
        statement = statement.where(
            codes.in_subtree(Area.code, codes.short(area.code)), Area.level.in_(levels)
        )
    return [
        MapPoint(
            code=a.code,
            name=a.name,
            level=a.level,
            lon=a.lon,
            lat=a.lat,
            coord_source=a.coord_source,
        )
        for a in session.scalars(statement.order_by(Area.code))
        if a.lon is not None and a.lat is not None
    ]


def load_divisions(
    *,
    session: Session,
    actor: Actor,
    rows: Sequence[DivisionRow],
    boundaries: Mapping[str, dict[str, Any]],
    source: str,
) -> LoadReport:
    """Insert new divisions and rename changed ones, parents first; keep coordinates."""
    actor.require(Permission.areas_manage)
    existing = {
        code: (name, parent)
        for code, name, parent in session.execute(select(Area.code, Area.name, Area.parent_code))
    }
    _check_parents(rows, existing)
    new = [r for r in rows if r.code not in existing]
    changed = [
        r for r in rows if r.code in existing and existing[r.code] != (r.name, r.parent_code)
    ]
    for level in AreaLevel:  # parents before children, for the foreign key
        batch = [
            {"code": r.code, "name": r.name, "parent_code": r.parent_code, "level": r.level}
            for r in new
            if r.level is level
        ]
        if batch:
            session.execute(insert(Area), batch)
    if changed:
        session.execute(
            update(Area),
            [{"code": r.code, "name": r.name, "parent_code": r.parent_code} for r in changed],
        )
    stored = _store_boundaries(session, rows, boundaries, source)
    by_level: dict[str, int] = defaultdict(int)
    for row in rows:
        by_level[row.level.value] += 1
    report = LoadReport(
        inserted=len(new),
        updated=len(changed),
        unchanged=len(rows) - len(new) - len(changed),
        boundaries=stored,
        by_level=dict(by_level),
    )
    audit.record(
        session=session,
        actor=actor,
        action=AuditAction.load,
        entity_type="area",
        area_code=rows[0].code if rows else None,
        detail={"source": source, **report.model_dump()},
    )
    return report


def _check_parents(rows: Sequence[DivisionRow], existing: Mapping[str, object]) -> None:
    known = set(existing) | {row.code for row in rows}
    orphans = [row for row in rows if row.parent_code is not None and row.parent_code not in known]
    if orphans:
        first = orphans[0]
        raise InvalidInputError(
            _(
                "%(count)s area(s) have no parent, e.g. %(code)s %(name)s whose parent "
                "%(parent)s is neither loaded nor in the files",
                count=len(orphans),
                code=codes.short(first.code),
                name=first.name,
                parent=codes.short(first.parent_code or ""),
            )
        )


def _store_boundaries(
    session: Session, rows: Sequence[DivisionRow], shapes: Mapping[str, dict[str, Any]], source: str
) -> int:
    wanted = {row.code for row in rows} & set(shapes)
    records = [
        {"area_code": c, "geometry": json.dumps(shapes[c], separators=(",", ":")), "source": source}
        for c in sorted(wanted)
    ]
    _upsert_by_area(session, AreaBoundary, records)
    return len(records)


def _existing(session: Session, column: QueryableAttribute[str], keys: Iterable[str]) -> set[str]:
    """Which of the keys are already stored in ``column`` (asked in chunks of 5,000)."""
    ordered = sorted(set(keys))
    found: set[str] = set()
    for start in range(0, len(ordered), 5000):
        found.update(
            session.scalars(select(column).where(column.in_(ordered[start : start + 5000])))
        )
    return found


def _upsert_by_area(
    session: Session,
    model: type[AreaBoundary] | type[AreaPopulation],
    records: list[dict[str, Any]],
) -> None:
    """Insert the records whose area has no row yet and update the others, in bulk."""
    present = _existing(session, model.area_code, [r["area_code"] for r in records])
    fresh = [r for r in records if r["area_code"] not in present]
    if fresh:
        session.execute(insert(model), fresh)
    old = [r for r in records if r["area_code"] in present]
    if old:
        session.execute(update(model), old)


def boundaries(*, session: Session, actor: Actor, prefix: str) -> dict[str, str]:
    """Stored boundary geometries (GeoJSON text) of the areas under a code prefix."""
    actor.require(Permission.areas_read)
    rows = session.execute(
        select(AreaBoundary.area_code, AreaBoundary.geometry).where(
            codes.in_subtree(AreaBoundary.area_code, prefix),
            actor.area_filter(AreaBoundary.area_code),
        )
    )
    return {code: geometry for code, geometry in rows}


def set_coordinates(
    *,
    session: Session,
    actor: Actor,
    points: Mapping[str, tuple[float, float]],
    source: CoordSource,
    label: str,
) -> int:
    """Replace the coordinates of the given areas; every code must already be loaded."""
    actor.require(Permission.areas_manage)
    _require_loaded(session, actor, points.keys())
    if points:
        session.execute(
            update(Area),
            [
                {"code": code, "lon": lon, "lat": lat, "coord_source": source}
                for code, (lon, lat) in points.items()
            ],
        )
    audit.record(
        session=session,
        actor=actor,
        action=AuditAction.update,
        entity_type="area",
        detail={"coordinates": len(points), "source": source.value, "file": label},
    )
    return len(points)


def _require_loaded(session: Session, actor: Actor, wanted: Iterable[str]) -> None:
    wanted = set(wanted)
    ordered = sorted(wanted)
    found = _existing(session, Area.code, ordered)
    missing = sorted(wanted - found)
    if missing:
        raise NotFoundError(
            _(
                "%(count)s code(s) are not loaded areas: %(codes)s",
                count=len(missing),
                codes=listing(codes.short(c) for c in missing[:10]),
            )
        )
    outside = [c for c in ordered if not actor.reaches(c)]
    if outside:
        actor.require_area(outside[0])


def set_population(
    *,
    session: Session,
    actor: Actor,
    bands: Mapping[str, Sequence[int]],
    source: PopulationSource,
    year: int,
) -> int:
    """Replace village populations by age band (five counts per village, in AGE_BANDS order)."""
    actor.require(Permission.areas_manage)
    _require_loaded(session, actor, bands.keys())
    not_villages = [c for c in bands if codes.level_of(c) is not AreaLevel.village]
    if not_villages:
        raise InvalidInputError(
            _(
                "population is given per village; %(short)s is not a village",
                short=codes.short(not_villages[0]),
            ),
        )
    records = [
        {
            "area_code": code,
            **dict(zip(BAND_COLUMNS, values, strict=True)),
            "source": source,
            "year": year,
        }
        for code, values in bands.items()
    ]
    _upsert_by_area(session, AreaPopulation, records)
    audit.record(
        session=session,
        actor=actor,
        action=AuditAction.update,
        entity_type="area_population",
        detail={"villages": len(records), "source": source.value, "year": year},
    )
    return len(records)


def villages_by_county(*, session: Session, actor: Actor, prefix: str) -> dict[str, list[Area]]:
    """Villages under a prefix grouped by county code (12-digit), ordered by code."""
    actor.require(Permission.areas_read)
    grouped: dict[str, list[Area]] = defaultdict(list)
    rows = session.scalars(
        select(Area)
        .where(
            codes.in_subtree(Area.code, prefix),
            Area.level == AreaLevel.village,
            actor.area_filter(Area.code),
        )
        .order_by(Area.code)
    )
    for village in rows:
        grouped[village.code[:6].ljust(12, "0")].append(village)
    return grouped


def list_level(*, session: Session, actor: Actor, prefix: str, level: AreaLevel) -> list[Area]:
    """All areas of one level under a prefix, within scope, ordered by code."""
    actor.require(Permission.areas_read)
    return list(
        session.scalars(
            select(Area)
            .where(
                codes.in_subtree(Area.code, prefix),
                Area.level == level,
                actor.area_filter(Area.code),
            )
            .order_by(Area.code)
        )
    )


def names(*, session: Session, area_codes: Iterable[str]) -> dict[str, str]:
    """The names of areas by code (codes not found are left out), asked in chunks."""
    wanted = sorted(set(area_codes))
    found: dict[str, str] = {}
    for start in range(0, len(wanted), 5000):
        chunk = wanted[start : start + 5000]
        rows = session.execute(select(Area.code, Area.name).where(Area.code.in_(chunk)))
        found.update((code, name) for code, name in rows)
    return found


def names_below(*, session: Session, prefix: str) -> dict[str, str]:
    """The names of every area under a code prefix."""
    rows = session.execute(select(Area.code, Area.name).where(codes.in_subtree(Area.code, prefix)))
    return {code: name for code, name in rows}
