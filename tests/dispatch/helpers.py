"""Dispatch test helpers: actors with real user rows, and a directive to three villages."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.areas.choices import AreaLevel
from lianfang.auth.choices import Role
from lianfang.auth.models import User
from lianfang.auth.scope import Actor
from lianfang.dispatch import service
from lianfang.dispatch.models import Directive
from tests.factories import CITY, OTHER_TOWN_VILLAGE, VILLAGE, VILLAGE_2, make_user, role_username

THREE_VILLAGES = (VILLAGE, VILLAGE_2, OTHER_TOWN_VILLAGE)


def actor(
    session: Session, role: Role, username: str | None = None, area: str | None = None
) -> Actor:
    """The actor of a standing test user of the role, or of a new user in ``area``."""
    if username is None:
        user = session.scalars(select(User).where(User.username == role_username(role))).one()
    else:
        user = make_user(session, username=username, role=role, area_code=area)
    return Actor(user_id=user.id, username=user.username, role=role, area_code=user.area_code)


def three_villages(session: Session, days: int = 3) -> Directive:
    """A city directive cascaded to three villages (two towns of 如东县)."""
    commander = actor(session, Role.city_commander)
    return service.issue(session=session, actor=commander, data=service.DirectiveInput(
        area=CITY, title="对65岁以上老人开展健康随访", text="逐户随访，登记血氧。",
        to_level=AreaLevel.village, deadline=timeutil.today() + timedelta(days=days),
        targets=THREE_VILLAGES, departments=("卫健委",),
    ))  # fmt: skip
