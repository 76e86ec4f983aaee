"""API for medical resources (医疗资源): the reserve of an area."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from lianfang.api.deps import CurrentActor, Route, SessionDep
from lianfang.resources import reserve
from lianfang.resources.schemas import ReserveRead

router = APIRouter(tags=["resources 医疗资源"], route_class=Route)


@router.get(
    "/resources/reserve",
    response_model=ReserveRead,
    summary="Stock, days of supply, targets and shortfalls of an area",
    responses={403: {"description": "the area is outside your scope"},
               404: {"description": "no such area"}},
)  # fmt: skip
def area_reserve(
    session: SessionDep,
    actor: CurrentActor,
    area: Annotated[str, Query(description="area code (any form)")],
    short: Annotated[bool, Query(description="only rows below target")] = False,
) -> ReserveRead:
    """Per facility and item: balance (stale when older than `stale_hours`), days of supply,
    the reserve target, the shortfall and the nearest facility that could transfer."""
    return ReserveRead.of(reserve.reserve(session=session, actor=actor, area_code=area), short)
