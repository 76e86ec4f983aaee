"""Reading and closing alerts, within the actor's scope and the subjects their role may read:
alerts about people (a person's referral, a village's overdue follow-ups) with the registry's
read permission, alerts about facilities with the resources read permission."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, case, false, func, select
from sqlalchemy.orm import Session

from lianfang.alerts import engine
from lianfang.alerts.choices import AlertKind, AlertStatus, Severity, Subject
from lianfang.alerts.models import Alert, AlertEvent
from lianfang.alerts.suggest import Suggestion
from lianfang.areas import codes
from lianfang.areas import service as areas
from lianfang.auth.choices import Permission
from lianfang.auth.models import User
from lianfang.auth.scope import Actor
from lianfang.dispatch.models import Task
from lianfang.errors import ConflictError, InvalidInputError, NotFoundError
from lianfang.i18n import Text, _, listing
from lianfang.people import followups
from lianfang.people.models import FollowUp, Person
from lianfang.resources.models import Facility, Item

READ = {
    Subject.person: Permission.people_read,
    Subject.area: Permission.people_read,
    Subject.facility: Permission.resources_read,
}
"""The permission that shows alerts about each kind of subject."""
CLOSE = {
    Subject.person: Permission.people_edit,
    Subject.area: Permission.people_edit,
    Subject.facility: Permission.dispatch_work,
}
"""The permission that closes them (besides reading them)."""
SUBJECT_OF = {
    AlertKind.referral: Subject.person,
    AlertKind.followup_overdue: Subject.area,
    AlertKind.stock_low: Subject.facility,
    AlertKind.beds_full: Subject.facility,
    AlertKind.capacity_stale: Subject.facility,
}
"""What each kind of alert is about."""
MIN_NOTE, MAX_NOTE = 4, 2000
MAX_PAGE = 500


def readable(actor: Actor) -> list[Subject]:
    """The subjects whose alerts the actor may read; refuse a role that may read none."""
    subjects = [s for s, p in READ.items() if actor.can(p)]
    if not subjects:
        actor.require(Permission.people_read)
    return subjects


@dataclass(frozen=True)
class AlertFilter:
    """Which alerts a list shows."""

    area: str
    status: AlertStatus | None = AlertStatus.open
    kinds: frozenset[AlertKind] = frozenset()
    severities: frozenset[Severity] = frozenset()
    person_id: int | None = None
    mine: bool = False  # only those whose task the actor owns


def _where(actor: Actor, f: AlertFilter) -> list[ColumnElement[bool]]:
    code = codes.normalise(f.area)
    actor.require_area(code)
    for kind in f.kinds:  # asking for a kind the role may not read is refused
        actor.require(READ[SUBJECT_OF[kind]])
    where: list[ColumnElement[bool]] = [
        codes.in_subtree(Alert.area_code, codes.short(code)),
        actor.area_filter(Alert.area_code),
        Alert.subject.in_(readable(actor)),
    ]
    if f.status is not None:
        where.append(Alert.status == f.status)
    if f.kinds:
        where.append(Alert.kind.in_(f.kinds))
    if f.severities:
        where.append(Alert.severity.in_(f.severities))
    if f.person_id is not None:
        where.append(Alert.person_id == f.person_id)
    if f.mine:
        owned = select(Task.id).where(Task.owner_id == actor.user_id)
        where.append(Alert.task_id.in_(owned) if actor.user_id is not None else false())
    return where


def list_alerts(
    *, session: Session, actor: Actor, f: AlertFilter, limit: int = 100, offset: int = 0
) -> tuple[list[Alert], int]:
    """Alerts under an area, the most severe first, then the newest; and how many match."""
    where = _where(actor, f)
    total = session.scalar(select(func.count()).select_from(Alert).where(*where)) or 0
    order = case({s.value: s.rank for s in Severity}, value=Alert.severity)
    rows = session.scalars(
        select(Alert)
        .where(*where)
        .order_by(Alert.status.desc(), order, Alert.updated_at.desc(), Alert.id.desc())
        .limit(min(limit, MAX_PAGE))
        .offset(offset)
    ).all()
    return list(rows), total


def counts(*, session: Session, actor: Actor, area: str) -> dict[tuple[AlertKind, Severity], int]:
    """Open alerts under an area per kind and severity."""
    where = _where(actor, AlertFilter(area=area))
    rows = session.execute(
        select(Alert.kind, Alert.severity, func.count())
        .where(*where)
        .group_by(Alert.kind, Alert.severity)
    ).all()
    return {(k, s): n for k, s, n in rows}


def get(*, session: Session, actor: Actor, alert_id: int) -> Alert:
    """One alert in the actor's scope (else not found), about a subject their role may read
    (else refused)."""
    readable(actor)
    alert = session.get(Alert, alert_id)
    if alert is None or not actor.reaches(alert.area_code):
        raise NotFoundError(_("no alert %(alert_id)s", alert_id=alert_id))
    actor.require(READ[alert.subject])
    return alert


def close(*, session: Session, actor: Actor, alert_id: int, note: str) -> Alert:
    """Record how an alert was handled and close it."""
    alert = get(session=session, actor=actor, alert_id=alert_id)
    actor.require(CLOSE[alert.subject])
    if alert.status is AlertStatus.closed:
        raise ConflictError(_("the alert is already closed"))
    text = note.strip()
    if len(text) < MIN_NOTE:
        raise InvalidInputError(
            _("say how it was handled"), fields={"note": _("at least 4 characters")}
        )
    if len(text) > MAX_NOTE:
        raise InvalidInputError(
            _("the note is longer than %(limit)s characters", limit=MAX_NOTE),
            fields={"note": _("at most %(limit)s characters", limit=MAX_NOTE)},
        )
    return engine.close(session=session, actor=actor, alert=alert, note=text)


def history(*, session: Session, actor: Actor, alert_id: int) -> list[AlertEvent]:
    """An alert's events, oldest first."""
    alert = get(session=session, actor=actor, alert_id=alert_id)
    query = select(AlertEvent).where(AlertEvent.alert_id == alert.id)
    return list(session.scalars(query.order_by(AlertEvent.at, AlertEvent.id)))


