"""API for areas."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from lianfang.api.deps import CurrentActor, Route, SessionDep
from lianfang.areas import service
from lianfang.areas.schemas import AreaChild, AreaDetail, AreaRead, MapData

router = APIRouter(prefix="/areas", tags=["areas 区划"], route_class=Route)


@router.get("", response_model=list[AreaRead], summary="Search areas by name or code")
def search_areas(
    session: SessionDep,
    actor: CurrentActor,
    q: Annotated[
        str, Query(min_length=1, max_length=50, description="part of a name, or a code prefix")
    ],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[AreaRead]:
    """Areas within your scope whose name contains q or whose code starts with it."""
    return service.search(session=session, actor=actor, query=q, limit=limit)


@router.get("/{code}", response_model=AreaDetail, summary="An area with ancestors and counts")
def get_area(code: str, session: SessionDep, actor: CurrentActor) -> AreaDetail:
    """The area (any code form: 32, 3206, 320612, 320612101, 12 digits), its ancestors, how many
    counties, towns and villages lie below it, and its population by age band."""
    return service.detail(session=session, actor=actor, code=code)


@router.get("/{code}/children", response_model=list[AreaChild], summary="Children with population")
def get_children(code: str, session: SessionDep, actor: CurrentActor) -> list[AreaChild]:
    """The area's children, each with the counts and population below it."""
    return service.children(session=session, actor=actor, code=code)


@router.get("/{code}/map", response_model=MapData, summary="Boundaries and points for a map")
def get_map(code: str, session: SessionDep, actor: CurrentActor) -> MapData:
    """County polygons (GeoJSON) and town/village points; `placed` says when points were placed
    for the demo rather than surveyed."""
    return service.map_data(session=session, actor=actor, code=code)
