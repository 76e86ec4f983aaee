"""Thresholds of the alert rules as data: a default per kind, replaced for an area (and
everything below it) by a row of ``alert_threshold``; the nearest area above a subject wins,
as for reserve targets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from lianfang.alerts.choices import AlertKind
from lianfang.alerts.models import AlertThreshold
from lianfang.areas import codes
from lianfang.areas.models import Area
from lianfang.auth import audit
from lianfang.auth.choices import AuditAction, Permission
from lianfang.auth.scope import Actor
from lianfang.config import get_settings
from lianfang.errors import InvalidInputError, NotFoundError
from lianfang.i18n import Text, _


@dataclass(frozen=True)
class Default:
    """A rule's default threshold, what it measures and the range an area may set."""

    value: float
    meaning: Text
    low: float
    high: float


DEFAULTS: dict[AlertKind, Default] = {
    AlertKind.referral: Default(93, _("SpO2 (%%) below which a person needs referral"), 85, 96),
    AlertKind.followup_overdue: Default(
        0, _("days past a person's check-in date before a village is alerted"), 0, 30
    ),
    AlertKind.stock_low: Default(
        1.0, _("share of the reserve target below which stock is low"), 0.1, 2.0
    ),
    AlertKind.beds_full: Default(
        0.85, _("share of beds occupied above which beds are short"), 0.5, 1.0
    ),
    AlertKind.capacity_stale: Default(
        24, _("hours since a hospital's last capacity report before it is stale"), 1, 24 * 30
    ),
}


def default(kind: AlertKind) -> float:
    """The default threshold of a kind (the stale age follows the ``stale_hours`` setting)."""
    if kind is AlertKind.capacity_stale:
        return get_settings().stale_hours
    return DEFAULTS[kind].value


def choose(area_code: str, overrides: Mapping[str, float], fallback: float) -> float:
    """The threshold for a subject in ``area_code``: the one set for the nearest area above it
    (or at it), else the default. ``overrides`` maps 12-digit area codes to values.

    >>> choose("320623101001", {"320600000000": 0.8, "320623000000": 0.9}, 0.85)
    0.9
    >>> choose("320612101001", {"320600000000": 0.8, "320623000000": 0.9}, 0.85)
    0.8
    >>> choose("320612101001", {}, 0.85)
    0.85
    """
    for length in (12, 9, 6, 4, 2):
        value = overrides.get(area_code[:length].ljust(12, "0"))
        if value is not None:
            return value
    return fallback


class Thresholds:
    """Every area's thresholds of one kind, read once for a rule's run."""

    def __init__(self, session: Session, kind: AlertKind) -> None:
        self.kind = kind
        self.fallback = default(kind)
        self.overrides = dict(
            session.execute(
                select(AlertThreshold.area_code, AlertThreshold.value).where(
                    AlertThreshold.kind == kind
                )
            ).all()
        )

    def at(self, area_code: str) -> float:
        """The threshold for a subject in an area."""
        return choose(area_code, self.overrides, self.fallback)


def set_threshold(
    *, session: Session, actor: Actor, area: str, kind: AlertKind, value: float | None
) -> AlertThreshold | None:
    """Set an area's threshold of one kind (``None``: back to the one above it)."""
    actor.require(Permission.resources_manage)
    code = codes.normalise(area)
    place = session.get(Area, code)
    if place is None:
        raise NotFoundError(_("no area with code %(code)s", code=codes.short(code)))
    actor.require_area(code, place.name)
    row = session.scalar(
        select(AlertThreshold).where(AlertThreshold.area_code == code, AlertThreshold.kind == kind)
    )
    if value is None:
        if row is not None:
            session.delete(row)
            session.flush()
    else:
        rule = DEFAULTS[kind]
        if not rule.low <= value <= rule.high:
            raise InvalidInputError(
                _(
                    "the threshold of %(kind)s must lie between %(low)s and %(high)s, not "
                    "%(value)s", kind=kind.text, low=rule.low, high=rule.high, value=value,
                ),
                fields={"value": _("out of range")},
            )  # fmt: skip
        if row is None:
            row = AlertThreshold(area_code=code, kind=kind, value=value, username=actor.username)
            session.add(row)
        else:
            row.value, row.username = value, actor.username
        session.flush()
    audit.record(
        session=session, actor=actor, action=AuditAction.update, entity_type="alert_threshold",
        entity_id=f"{codes.short(code)}:{kind.value}", area_code=code,
        detail={"kind": kind.value, "value": value},
    )  # fmt: skip
    return row


def effective(*, session: Session, actor: Actor, area: str) -> dict[AlertKind, tuple[float, str]]:
    """Each kind's threshold at an area and where it comes from ('' the default, else the code
    of the area that set it)."""
    if not (actor.can(Permission.people_read) or actor.can(Permission.resources_read)):
        actor.require(Permission.people_read)
    code = codes.normalise(area)
    actor.require_area(code)
    out: dict[AlertKind, tuple[float, str]] = {}
    for kind in AlertKind:
        found = Thresholds(session, kind)
        source = next(
            (
                c
                for c in (code[:n].ljust(12, "0") for n in (12, 9, 6, 4, 2))
                if c in found.overrides
            ),
            "",
        )
        out[kind] = (found.at(code), source)
    return out
