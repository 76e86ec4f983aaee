"""Deterministic placement of towns and villages inside a county polygon (demo only).

There are no surveyed village coordinates in the shipped data, so the demo spreads town seats
over the county with a centroidal Voronoi layout (Lloyd's k-means over uniform samples of the
polygon) and puts each town's villages inside that town's cell, again spread out. Every placed
point is marked ``placed`` so pages can say it is not surveyed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

Points = NDArray[np.float64]


@dataclass(frozen=True)
class Town:
    """A town to place, with how many villages it has."""

    code: str
    villages: int


def sample_inside(shape: shapely.Geometry, count: int, rng: np.random.Generator) -> Points:
    """``count`` uniform random (lon, lat) points inside a polygon."""
    if shape.is_empty or count <= 0:
        raise ValueError("cannot sample from an empty shape")
    west, south, east, north = shape.bounds
    found: list[Points] = []
    total = 0
    shapely.prepare(shape)
    while total < count:
        batch = rng.uniform((west, south), (east, north), size=(max(count, 256) * 2, 2))
        keep = batch[shapely.contains_xy(shape, batch[:, 0], batch[:, 1])]
        found.append(keep)
        total += len(keep)
    return np.concatenate(found)[:count]


def _scaled(points: Points, lat0: float) -> Points:
    """Lon/lat scaled so that Euclidean distance is roughly proportional to kilometres."""
    return np.asarray(points * np.array([np.cos(np.radians(lat0)), 1.0]), dtype=np.float64)


def spread(
    samples: Points, k: int, rng: np.random.Generator, iterations: int = 12
) -> NDArray[np.int64]:
    """Indices of ``k`` samples spread evenly over the cloud (Lloyd, snapped to samples)."""
    if k >= len(samples):
        return np.arange(len(samples))
    lat0 = float(samples[:, 1].mean())
    xy = _scaled(samples, lat0)
    centres = xy[rng.choice(len(xy), size=k, replace=False)]
    for _ in range(iterations):
        nearest = _nearest(xy, centres)
        for j in range(k):
            members = xy[nearest == j]
            if len(members):
                centres[j] = members.mean(axis=0)
    chosen = np.empty(k, dtype=np.int64)
    taken: set[int] = set()
    for j in range(k):
        order = np.argsort(((xy - centres[j]) ** 2).sum(axis=1))
        pick = next(int(i) for i in order if int(i) not in taken)
        taken.add(pick)
        chosen[j] = pick
    return chosen


def _nearest(xy: Points, centres: Points) -> NDArray[np.int64]:
    distances = ((xy[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    return np.asarray(distances.argmin(axis=1), dtype=np.int64)


def place_county(
    shape: shapely.Geometry, towns: Sequence[Town], rng: np.random.Generator
) -> tuple[dict[str, tuple[float, float]], dict[str, list[tuple[float, float]]]]:
    """Town seats and, per town, its villages' points, all inside the polygon.

    Returns ``(seats, villages)``: seat (lon, lat) by town code, and per town code a list of
    (lon, lat), one per village in the order the caller will assign them.
    """
    if not towns:
        return {}, {}
    need = sum(t.villages for t in towns) + len(towns)
    samples = sample_inside(shape, max(3000, 30 * need), rng)
    seat_index = spread(samples, len(towns), rng)
    seats_xy = samples[seat_index]
    cells = _nearest(
        _scaled(samples, float(samples[:, 1].mean())),
        _scaled(seats_xy, float(samples[:, 1].mean())),
    )
    seats: dict[str, tuple[float, float]] = {}
    villages: dict[str, list[tuple[float, float]]] = {}
    for j, town in enumerate(towns):
        seats[town.code] = (float(seats_xy[j, 0]), float(seats_xy[j, 1]))
        cell = samples[(cells == j) & (np.arange(len(samples)) != seat_index[j])]
        if len(cell) < town.villages:  # a tiny cell: borrow the samples nearest the seat
            order = np.argsort(((samples - seats_xy[j]) ** 2).sum(axis=1))
            cell = samples[order[1 : town.villages + 1]]
        picked = cell[spread(cell, town.villages, rng)] if town.villages else cell[:0]
        villages[town.code] = [(float(x), float(y)) for x, y in picked]
    return seats, villages


def host_shape(
    own: shapely.Geometry | None,
    siblings: Sequence[shapely.Geometry],
    centre: tuple[float, float],
    villages: int,
) -> shapely.Geometry:
    """The polygon to place a county in: its own, else a disc around ``centre`` clipped to its
    siblings (a development zone with no published boundary lies inside its neighbours)."""
    if own is not None and not own.is_empty:
        return own
    radius_deg = 0.02 * max(3.0, float(np.sqrt(max(villages, 1))))
    disc = shapely.Point(centre).buffer(radius_deg)
    union = shapely.union_all(list(siblings)) if siblings else disc
    clipped = disc.intersection(union)
    return clipped if not clipped.is_empty and clipped.area > 0 else disc
