"""Facilities for tests, registered through the service."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from lianfang.auth.scope import SYSTEM
from lianfang.resources import service
from lianfang.resources.choices import FacilityType
from lianfang.resources.models import Facility, Item
from lianfang.resources.schemas import FacilityCreate


def facility(
    session: Session, code: str, area: str, kind: FacilityType = FacilityType.village_clinic,
    name: str | None = None,
) -> Facility:  # fmt: skip
    """A facility registered by the system actor (coordinates from its area)."""
    data = FacilityCreate(code=code, name=name or f"测试{code}", type=kind, area_code=area)
    return service.create_facility(session=session, actor=SYSTEM, data=data)


def item(session: Session, code: str) -> Item:
    """An item of the shipped catalogue."""
    found = session.scalar(select(Item).where(Item.code == code))
    assert found is not None, code
    return found