@dataclass
class AlertView:
    """An alert as the alert centre, its page, the API and the CLI show it: what it is about
    (name, area), why (the reading against the threshold), its task and the suggestion."""

    alert: Alert
    subject_name: str
    area_name: str
    why: Text
    task: Task | None = None
    task_owner: str | None = None
    suggestion: Suggestion | None = None
    events: list[AlertEvent] = field(default_factory=list)

    @property
    def link(self) -> str | None:
        """The page of the subject."""
        a = self.alert
        if a.subject is Subject.person and a.person_id is not None:
            return f"/people/{a.person_id}"
        if a.subject is Subject.area:
            return f"/areas/{codes.short(a.area_code)}"
        if a.facility_id is not None:
            return f"/resources/facilities/{a.facility_id}"
        return None


def _why(alert: Alert, follow_up: FollowUp | None, item: Item | None) -> Text:
    v, t = alert.value, alert.threshold
    if alert.kind is AlertKind.referral:
        found = followups.explain(alert, follow_up)
        return listing(found) if found else alert.kind.text
    if alert.kind is AlertKind.followup_overdue and v is not None:
        return _("%(n)s people past their check-in date", n=int(v))
    if alert.kind is AlertKind.stock_low and v is not None and item is not None:
        return _(
            "%(item)s: %(balance)s of %(target)s %(unit)s",
            item=item.name, balance=int(v), target=int(t or 0), unit=item.unit,
        )  # fmt: skip
    if alert.kind is AlertKind.beds_full and v is not None:
        return _(
            "%(pct)s%% of beds occupied (threshold %(limit)s%%)",
            pct=round(v * 100), limit=round((t or 0) * 100),
        )  # fmt: skip
    if alert.kind is AlertKind.capacity_stale:
        if v is None:
            return _("no capacity report yet")
        return _("last report %(hours)s h ago (threshold %(limit)s h)", hours=round(v),
                 limit=f"{t or 0:g}")  # fmt: skip
    return alert.kind.text


