"""The alert rules. ``referral`` judges one follow-up at the moment it is recorded; the
periodic rules (follow-ups overdue, stock below reserve, beds above threshold, stale capacity
report) each read the whole state under an area and return every finding, so running one twice
finds the same alerts and changes nothing (``jobs.run_rules``).

Severities:

- referral: high for SpO2 below the threshold or breathing difficulty, medium for a persistent
  high fever alone;
- follow-ups overdue (per village): high when a red person is overdue, medium when a yellow
  one is, low otherwise;
- stock below reserve (per facility and item): high when none is left, medium below half the
  target, low otherwise;
- beds above threshold (per hospital, general or intensive-care beds, whichever is fuller):
  high at 95% or more, medium otherwise;
- stale capacity report (per hospital): medium when never reported or older than three times
  the threshold, low otherwise.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.alerts.choices import AlertKind, Severity, Subject
from lianfang.alerts.engine import Finding
from lianfang.alerts.suggest import RESPIRATORY, nearest_hospital, suggestion_text
from lianfang.alerts.thresholds import Thresholds
from lianfang.areas import codes
from lianfang.areas import service as areas
from lianfang.auth.scope import SYSTEM
from lianfang.i18n import Text, _, listing
from lianfang.people import followups
from lianfang.people.choices import AlertReason, Grade
from lianfang.people.models import CoverageCell, FollowUp, Person, Responsible
from lianfang.resources.choices import HOSPITALS, FacilityStatus
from lianfang.resources.models import Facility, FacilityOperator
from lianfang.resources.reserve import stock_rows
from lianfang.resources.service import latest_capacity

FULL = 0.95  # bed occupancy from which a full hospital is a high alert
STALE_MEDIUM = 3  # times the stale age from which a silent hospital is a medium alert


def zh(text: Text) -> str:
    """A task's title is stored in Chinese, the language of those who carry it out."""
    return text.in_language("zh")


def referral_text(reasons: frozenset[AlertReason], spo2: int | None, limit: float) -> Text:
    """Why a person needs referral, with the reading that met each trigger."""
    found: list[Text] = []
    for reason in sorted(reasons, key=lambda r: list(AlertReason).index(r)):
        if reason is AlertReason.low_spo2 and spo2 is not None:
            found.append(_("SpO2 %(value)s%% < %(limit)s%%", value=spo2, limit=f"{limit:g}"))
        else:
            found.append(reason.text)
    return listing(found)


def referral(*, session: Session, follow_up: FollowUp) -> Finding | None:
    """The referral alert a follow-up raises, if it meets a trigger: with the area's SpO2
    threshold, the person's responsible user and the nearest capable hospital with a bed."""
    limit = Thresholds(session, AlertKind.referral).at(follow_up.area_code)
    reasons = followups.triggers(session=session, follow_up=follow_up, low_spo2=limit)
    if not reasons:
        return None
    person = session.get_one(Person, follow_up.person_id)
    owner = None
    if person.responsible_id is not None:
        owner = session.scalar(
            select(Responsible.user_id).where(Responsible.id == person.responsible_id)
        )
    suggestion = nearest_hospital(session=session, area_code=person.area_code, reasons=reasons)
    severity = Severity.high if reasons & RESPIRATORY else Severity.medium
    title = _(
        "Refer %(name)s: %(why)s; %(where)s",
        name=person.name, why=referral_text(reasons, follow_up.spo2_pct, limit),
        where=suggestion_text(suggestion),
    )  # fmt: skip
    low = AlertReason.low_spo2 in reasons
    return Finding(
        kind=AlertKind.referral, severity=severity, subject=Subject.person,
        area_code=person.area_code, title=zh(title), person_id=person.id,
        value=float(follow_up.spo2_pct) if low and follow_up.spo2_pct is not None else None,
        threshold=limit if low else None, reasons=reasons, follow_up_id=follow_up.id,
        owner_id=owner, suggestion=suggestion,
    )  # fmt: skip


def followups_overdue(session: Session, prefix: str) -> list[Finding]:
    """One finding per village with people past their check-in date (by the threshold's days
    of grace), from the coverage roll-up."""
    limits = Thresholds(session, AlertKind.followup_overdue)
    today = timeutil.today()
    rows = session.execute(
        select(CoverageCell.area_code, CoverageCell.grade, CoverageCell.due_on,
               func.sum(CoverageCell.persons))
        .where(codes.in_subtree(CoverageCell.area_code, prefix), CoverageCell.due_on < today)
        .group_by(CoverageCell.area_code, CoverageCell.grade, CoverageCell.due_on)
    ).all()  # fmt: skip
    counts: dict[str, dict[Grade, int]] = defaultdict(lambda: defaultdict(int))
    for code, grade, due_on, n in rows:
        if due_on is not None and due_on < today - timedelta(days=int(limits.at(code))):
            counts[code][grade] += int(n)
    names = areas.names(session=session, area_codes=counts)
    out = []
    for code, by_grade in sorted(counts.items()):
        total = sum(by_grade.values())
        severity = (
            Severity.high if by_grade.get(Grade.red) else
            Severity.medium if by_grade.get(Grade.yellow) else Severity.low
        )  # fmt: skip
        title = _(
            "Follow up %(n)s people overdue in %(village)s (%(red)s red)",
            n=total, village=names.get(code, code), red=by_grade.get(Grade.red, 0),
        )  # fmt: skip
        out.append(Finding(
            kind=AlertKind.followup_overdue, severity=severity, subject=Subject.area,
            area_code=code, title=zh(title), value=float(total), threshold=limits.at(code),
        ))  # fmt: skip
    return out


