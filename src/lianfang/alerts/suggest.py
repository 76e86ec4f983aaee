"""Where to refer a person: the nearest open hospital with the capability the referral needs
and a free bed in its latest capacity report, with how fresh that report is."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.areas.models import Area
from lianfang.demo.story import km
from lianfang.i18n import Text, _
from lianfang.people.choices import AlertReason
from lianfang.resources.choices import HOSPITALS, Capability, FacilityStatus
from lianfang.resources.models import Facility
from lianfang.resources.service import is_stale, latest_capacity

RESPIRATORY = frozenset({AlertReason.low_spo2, AlertReason.breathless})


def needed(reasons: frozenset[AlertReason]) -> Capability:
    """The capability a referral needs: oxygen for low SpO2 or breathlessness, else a ward."""
    return Capability.oxygen if reasons & RESPIRATORY else Capability.general


@dataclass(frozen=True)
class Suggestion:
    """A hospital to refer to: its free beds as last reported, when, and how far it is."""

    facility_id: int
    name: str
    beds_free: int
    reported_at: datetime
    km: float
    capability: Capability

    @property
    def stale(self) -> bool:
        return is_stale(self.reported_at)

    def age_hours(self, now: datetime | None = None) -> float:
        """How old the bed figure is, in hours."""
        return round(((now or timeutil.now()) - self.reported_at).total_seconds() / 3600, 1)

    def dumps(self) -> str:
        """The stored form (``alert.suggestion``)."""
        return json.dumps(
            {"facility_id": self.facility_id, "name": self.name, "beds_free": self.beds_free,
             "reported_at": self.reported_at.isoformat(), "km": self.km,
             "capability": self.capability.value},
            ensure_ascii=False,
        )  # fmt: skip

    @classmethod
    def loads(cls, raw: str | None) -> Suggestion | None:
        if not raw:
            return None
        d = json.loads(raw)
        return cls(
            d["facility_id"], d["name"], d["beds_free"], datetime.fromisoformat(d["reported_at"]),
            d["km"], Capability.of(d["capability"]),
        )  # fmt: skip


def nearest_hospital(
    *, session: Session, area_code: str, reasons: frozenset[AlertReason]
) -> Suggestion | None:
    """The nearest capable hospital of the city with a free bed: those whose bed figure is fresh
    first, a stale one only when no fresh one has a bed."""
    home = session.get(Area, area_code)
    if home is None or home.lon is None or home.lat is None:
        return None
    capability = needed(reasons)
    places = [
        p
        for p in session.scalars(
            select(Facility).where(
                Facility.type.in_(HOSPITALS),
                Facility.status == FacilityStatus.open,
                Facility.area_code.startswith(area_code[:4]),
                Facility.lon.is_not(None),
            )
        )
        if capability in p.capabilities
    ]
    latest = latest_capacity(session, [p.id for p in places])
    found: list[tuple[bool, float, Suggestion]] = []
    for place in places:
        report = latest.get(place.id)
        if report is None or report.beds_total is None or report.beds_occupied is None:
            continue
        free = report.beds_total - report.beds_occupied
        if free <= 0:
            continue
        distance = round(km((home.lon, home.lat), (place.lon or 0.0, place.lat or 0.0)), 1)
        option = Suggestion(place.id, place.name, free, report.reported_at, distance, capability)
        found.append((option.stale, distance, option))
    if not found:
        return None
    return min(found, key=lambda f: (f[0], f[1], f[2].facility_id))[2]


def suggestion_text(suggestion: Suggestion | None) -> Text:
    """The suggested hospital as a task and the alert centre say it."""
    if suggestion is None:
        return _("no capable hospital with a free bed has reported")
    return _(
        "suggested: %(name)s, %(beds)s beds free as reported %(hours)s h ago, %(km)s km",
        name=suggestion.name, beds=suggestion.beds_free, hours=suggestion.age_hours(),
        km=suggestion.km,
    )  # fmt: skip


def stored_text(raw: str | None) -> Text | None:
    """The stored suggestion of an alert as text (None for an alert that has none)."""
    return suggestion_text(Suggestion.loads(raw)) if raw else None
