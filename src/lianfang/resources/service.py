"""Reading and changing facilities, their capacity reports, key institutions, staff strength,
staff sent down, pairing, operators and reserve targets. Stock movements are in ``ledger``;
the read models that pages, API and CLI share in ``views`` and ``reserve``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.areas import codes
from lianfang.areas.models import Area
from lianfang.auth import audit
from lianfang.auth.choices import AuditAction, Permission, Role
from lianfang.auth.models import User
from lianfang.auth.scope import Actor
from lianfang.config import get_settings
from lianfang.db.engine import begin_write
from lianfang.errors import ConflictError, InvalidInputError, NotFoundError
from lianfang.i18n import _
from lianfang.people import hospitals
from lianfang.resources.choices import FacilityStatus, FacilityType
from lianfang.resources.ledger import facility as get_facility
from lianfang.resources.ledger import item, require_report
from lianfang.resources.models import (
    CapacityReport,
    Facility,
    FacilityOperator,
    Institution,
    Pairing,
    ReserveTarget,
    StaffMove,
    StaffStrength,
)
from lianfang.resources.schemas import (
    CapacityCreate,
    FacilityCreate,
    FacilityUpdate,
    InstitutionWrite,
    PairingCreate,
    StaffMoveCreate,
    StaffWrite,
    TargetWrite,
)

MAX_PAGE = 500

__all__ = ["get_facility"]


def stale_after() -> timedelta:
    """How old a reported figure may be before it is flagged stale (setting ``stale_hours``)."""
    return timedelta(hours=get_settings().stale_hours)


def is_stale(reported_at: datetime | None, now: datetime | None = None) -> bool:
    """True when a figure was never reported or is older than the stale age."""
    if reported_at is None:
        return True
    return (now or timeutil.now()) - reported_at > stale_after()


@dataclass(frozen=True)
class FacilityFilter:
    """Which facilities a list or map shows."""

    area: str
    types: frozenset[FacilityType] = frozenset()
    statuses: frozenset[FacilityStatus] = frozenset()
    q: str = ""
    stale_only: bool = False


def area_in_scope(session: Session, actor: Actor, raw: str) -> Area:
    """An area of the actor's scope, by a code in any form (404 unknown, 403 out of scope)."""
    code = codes.normalise(raw)
    area = session.get(Area, code)
    if area is None:
        raise NotFoundError(_("no area with code %(code)s", code=codes.short(code)))
    actor.require_area(code, area.name)
    return area


def facility_query(actor: Actor, f: FacilityFilter) -> list[object]:
    """The WHERE clauses of a facility filter (scope included)."""
    actor.require(Permission.resources_read)
    actor.require_area(f.area)
    where: list[object] = [
        actor.area_filter(Facility.area_code),
        codes.in_subtree(Facility.area_code, codes.short(f.area)),
    ]
    if f.types:
        where.append(Facility.type.in_(f.types))
    if f.statuses:
        where.append(Facility.status.in_(f.statuses))
    if f.q.strip():
        where.append(Facility.name.contains(f.q.strip()))
    return where


def create_facility(*, session: Session, actor: Actor, data: FacilityCreate) -> Facility:
    """Register a facility in an area of the actor's scope."""
    actor.require(Permission.resources_manage)
    area = area_in_scope(session, actor, data.area_code)
    begin_write(session)
    if session.scalar(select(Facility.id).where(Facility.code == data.code)) is not None:
        raise ConflictError(_("facility code %(code)s is taken", code=data.code))
    values = data.model_dump(exclude={"area_code", "capabilities", "lon", "lat"})
    place = Facility(
        **values, area_code=area.code, capabilities=frozenset(data.capabilities),
        lon=data.lon if data.lon is not None else area.lon,
        lat=data.lat if data.lat is not None else area.lat,
    )  # fmt: skip
    session.add(place)
    session.flush()
    audit.record(
        session=session, actor=actor, action=AuditAction.create, entity_type="facility",
        entity_id=str(place.id), area_code=place.area_code,
        detail={"code": place.code, "type": place.type.value},
    )  # fmt: skip
    return place


def update_facility(
    *, session: Session, actor: Actor, facility_id: int, data: FacilityUpdate
) -> Facility:
    """Change a facility's details or status (a hospital operator may change its status)."""
    place = get_facility(session, actor, facility_id)
    changes = data.model_dump(exclude_unset=True)
    if set(changes) - {"status"}:
        actor.require(Permission.resources_manage)
        actor.require_area(place.area_code)
    else:
        require_report(session, actor, place)
    begin_write(session)
    before = {k: _plain(getattr(place, k)) for k in changes}
    for key, value in changes.items():
        setattr(place, key, frozenset(value) if key == "capabilities" else value)
    session.flush()
    if {"capabilities", "status"} & set(changes):  # 有医治 of the people designated to it
        hospitals.rejudge(session, [place.id])
    audit.record(
        session=session, actor=actor, action=AuditAction.update, entity_type="facility",
        entity_id=str(place.id), area_code=place.area_code,
        detail={k: [before[k], _plain(getattr(place, k))] for k in changes},
    )  # fmt: skip
    return place