def _operators(session: Session, facility_ids: list[int]) -> dict[int, int]:
    """facility id → the user who reports for it (the lowest id)."""
    out: dict[int, int] = {}
    for facility_id, user_id in session.execute(
        select(FacilityOperator.facility_id, FacilityOperator.user_id)
        .where(FacilityOperator.facility_id.in_(facility_ids))
        .order_by(FacilityOperator.user_id)
    ):
        out.setdefault(facility_id, user_id)
    return out


def stock_low(session: Session, prefix: str) -> list[Finding]:
    """One finding per facility and item whose balance is below its reserve target times the
    threshold."""
    limits = Thresholds(session, AlertKind.stock_low)
    rows = stock_rows(session=session, actor=SYSTEM, prefix=prefix)
    short = [
        r for r in rows
        if r.target and r.balance < r.target * limits.at(r.facility.area_code)
    ]  # fmt: skip
    operators = _operators(session, sorted({r.facility.id for r in short}))
    out = []
    for r in short:
        target = r.target or 0
        severity = (
            Severity.high if r.balance == 0 else
            Severity.medium if r.balance < target / 2 else Severity.low
        )  # fmt: skip
        title = _(
            "Restock %(item)s at %(facility)s: %(balance)s of %(target)s %(unit)s",
            item=r.item.name, facility=r.facility.name, balance=r.balance, target=target,
            unit=r.item.unit,
        )  # fmt: skip
        out.append(Finding(
            kind=AlertKind.stock_low, severity=severity, subject=Subject.facility,
            area_code=r.facility.area_code, title=zh(title), facility_id=r.facility.id,
            item_id=r.item.id, value=float(r.balance), threshold=float(target),
            owner_id=operators.get(r.facility.id),
        ))  # fmt: skip
    return out


def _hospitals(session: Session, prefix: str) -> list[Facility]:
    return list(
        session.scalars(
            select(Facility)
            .where(
                codes.in_subtree(Facility.area_code, prefix),
                Facility.type.in_(HOSPITALS),
                Facility.status != FacilityStatus.closed,
            )
            .order_by(Facility.id)
        )
    )


def beds_full(session: Session, prefix: str) -> list[Finding]:
    """One finding per hospital whose latest report has general or intensive-care beds fuller
    than the threshold."""
    limits = Thresholds(session, AlertKind.beds_full)
    places = _hospitals(session, prefix)
    latest = latest_capacity(session, [p.id for p in places])
    operators = _operators(session, [p.id for p in places])
    out = []
    for place in places:
        report = latest.get(place.id)
        if report is None:
            continue
        shares = [
            occupied / total
            for total, occupied in (
                (report.beds_total, report.beds_occupied),
                (report.icu_total, report.icu_occupied),
            )
            if total and occupied is not None
        ]
        if not shares or max(shares) <= limits.at(place.area_code):
            continue
        share = round(max(shares), 3)
        title = _(
            "Beds at %(facility)s are %(pct)s%% occupied: arrange transfers or open beds",
            facility=place.name, pct=round(share * 100),
        )  # fmt: skip
        out.append(Finding(
            kind=AlertKind.beds_full, severity=Severity.high if share >= FULL else Severity.medium,
            subject=Subject.facility, area_code=place.area_code, title=zh(title),
            facility_id=place.id, value=share, threshold=limits.at(place.area_code),
            owner_id=operators.get(place.id),
        ))  # fmt: skip
    return out


def capacity_stale(session: Session, prefix: str) -> list[Finding]:
    """One finding per hospital whose latest capacity report is older than the threshold's
    hours (or that never reported)."""
    limits = Thresholds(session, AlertKind.capacity_stale)
    places = _hospitals(session, prefix)
    latest = latest_capacity(session, [p.id for p in places])
    operators = _operators(session, [p.id for p in places])
    moment = timeutil.now()
    out = []
    for place in places:
        hours = limits.at(place.area_code)
        report = latest.get(place.id)
        age = (
            None if report is None
            else round((moment - report.reported_at).total_seconds() / 3600, 1)
        )  # fmt: skip
        if age is not None and age <= hours:
            continue
        severity = Severity.medium if age is None or age > STALE_MEDIUM * hours else Severity.low
        title = (
            _("Report the capacity of %(facility)s: it never has", facility=place.name)
            if age is None else
            _("Report the capacity of %(facility)s: its last report is %(hours)s h old",
              facility=place.name, hours=round(age))
        )  # fmt: skip
        out.append(Finding(
            kind=AlertKind.capacity_stale, severity=severity, subject=Subject.facility,
            area_code=place.area_code, title=zh(title), facility_id=place.id, value=age,
            threshold=hours, owner_id=operators.get(place.id),
        ))  # fmt: skip
    return out


PERIODIC: dict[AlertKind, Callable[[Session, str], list[Finding]]] = {
    AlertKind.followup_overdue: followups_overdue,
    AlertKind.stock_low: stock_low,
    AlertKind.beds_full: beds_full,
    AlertKind.capacity_stale: capacity_stale,
}
"""The rules a job runs over an area, each finding every alert of its kind there."""
