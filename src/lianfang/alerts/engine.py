"""Raising, updating, clearing and closing alerts, and the task each one becomes.

One open alert per subject and kind: its ``open_key`` (the dedupe key while open, NULL once
closed) is unique, so a second finding updates the open alert — its severity may rise, its
value and time move — rather than opening another; two writers raising the same alert at once
meet at the unique index and the second updates what the first inserted. A new alert becomes a
task for the responsible person (``dispatch.service.task_for_alert``) with a deadline by
severity; a rise in severity brings that deadline forward.

Raising is a side effect of recording something (a follow-up) or of a periodic rule, so it is
called from flows and jobs, never from a domain's service.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.alerts.choices import (
    DEADLINE_DAYS,
    AlertKind,
    AlertStatus,
    EventKind,
    Severity,
    Subject,
)
from lianfang.alerts.models import Alert, AlertEvent
from lianfang.alerts.suggest import Suggestion
from lianfang.auth import audit
from lianfang.auth.choices import AuditAction
from lianfang.auth.scope import Actor
from lianfang.db.errors import unique_columns
from lianfang.dispatch import service as dispatch
from lianfang.dispatch.models import Task
from lianfang.duty import service as duty
from lianfang.notify import service as notify
from lianfang.people.choices import AlertReason

SYSTEM_NAME = "system"


@dataclass(frozen=True)
class Finding:
    """What a rule found about one subject: the alert it raises or keeps up to date."""

    kind: AlertKind
    severity: Severity
    subject: Subject
    area_code: str
    title: str  # what the task asks, in Chinese (stored with the task, like a directive's)
    person_id: int | None = None
    facility_id: int | None = None
    item_id: int | None = None
    value: float | None = None
    threshold: float | None = None
    reasons: frozenset[AlertReason] = frozenset()
    follow_up_id: int | None = None
    owner_id: int | None = None  # the responsible user; else the owner of the area's level
    suggestion: Suggestion | None = None

    @property
    def key(self) -> str:
        """One open alert per subject and kind (and item, for stock)."""
        ident = {
            Subject.person: self.person_id,
            Subject.facility: self.facility_id,
            Subject.area: self.area_code,
        }[self.subject]
        item = f":{self.item_id}" if self.item_id is not None else ""
        return f"{self.kind.value}:{self.subject.value}:{ident}{item}"


@dataclass
class Outcome:
    """What raising did: alerts opened, updated (something changed) and left as they were."""

    opened: list[Alert] = field(default_factory=list)
    updated: list[Alert] = field(default_factory=list)
    unchanged: list[Alert] = field(default_factory=list)
    cleared: list[Alert] = field(default_factory=list)
    tasks: int = 0
    entries: list[audit.Entry] = field(default_factory=list)

    @property
    def alerts(self) -> list[Alert]:
        return self.opened + self.updated + self.unchanged


def _open(session: Session, key: str) -> Alert | None:
    return session.scalar(select(Alert).where(Alert.open_key == key))


def _event(
    session: Session, alert: Alert, kind: EventKind, actor: Actor, at: datetime, note: str = ""
) -> None:
    session.add(AlertEvent(
        alert_id=alert.id, area_code=alert.area_code, at=at, kind=kind, severity=alert.severity,
        value=alert.value, username=actor.username, note=note,
    ))  # fmt: skip


def deadline_for(severity: Severity) -> date:
    """The deadline of the task of an alert of this severity opened today (``DEADLINE_DAYS``)."""
    return timeutil.today() + timedelta(days=DEADLINE_DAYS[severity])


def raise_many(
    *, session: Session, actor: Actor, findings: Iterable[Finding], at: datetime | None = None
) -> Outcome:
    """Open or update the alert of every finding and give each new one its task. The caller
    writes ``outcome.entries`` to the audit log as its last write (``write_audit``)."""
    moment = at or timeutil.now()
    outcome = Outcome()
    for finding in findings:
        alert = _open(session, finding.key)
        if alert is None:
            alert = _insert(session, finding, moment)
            if alert is None:  # another writer opened it a moment ago
                alert = _open(session, finding.key)
                assert alert is not None
            else:
                _event(session, alert, EventKind.opened, actor, moment)
                outcome.opened.append(alert)
                outcome.entries.append(audit.Entry(
                    AuditAction.create, "alert", str(alert.id), alert.area_code,
                    {"kind": alert.kind.value, "severity": alert.severity.value,
                     "value": alert.value, "key": alert.dedupe_key,
                     "reasons": sorted(alert.reasons)},
                ))  # fmt: skip
                _give_task(session, actor, alert, finding, moment)
                outcome.tasks += 1
                continue
        if _update(session, actor, alert, finding, moment):
            outcome.updated.append(alert)
            outcome.entries.append(audit.Entry(
                AuditAction.update, "alert", str(alert.id), alert.area_code,
                {"severity": alert.severity.value, "value": alert.value},
            ))  # fmt: skip
        else:
            outcome.unchanged.append(alert)
    session.flush()
    return outcome


def _insert(session: Session, finding: Finding, moment: datetime) -> Alert | None:
    alert = Alert(
        kind=finding.kind, severity=finding.severity, status=AlertStatus.open,
        subject=finding.subject, person_id=finding.person_id, facility_id=finding.facility_id,
        item_id=finding.item_id, area_code=finding.area_code, dedupe_key=finding.key,
        open_key=finding.key, reasons=finding.reasons, value=finding.value,
        threshold=finding.threshold, follow_up_id=finding.follow_up_id,
        suggested_facility_id=finding.suggestion.facility_id if finding.suggestion else None,
        suggestion=finding.suggestion.dumps() if finding.suggestion else None,
        opened_at=moment, updated_at=moment,
    )  # fmt: skip
    try:
        with session.begin_nested():
            session.add(alert)
    except IntegrityError as exc:
        if unique_columns(exc) != ("alert", ("open_key",)):
            raise
        return None
    return alert


def _update(
    session: Session, actor: Actor, alert: Alert, finding: Finding, moment: datetime
) -> bool:
    """Bring an open alert up to date with a new finding; True when anything changed."""
    worse = finding.severity.rank < alert.severity.rank
    changed = (
        worse
        or finding.value != alert.value
        or finding.threshold != alert.threshold
        or not finding.reasons <= alert.reasons
        or (finding.follow_up_id is not None and finding.follow_up_id != alert.follow_up_id)
    )
    if not changed:
        return False
    if worse:
        alert.severity = finding.severity
    alert.value, alert.threshold = finding.value, finding.threshold
    alert.reasons = alert.reasons | finding.reasons
    if finding.follow_up_id is not None:
        alert.follow_up_id = finding.follow_up_id
    if finding.suggestion is not None:
        alert.suggested_facility_id = finding.suggestion.facility_id
        alert.suggestion = finding.suggestion.dumps()
    alert.updated_at = moment
    session.flush()
    _event(session, alert, EventKind.updated, actor, moment)
    if worse and alert.task_id is not None:
        task = session.get(Task, alert.task_id)
        if task is not None:
            dispatch.hasten(session=session, task=task, deadline=deadline_for(alert.severity))
    return True


def _give_task(
    session: Session, actor: Actor, alert: Alert, finding: Finding, moment: datetime
) -> None:
    task = dispatch.task_for_alert(
        session=session, actor=actor, area_code=alert.area_code, title=finding.title,
        deadline=deadline_for(alert.severity), owner_id=finding.owner_id,
    )  # fmt: skip
    alert.task_id = task.id
    session.flush()
    _event(session, alert, EventKind.task, actor, moment, note=str(task.id))
    on_duty = duty.user_ids_on_duty(session, alert.area_code, moment)
    notify.notify(  # the task's owner and who is on duty there; the area's channels by severity
        session=session, users=([task.owner_id] if task.owner_id else []) + on_duty,
        area_code=alert.area_code, level=alert.severity, topic=f"alert.{alert.kind.value}",
        title=finding.title, link=f"/alerts/{alert.id}",
    )  # fmt: skip


def clear(
    *, session: Session, actor: Actor, kind: AlertKind, keep: set[str], prefix: str = "",
    at: datetime | None = None,
) -> list[Alert]:  # fmt: skip
    """Close the open alerts of a kind (under an area prefix) that a rule's run no longer finds:
    the stock came back, the beds freed, the report arrived."""
    moment = at or timeutil.now()
    gone = [
        a
        for a in session.scalars(
            select(Alert).where(
                Alert.kind == kind,
                Alert.status == AlertStatus.open,
                Alert.area_code.startswith(prefix),
            )
        )
        if a.open_key not in keep
    ]
    for alert in gone:
        alert.status, alert.open_key = AlertStatus.closed, None
        alert.closed_at, alert.closed_by = moment, actor.username
        alert.updated_at = moment
        _event(session, alert, EventKind.cleared, actor, moment)
    session.flush()
    return gone


def close(*, session: Session, actor: Actor, alert: Alert, note: str) -> Alert:
    """Close an open alert with how it was handled (the caller has checked the actor)."""
    moment = timeutil.now()
    alert.status, alert.open_key = AlertStatus.closed, None
    alert.closed_at, alert.closed_by, alert.close_note = moment, actor.username, note
    alert.updated_at = moment
    session.flush()
    _event(session, alert, EventKind.closed, actor, moment, note=note)
    session.flush()
    audit.record(
        session=session, actor=actor, action=AuditAction.update, entity_type="alert",
        entity_id=str(alert.id), area_code=alert.area_code,
        detail={"status": "closed", "note": note},
    )  # fmt: skip
    return alert


def write_audit(*, session: Session, actor: Actor, outcome: Outcome) -> None:
    """The audit rows of a raise (and of cleared alerts): the caller's last write."""
    entries = list(outcome.entries) + [
        audit.Entry(AuditAction.update, "alert", str(a.id), a.area_code, {"status": "cleared"})
        for a in outcome.cleared
    ]
    audit.record_many(session=session, actor=actor, entries=entries)


def by_ids(session: Session, ids: Sequence[int]) -> list[Alert]:
    """Alerts by id, in that order."""
    found = {a.id: a for a in session.scalars(select(Alert).where(Alert.id.in_(ids)))}
    return [found[i] for i in ids if i in found]