def _plain(value: object) -> object:
    if isinstance(value, frozenset):
        return sorted(str(v) for v in value)
    return str(value) if value is not None and not isinstance(value, int | float) else value


def report_capacity(
    *, session: Session, actor: Actor, facility_id: int, data: CapacityCreate,
    reported_at: datetime | None = None,
) -> CapacityReport:  # fmt: skip
    """Add a capacity report (now, unless the time it was counted is given)."""
    place = get_facility(session, actor, facility_id)
    require_report(session, actor, place)
    at = reported_at or timeutil.now()
    if at > timeutil.now() + timedelta(minutes=5):
        raise InvalidInputError(_("a capacity report cannot be dated in the future"))
    begin_write(session)
    report = CapacityReport(
        facility_id=place.id, area_code=place.area_code, reported_at=at,
        username=actor.username, **data.model_dump(),
    )  # fmt: skip
    session.add(report)
    session.flush()
    audit.record(
        session=session, actor=actor, action=AuditAction.create, entity_type="capacity_report",
        entity_id=str(report.id), area_code=place.area_code,
        detail={"facility_id": place.id, **data.model_dump(exclude_none=True)},
    )  # fmt: skip
    return report


def capacity_history(
    *, session: Session, actor: Actor, facility_id: int, days: int = 30
) -> Sequence[CapacityReport]:
    """A facility's capacity reports of the last ``days`` days, oldest first."""
    place = get_facility(session, actor, facility_id)
    since = timeutil.now() - timedelta(days=days)
    return session.scalars(
        select(CapacityReport)
        .where(CapacityReport.facility_id == place.id, CapacityReport.reported_at >= since)
        .order_by(CapacityReport.reported_at)
    ).all()


def latest_capacity(session: Session, facility_ids: Sequence[int]) -> dict[int, CapacityReport]:
    """The newest capacity report of each facility (from the (facility, time) index)."""
    if not facility_ids:
        return {}
    newest = (
        select(CapacityReport.facility_id, func.max(CapacityReport.reported_at).label("at"))
        .where(CapacityReport.facility_id.in_(facility_ids))
        .group_by(CapacityReport.facility_id)
        .subquery()
    )
    rows = session.scalars(
        select(CapacityReport).join(
            newest,
            (CapacityReport.facility_id == newest.c.facility_id)
            & (CapacityReport.reported_at == newest.c.at),
        )
    ).all()
    return {r.facility_id: r for r in rows}


def set_institution(
    *, session: Session, actor: Actor, facility_id: int, data: InstitutionWrite
) -> Institution:
    """Record a key institution's state (beds, residents, ill, last inspection)."""
    place = get_facility(session, actor, facility_id)
    require_report(session, actor, place)
    if place.type is not FacilityType.nursing_home:
        raise InvalidInputError(_("%(name)s is not a nursing home", name=place.name))
    begin_write(session)
    row = session.get(Institution, place.id)
    if row is None:
        row = Institution(facility_id=place.id, area_code=place.area_code, **data.model_dump())
        session.add(row)
    else:
        for key, value in data.model_dump().items():
            setattr(row, key, value)
    row.reported_at = timeutil.now()
    session.flush()
    audit.record(
        session=session, actor=actor, action=AuditAction.update, entity_type="institution",
        entity_id=str(place.id), area_code=place.area_code, detail=data.model_dump(mode="json"),
    )  # fmt: skip
    return row


def set_staff(
    *, session: Session, actor: Actor, facility_id: int, data: StaffWrite
) -> StaffStrength:
    """Record one role's staff strength at a facility."""
    place = get_facility(session, actor, facility_id)
    require_report(session, actor, place)
    begin_write(session)
    row = session.scalar(
        select(StaffStrength).where(
            StaffStrength.facility_id == place.id, StaffStrength.role == data.role
        )
    )
    if row is None:
        row = StaffStrength(facility_id=place.id, area_code=place.area_code, **data.model_dump())
        session.add(row)
    else:
        for key, value in data.model_dump().items():
            setattr(row, key, value)
    row.reported_at = timeutil.now()
    session.flush()
    audit.record(
        session=session, actor=actor, action=AuditAction.update, entity_type="staff_strength",
        entity_id=str(row.id), area_code=place.area_code, detail=data.model_dump(mode="json"),
    )  # fmt: skip
    return row


