"""Test data: users of every role, scoped the way the demo world scopes them."""

from __future__ import annotations

from sqlalchemy.orm import Session

from lianfang.auth import service as auth
from lianfang.auth.choices import Role
from lianfang.auth.models import User
from lianfang.auth.schemas import UserCreate
from lianfang.auth.scope import SYSTEM, Actor

PASSWORD = "correct-horse-battery"
CITY = "320600000000"  # 南通市
COUNTY = "320623000000"  # 如东县
TOWN = "320623001000"  # 掘港街道
VILLAGE = "320623001001"  # first village of 掘港街道
OTHER_TOWN = "320623100000"  # 栟茶镇, same county
OTHER_COUNTY_TOWN = "320612001000"  # 金沙街道, 通州区

ROLE_AREAS: dict[Role, str | None] = {
    Role.admin: None,
    Role.city_commander: CITY,
    Role.district_operator: COUNTY,
    Role.town_operator: TOWN,
    Role.village_worker: VILLAGE,
    Role.hospital_operator: CITY,
    Role.safety_inspector: CITY,
    Role.viewer: CITY,
}


def make_user(
    session: Session,
    *,
    username: str,
    role: Role,
    area_code: str | None,
    password: str = PASSWORD,
    actor: Actor = SYSTEM,
) -> User:
    """Create a user through the service, as an administrator would."""
    return auth.create_user(
        session=session,
        actor=actor,
        user_in=UserCreate(
            username=username,
            display_name=f"测试{username}",
            role=role,
            area_code=area_code,
            password=password,
        ),
    )


def role_username(role: Role) -> str:
    """The username of the standing test user of a role."""
    return f"t_{role.value}"


def actor_of(role: Role) -> Actor:
    """An actor of a role scoped as in ROLE_AREAS (no database user behind it)."""
    return Actor(user_id=None, username=role_username(role), role=role, area_code=ROLE_AREAS[role])


def id_number(born: str, seq: int = 1, region: str = "320623") -> str:
    """A valid 18-digit resident ID for a birth date 'YYYYMMDD' (odd ``seq`` for men)."""
    from lianfang.people.identity import check_digit

    body = f"{region}{born}{seq:03d}"
    return body + check_digit(body)


VILLAGE_2 = "320623001002"  # second village of 掘港街道
OTHER_TOWN_VILLAGE = "320623100001"  # a village of 栟茶镇


def add_hospital(
    session: Session, *, code: str, name: str, area_code: str = COUNTY,
    capabilities: frozenset[str] = frozenset({"general"}), status: str = "open",
) -> int:  # fmt: skip
    """A hospital of the resources register (a county hospital by default); its id."""
    from lianfang.resources.choices import Capability, FacilityStatus, FacilityType
    from lianfang.resources.models import Facility

    place = Facility(
        code=code, name=name, type=FacilityType.secondary_hospital, area_code=area_code,
        capabilities=frozenset(Capability(c) for c in capabilities),
        status=FacilityStatus(status),
    )  # fmt: skip
    session.add(place)
    session.flush()
    return place.id


def opening_kit(session: Session, person_id: int, kit: str, day: object) -> None:
    """A kit recorded as delivered before the ledger (as the migration keeps one), derived."""
    from lianfang.people import kits
    from lianfang.people.choices import Grade
    from lianfang.people.models import Person

    person = session.get(Person, person_id)
    assert person is not None
    person.kit_opening, person.kit_opening_on = Grade(kit), day  # type: ignore[assignment]
    kits.refresh(session=session, actor=SYSTEM, people=[person])