def describe(
    *, session: Session, alerts: list[Alert], with_events: bool = False
) -> list[AlertView]:
    """Alerts the caller has read, with their subjects' names, reasons, tasks and owners."""
    if not alerts:
        return []
    people = dict(
        session.execute(
            select(Person.id, Person.name).where(
                Person.id.in_({a.person_id for a in alerts if a.person_id})
            )
        ).all()
    )
    places = dict(
        session.execute(
            select(Facility.id, Facility.name).where(
                Facility.id.in_({a.facility_id for a in alerts if a.facility_id})
            )
        ).all()
    )
    items = {
        i.id: i
        for i in session.scalars(select(Item).where(Item.id.in_({a.item_id for a in alerts})))
    }
    readings = {
        f.id: f
        for f in session.scalars(
            select(FollowUp).where(FollowUp.id.in_({a.follow_up_id for a in alerts}))
        )
    }
    wanted = {a.task_id for a in alerts}
    tasks = {t.id: t for t in session.scalars(select(Task).where(Task.id.in_(wanted)))}
    owners = dict(
        session.execute(
            select(User.id, User.display_name).where(
                User.id.in_({t.owner_id for t in tasks.values() if t.owner_id})
            )
        ).all()
    )
    names = areas.names(session=session, area_codes=[a.area_code for a in alerts])
    events: dict[int, list[AlertEvent]] = {}
    if with_events:
        for e in session.scalars(
            select(AlertEvent)
            .where(AlertEvent.alert_id.in_([a.id for a in alerts]))
            .order_by(AlertEvent.at, AlertEvent.id)
        ):
            events.setdefault(e.alert_id, []).append(e)
    out = []
    for a in alerts:
        area_name = names.get(a.area_code, codes.short(a.area_code))
        subject = (
            people.get(a.person_id or 0, "") if a.subject is Subject.person else
            places.get(a.facility_id or 0, "") if a.subject is Subject.facility else area_name
        )  # fmt: skip
        task = tasks.get(a.task_id or 0)
        out.append(AlertView(
            alert=a, subject_name=subject, area_name=area_name,
            why=_why(a, readings.get(a.follow_up_id or 0), items.get(a.item_id or 0)),
            task=task, task_owner=owners.get(task.owner_id or 0) if task else None,
            suggestion=Suggestion.loads(a.suggestion), events=events.get(a.id, []),
        ))  # fmt: skip
    return out


def open_by_person(*, session: Session, person_ids: list[int]) -> dict[int, int]:
    """Open referral alerts per person, for people the caller has already read (in scope)."""
    rows = session.execute(
        select(Alert.person_id, func.count())
        .where(
            Alert.person_id.in_(person_ids),
            Alert.status == AlertStatus.open,
            Alert.kind == AlertKind.referral,
        )
        .group_by(Alert.person_id)
    )
    return {int(p): n for p, n in rows if p is not None}


def for_tasks(*, session: Session, actor: Actor, task_ids: list[int]) -> dict[int, AlertView]:
    """The alert behind each of these tasks (tasks the caller has read), described, for the
    subjects the actor's role may read: why it was raised and, for a referral, the hospital."""
    subjects = [s for s, p in READ.items() if actor.can(p)]
    if not task_ids or not subjects:
        return {}
    found = session.scalars(
        select(Alert)
        .where(Alert.task_id.in_(task_ids), Alert.subject.in_(subjects))
        .order_by(Alert.id)
    ).all()
    return {v.alert.task_id: v for v in describe(session=session, alerts=list(found))
            if v.alert.task_id is not None}  # fmt: skip