def add_staff_move(
    *, session: Session, actor: Actor, facility_id: int, data: StaffMoveCreate
) -> StaffMove:
    """Record someone sent down or reassigned from this facility to another."""
    origin = get_facility(session, actor, facility_id)
    require_report(session, actor, origin)
    target = session.get(Facility, data.to_facility_id)
    if target is None or target.id == origin.id:
        raise NotFoundError(_("no other facility with id %(id)s", id=data.to_facility_id))
    begin_write(session)
    move = StaffMove(
        kind=data.kind, name=data.name, role=data.role, from_id=origin.id, to_id=target.id,
        area_code=target.area_code, start_on=data.start_on, end_on=data.end_on,
    )  # fmt: skip
    session.add(move)
    session.flush()
    audit.record(
        session=session, actor=actor, action=AuditAction.create, entity_type="staff_move",
        entity_id=str(move.id), area_code=target.area_code,
        detail={"from": origin.id, "to": target.id, "kind": data.kind.value},
    )  # fmt: skip
    return move


def add_pairing(
    *, session: Session, actor: Actor, facility_id: int, data: PairingCreate
) -> Pairing:
    """Pair an urban hospital with a county hospital or township health centre."""
    actor.require(Permission.resources_manage)
    urban = get_facility(session, actor, facility_id)
    partner = get_facility(session, actor, data.partner_id)
    if urban.type not in (FacilityType.tertiary_hospital, FacilityType.secondary_hospital):
        raise InvalidInputError(_("%(name)s is not an urban hospital", name=urban.name))
    begin_write(session)
    exists = session.scalar(
        select(Pairing.id).where(Pairing.urban_id == urban.id, Pairing.partner_id == partner.id)
    )
    if exists is not None:
        raise ConflictError(_("these two facilities are already paired"))
    pairing = Pairing(
        urban_id=urban.id, partner_id=partner.id, area_code=partner.area_code, since=data.since
    )
    session.add(pairing)
    session.flush()
    audit.record(
        session=session, actor=actor, action=AuditAction.create, entity_type="pairing",
        entity_id=str(pairing.id), area_code=partner.area_code,
        detail={"urban": urban.id, "partner": partner.id},
    )  # fmt: skip
    return pairing


def assign_operator(
    *, session: Session, actor: Actor, facility_id: int, user_id: int
) -> FacilityOperator:
    """Name a hospital operator as reporting for a facility."""
    actor.require(Permission.users_manage)
    place = get_facility(session, actor, facility_id)
    actor.require_area(place.area_code)
    user = session.get(User, user_id)
    if user is None or not (user.area_code and actor.reaches(user.area_code)):
        raise NotFoundError(_("no user with id %(id)s", id=user_id))
    if user.role is not Role.hospital_operator:
        raise InvalidInputError(_("only a hospital operator is named for a facility"))
    begin_write(session)
    row = session.get(FacilityOperator, (place.id, user.id))
    if row is None:
        row = FacilityOperator(facility_id=place.id, user_id=user.id, area_code=place.area_code)
        session.add(row)
        session.flush()
        audit.record(
            session=session, actor=actor, action=AuditAction.create,
            entity_type="facility_operator", entity_id=f"{place.id}:{user.id}",
            area_code=place.area_code, detail={"username": user.username},
        )  # fmt: skip
    return row


def set_target(*, session: Session, actor: Actor, data: TargetWrite) -> ReserveTarget:
    """Set an area's own reserve target for an item at a type of facility."""
    actor.require(Permission.resources_manage)
    area = area_in_scope(session, actor, data.area_code)
    thing = item(session, data.item_id)
    begin_write(session)
    row = session.scalar(
        select(ReserveTarget).where(
            ReserveTarget.area_code == area.code,
            ReserveTarget.item_id == thing.id,
            ReserveTarget.facility_type == data.facility_type,
        )
    )
    if row is None:
        row = ReserveTarget(
            area_code=area.code, item_id=thing.id, facility_type=data.facility_type,
            username=actor.username,
        )  # fmt: skip
        session.add(row)
    row.per_facility, row.population_share = data.per_facility, data.population_share
    row.username = actor.username
    session.flush()
    audit.record(
        session=session, actor=actor, action=AuditAction.update, entity_type="reserve_target",
        entity_id=str(row.id), area_code=area.code,
        detail={"item": thing.code, "type": data.facility_type.value,
                "per_facility": data.per_facility, "population_share": data.population_share},
    )  # fmt: skip
    return row
