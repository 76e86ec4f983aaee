"""Build the demo world: Nantong's real divisions, placed coordinates, synthetic population."""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np
import shapely
from sqlalchemy.orm import Session

from lianfang.areas import codes, service
from lianfang.areas.choices import AreaLevel, CoordSource, PopulationSource
from lianfang.areas.files import SHIPPED, open_text
from lianfang.areas.loading import DEFAULT_CITY, load_directory
from lianfang.areas.models import Area
from lianfang.auth.scope import Actor
from lianfang.demo import people, placement, population, story
from lianfang.demo import resources as demo_resources
from lianfang.demo import service as demo_service
from lianfang.errors import InvalidInputError
from lianfang.i18n import _

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class WorldReport:
    """What the demo world holds after a build."""

    counties: int
    towns: int
    villages: int
    residents: int
    placed_points: int
    people: people.PeopleReport
    today: date
    resources: demo_resources.ResourcesReport


def census_totals() -> dict[str, int]:
    """Residents by county (12-digit code) from the shipped 2020 census table."""
    path = SHIPPED / "census_2020.csv"
    with open_text(path) as handle:
        return {codes.normalise(r["code"]): int(r["residents"]) for r in csv.DictReader(handle)}


def build(
    *,
    session: Session,
    actor: Actor,
    seed: int,
    scale: str = "demo",
    city: str = DEFAULT_CITY,
    progress: Progress | None = None,
    people_share: float | None = None,
    today: date = story.TODAY,
) -> WorldReport:
    """Load the city, place its towns and villages, give villages a population and key people
    dated in the days before ``today``, record the build with its day.

    ``people_share`` overrides the share of key people the scale draws (0 for none): tests use a
    small sample to stay fast.

    Refuses (ConflictError) when the city already holds surveyed coordinates or census figures."""
    if scale not in demo_service.SCALES:
        raise InvalidInputError(_("scale must be demo or city, not '%(scale)s'", scale=scale))
    if today < story.EARLIEST_TODAY:
        raise InvalidInputError(
            _(
                "the demo's day must be %(earliest)s or later, not %(today)s",
                earliest=story.EARLIEST_TODAY.isoformat(),
                today=today.isoformat(),
            )
        )
    tick = progress or (lambda _stage, _done, _total: None)
    prefix = codes.short(codes.normalise(city))
    demo_service.refuse_real_data(session=session, prefix=prefix)
    load_directory(session=session, actor=actor, within=prefix)
    counties = service.list_level(
        session=session, actor=actor, prefix=prefix, level=AreaLevel.county
    )
    towns = service.list_level(session=session, actor=actor, prefix=prefix, level=AreaLevel.town)
    villages = service.villages_by_county(session=session, actor=actor, prefix=prefix)
    shapes = {
        c: shapely.from_geojson(g)
        for c, g in service.boundaries(session=session, actor=actor, prefix=prefix).items()
    }
    city_area = service.get_area(session=session, actor=actor, code=prefix)
    points: dict[str, tuple[float, float]] = {}
    for done, county in enumerate(counties, start=1):
        tick("placing", done, len(counties))
        county_towns = [t for t in towns if t.code.startswith(county.code[:6])]
        points.update(
            _place(
                county,
                county_towns,
                villages[county.code],
                shapes,
                (city_area.lon or 0.0, city_area.lat or 0.0),
                seed,
            )
        )
    service.set_coordinates(
        session=session,
        actor=actor,
        points=points,
        source=CoordSource.placed,
        label="demo placement",
    )
    residents = _populate(session, actor, villages, seed)
    tick("population", 1, 1)
    # Facilities first: each key person's designated hospital is one of them.
    stock = demo_resources.generate(
        session=session, actor=actor, seed=seed, prefix=prefix, today=today
    )
    tick("resources", 1, 1)
    share = people.SHARE[scale] if people_share is None else people_share
    key_people = (
        people.generate(
            session=session, actor=actor, seed=seed, share=share, prefix=prefix, today=today
        )
        if share > 0
        else people.PeopleReport()
    )
    tick("people", 1, 1)
    demo_service.record_build(
        session=session,
        actor=actor,
        area_code=city_area.code,
        seed=seed,
        scale=scale,
        today=today,
    )
    return WorldReport(
        counties=len(counties),
        towns=len(towns),
        villages=sum(len(v) for v in villages.values()),
        residents=residents,
        placed_points=len(points),
        people=key_people,
        today=today,
        resources=stock,
    )


def _place(
    county: Area,
    towns: list[Area],
    villages: list[Area],
    shapes: dict[str, shapely.Geometry],
    city_centre: tuple[float, float],
    seed: int,
) -> dict[str, tuple[float, float]]:
    """Coordinates for one county's towns and villages."""
    by_town: dict[str, list[Area]] = defaultdict(list)
    for village in villages:
        by_town[village.code[:9].ljust(12, "0")].append(village)
    siblings = [s for c, s in shapes.items() if c[:4] == county.code[:4] and c != county.code]
    shape = placement.host_shape(shapes.get(county.code), siblings, city_centre, len(villages))
    rng = np.random.default_rng([seed, int(county.code)])
    plan = [placement.Town(code=t.code, villages=len(by_town[t.code])) for t in towns]
    seats, spots = placement.place_county(shape, plan, rng)
    points = dict(seats)
    if county.lon is None or county.lat is None:
        inside = shape.representative_point()
        points[county.code] = (float(inside.x), float(inside.y))
    for town in towns:
        points.update(zip((v.code for v in by_town[town.code]), spots[town.code], strict=True))
    return points


def _populate(session: Session, actor: Actor, villages: dict[str, list[Area]], seed: int) -> int:
    """Synthetic age bands for every village of the counties in the census table."""
    totals = census_totals()
    counties = [c for c in sorted(villages) if c in totals]
    rng = np.random.default_rng([seed, 2020])
    matrices = population.city_bands(
        [totals[c] for c in counties],
        [[population.is_community(v.name) for v in villages[c]] for c in counties],
        rng,
    )
    bands: dict[str, list[int]] = {}
    for county_code, matrix in zip(counties, matrices, strict=True):
        for village, row in zip(villages[county_code], matrix, strict=True):
            bands[village.code] = [int(x) for x in row]
    service.set_population(
        session=session, actor=actor, bands=bands, source=PopulationSource.synthetic, year=2020
    )
    return sum(sum(v) for v in bands.values())
