"""Reading and recording demo-world builds."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, func, inspect, select
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.areas.choices import CoordSource, PopulationSource
from lianfang.areas.codes import in_subtree
from lianfang.areas.models import Area, AreaPopulation
from lianfang.auth import audit
from lianfang.auth.choices import AuditAction, Permission
from lianfang.auth.scope import Actor
from lianfang.demo.models import DemoWorld
from lianfang.errors import ConflictError
from lianfang.i18n import _

SCALES = ("demo", "city")


def record_build(
    *, session: Session, actor: Actor, area_code: str, seed: int, scale: str, today: date
) -> DemoWorld:
    """Record that the demo world was (re)built around a day."""
    actor.require(Permission.areas_manage)
    build = DemoWorld(
        area_code=area_code, seed=seed, scale=scale, built_by=actor.username, today=today
    )
    session.add(build)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action=AuditAction.create,
        entity_type="demo_world",
        entity_id=str(build.id),
        area_code=area_code,
        detail={"seed": seed, "scale": scale, "today": today.isoformat()},
    )
    return build


def latest(*, session: Session) -> DemoWorld | None:
    """The newest demo build, None on a database that holds no demo world."""
    return session.scalars(select(DemoWorld).order_by(DemoWorld.id.desc()).limit(1)).first()


def clock_for(*, engine: Engine, setting: date | None) -> timeutil.Clock:
    """The clock a process on this database runs by: the setting, else the day of the newest
    demo build, else the real date (``timeutil.choose``)."""
    if setting is not None:
        return timeutil.choose(setting, None)
    shape = inspect(engine)
    if not shape.has_table("demo_world") or "today" not in {
        c["name"] for c in shape.get_columns("demo_world")
    }:
        return timeutil.REAL  # no schema yet, or one older than the demo's day
    with Session(engine) as session:
        build = latest(session=session)
    return timeutil.choose(None, build.today if build else None)


def refuse_real_data(*, session: Session, prefix: str) -> None:
    """Refuse to lay invented figures over surveyed coordinates or census population."""
    surveyed: int | None = session.scalar(
        select(func.count())
        .select_from(Area)
        .where(in_subtree(Area.code, prefix), Area.coord_source == CoordSource.surveyed)
    )
    census: int | None = session.scalar(
        select(func.count())
        .select_from(AreaPopulation)
        .where(
            in_subtree(AreaPopulation.area_code, prefix),
            AreaPopulation.source == PopulationSource.census,
        )
    )
    if surveyed or census:
        raise ConflictError(
            _(
                "this database holds %(surveyed)s surveyed coordinates and %(census)s census "
                "populations; the demo will not overwrite them: run lianfang demo with "
                "another --db",
                surveyed=surveyed,
                census=census,
            ),
        )
