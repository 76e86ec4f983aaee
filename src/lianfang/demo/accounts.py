"""Demo sign-in accounts, one per kind of user, all invented."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from lianfang.areas import codes, service
from lianfang.areas.choices import AreaLevel
from lianfang.auth import service as auth
from lianfang.auth.choices import Role
from lianfang.auth.schemas import UserCreate
from lianfang.auth.scope import Actor


@dataclass(frozen=True)
class DemoAccount:
    """A demo account and the area it is scoped to."""

    username: str
    display_name: str
    role: Role
    area_code: str | None
    area_name: str


def plan(*, session: Session, actor: Actor, city: str) -> list[DemoAccount]:
    """One account per role: the city, 如东县, its first town and that town's first village."""
    prefix = codes.short(codes.normalise(city))
    city_area = service.get_area(session=session, actor=actor, code=prefix)
    counties = service.list_level(
        session=session, actor=actor, prefix=prefix, level=AreaLevel.county
    )
    county = next((c for c in counties if c.name == "如东县"), counties[0])
    town = service.list_level(
        session=session, actor=actor, prefix=codes.short(county.code), level=AreaLevel.town
    )[0]
    village = service.list_level(
        session=session, actor=actor, prefix=codes.short(town.code), level=AreaLevel.village
    )[0]
    return [
        DemoAccount("admin", "系统管理员", Role.admin, None, "全部"),
        DemoAccount(
            "commander", "陈指挥（演示）", Role.city_commander, city_area.code, city_area.name
        ),
        DemoAccount(
            "district", "吴操作员（演示）", Role.district_operator, county.code, county.name
        ),
        DemoAccount("town", "孙操作员（演示）", Role.town_operator, town.code, town.name),
        DemoAccount("village", "周村医（演示）", Role.village_worker, village.code, village.name),
        DemoAccount(
            "hospital", "郑医院（演示）", Role.hospital_operator, city_area.code, city_area.name
        ),
        DemoAccount(
            "inspector", "冯检查员（演示）", Role.safety_inspector, city_area.code, city_area.name
        ),
        DemoAccount("viewer", "卫观察员（演示）", Role.viewer, city_area.code, city_area.name),
    ]


def ensure(*, session: Session, actor: Actor, accounts: list[DemoAccount], password: str) -> None:
    """Create the accounts that do not exist; give every one of them ``password``."""
    for account in accounts:
        user = auth.get_user(session=session, username=account.username)
        if user is None:
            auth.create_user(
                session=session,
                actor=actor,
                user_in=UserCreate(
                    username=account.username,
                    display_name=account.display_name,
                    role=account.role,
                    area_code=account.area_code,
                    password=password,
                ),
            )
        else:
            auth.set_password(session=session, actor=actor, user=user, password=password)


def link_responsibles(*, session: Session, actor: Actor, accounts: list[DemoAccount]) -> int:
    """Link each demo village worker to a responsible person of their village — its first
    village doctor without an account, else a new one in their name — so that the tasks of
    their people's alerts reach them ("my tasks"); return how many were linked."""
    from sqlalchemy import select

    from lianfang.people import service as people
    from lianfang.people.choices import ResponsibleKind
    from lianfang.people.models import Responsible

    linked = 0
    for account in accounts:
        if account.role is not Role.village_worker or account.area_code is None:
            continue
        user = auth.get_user(session=session, username=account.username)
        if user is None:
            continue
        mine = session.scalar(select(Responsible).where(Responsible.user_id == user.id))
        if mine is not None:
            continue
        found = session.scalar(
            select(Responsible)
            .where(Responsible.area_code == account.area_code, Responsible.user_id.is_(None))
            .order_by((Responsible.kind != ResponsibleKind.village_doctor), Responsible.id)
        )
        if found is None:
            name = account.display_name.split("（")[0]
            found = people.add_responsible(
                session=session, actor=actor, responsible=Responsible(
                    area_code=account.area_code, name=name, kind=ResponsibleKind.village_doctor
                ),
            )  # fmt: skip
        people.link_user(
            session=session, actor=actor, responsible_id=found.id, username=account.username
        )
        linked += 1
    return linked
