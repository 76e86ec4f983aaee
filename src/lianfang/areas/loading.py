"""Load a directory of division files (the shipped Jiangsu data or a user's) in one transaction."""

from __future__ import annotations

from importlib.resources.abc import Traversable
from typing import Any

import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from lianfang.areas import codes, service
from lianfang.areas.choices import AreaLevel, CoordSource
from lianfang.areas.files import JIANGSU, find, read_boundaries, read_divisions, read_points
from lianfang.areas.models import Area
from lianfang.areas.schemas import LoadReport
from lianfang.auth.scope import Actor

DEFAULT_CITY = "3206"
"""Nantong, the first city lianfang serves."""


def load_directory(
    *, session: Session, actor: Actor, directory: Traversable = JIANGSU, within: str | None = None
) -> LoadReport:
    """Load divisions, boundaries and centroids from a directory, optionally one area's subtree."""
    rows = read_divisions(directory, within=within)
    shapes = read_boundaries(directory)
    report = service.load_divisions(
        session=session, actor=actor, rows=rows, boundaries=shapes, source=str(directory)
    )
    wanted = {row.code for row in rows if row.level.depth <= AreaLevel.county.depth}
    centres = _centres(directory, shapes, wanted)
    unplaced = set(
        session.scalars(
            select(Area.code).where(
                Area.code.in_(list(centres)),
                (Area.coord_source.is_(None)) | (Area.coord_source == CoordSource.centroid),
            )
        )
    )
    service.set_coordinates(
        session=session,
        actor=actor,
        points={c: p for c, p in centres.items() if c in unplaced},
        source=CoordSource.centroid,
        label=str(directory),
    )
    return report


def _centres(
    directory: Traversable, shapes: dict[str, dict[str, Any]], wanted: set[str]
) -> dict[str, tuple[float, float]]:
    """Published centroids where given, else a point inside the boundary polygon."""
    path = find(directory, "centroids")
    published = read_points(path) if path is not None else {}
    centres = {code: point for code, point in published.items() if code in wanted}
    for code in wanted - set(centres):
        if code in shapes:
            inside = shapely.geometry.shape(shapes[code]).representative_point()
            centres[code] = (float(inside.x), float(inside.y))
    return centres


def describe(within: str | None) -> str:
    """A short label for what a load covers."""
    return codes.short(codes.normalise(within)) if within else "all"
