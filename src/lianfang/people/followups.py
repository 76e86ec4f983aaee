"""Follow-ups (contacts with a key person) and the referral alerts they raise.

Referral triggers: SpO2 below 93%; breathing difficulty; persistent high fever — 38.5 °C or more
now and either reported for 3 days or more, or also recorded at a contact in the last 3 days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.areas import codes
from lianfang.auth import audit
from lianfang.auth.choices import AuditAction, Permission
from lianfang.auth.scope import Actor
from lianfang.db.errors import unique_columns
from lianfang.errors import ConflictError, InvalidInputError, NotFoundError
from lianfang.i18n import SENTENCE_SEPARATOR, Text, _, listing
from lianfang.people import coverage, service
from lianfang.people.choices import AlertReason, AlertStatus, ContactMethod, Symptom
from lianfang.people.models import FollowUp, Person, ReferralAlert

LOW_SPO2 = 93
HIGH_FEVER_C = 38.5
PERSISTENT_DAYS = 3
CLOCK_SKEW = timedelta(minutes=10)


@dataclass(frozen=True)
class Contact:
    """What a follow-up form or API call records."""

    method: ContactMethod
    contacted_at: datetime | None = None  # now when not given
    temperature_c: float | None = None
    spo2_pct: int | None = None
    symptoms: frozenset[Symptom] = frozenset()
    fever_days: int | None = None
    notes: str = ""
    client_token: str | None = None  # the same token twice records one follow-up


def _check(contact: Contact, when: datetime) -> None:
    """Refuse a contact with values out of range, naming the field of each problem (the
    ``Contact`` attribute), so a form can show each one beside its field."""
    problems: dict[str, Text] = {}
    if contact.temperature_c is not None and not 34.0 <= contact.temperature_c <= 43.0:
        problems["temperature_c"] = _("temperature must be 34–43 °C")
    if contact.spo2_pct is not None and not 50 <= contact.spo2_pct <= 100:
        problems["spo2_pct"] = _("SpO2 must be 50–100%")
    if contact.fever_days is not None and not 0 <= contact.fever_days <= 60:
        problems["fever_days"] = _("fever days must be 0–60")
    if when > timeutil.now() + CLOCK_SKEW:
        problems["contacted_at"] = _("the contact time is in the future")
    if problems:
        raise InvalidInputError(
            listing(list(problems.values()), SENTENCE_SEPARATOR), fields=problems
        )


def reasons(contact: Contact, recent_high_fever: bool) -> frozenset[AlertReason]:
    """The referral triggers a contact meets."""
    found = set()
    if contact.spo2_pct is not None and contact.spo2_pct < LOW_SPO2:
        found.add(AlertReason.low_spo2)
    if Symptom.breathless in contact.symptoms:
        found.add(AlertReason.breathless)
    high = contact.temperature_c is not None and contact.temperature_c >= HIGH_FEVER_C
    if high and ((contact.fever_days or 0) >= PERSISTENT_DAYS or recent_high_fever):
        found.add(AlertReason.persistent_fever)
    return frozenset(found)


def explain(alert: ReferralAlert, follow_up: FollowUp | None) -> list[Text]:
    """Why an alert was raised, each trigger with the reading that met it ("SpO2 91% < 93%"),
    as the confirmation after a follow-up and the alert lists show it."""
    found: list[Text] = []
    for reason in sorted(alert.reasons, key=lambda r: list(AlertReason).index(r)):
        if follow_up is None:
            found.append(reason.text)
        elif reason is AlertReason.low_spo2 and follow_up.spo2_pct is not None:
            found.append(
                _("SpO2 %(value)s%% < %(limit)s%%", value=follow_up.spo2_pct, limit=LOW_SPO2)
            )
        elif reason is AlertReason.persistent_fever and follow_up.temperature_c is not None:
            found.append(
                _("persistent high fever, %(value)s °C now", value=follow_up.temperature_c)
            )
        else:
            found.append(reason.text)
    return found


def _recent_high_fever(session: Session, person: Person, when: datetime) -> bool:
    since = when - timedelta(days=PERSISTENT_DAYS)
    earlier = session.scalar(
        select(func.count()).where(
            FollowUp.person_id == person.id,
            FollowUp.contacted_at >= since,
            FollowUp.contacted_at < when,
            FollowUp.temperature_c >= HIGH_FEVER_C,
        )
    )
    return bool(earlier)


def _sent_before(
    session: Session, person: Person, token: str | None
) -> tuple[FollowUp, ReferralAlert | None] | None:
    """The follow-up already recorded under a client token, with its alert."""
    if not token:
        return None
    earlier = session.scalar(select(FollowUp).where(FollowUp.client_token == token))
    if earlier is None:
        return None
    if earlier.person_id != person.id:
        raise ConflictError(_("client token already used for another person"))
    alert = session.scalar(select(ReferralAlert).where(ReferralAlert.follow_up_id == earlier.id))
    return earlier, alert


def record(
    *, session: Session, actor: Actor, person_id: int, contact: Contact
) -> tuple[FollowUp, ReferralAlert | None]:
    """Record a contact, move the person's next check-in, and raise an alert when it meets a
    referral trigger. Sending the same ``client_token`` again returns the first record."""
    actor.require(Permission.people_edit)
    person = service.get(session=session, actor=actor, person_id=person_id)
    earlier = _sent_before(session, person, contact.client_token)
    if earlier is not None:
        return earlier
    when = contact.contacted_at or timeutil.now()
    _check(contact, when)
    follow_up = FollowUp(
        person_id=person.id, area_code=person.area_code, contacted_at=when, method=contact.method,
        temperature_c=contact.temperature_c, spo2_pct=contact.spo2_pct,
        symptoms=contact.symptoms, fever_days=contact.fever_days, notes=contact.notes.strip(),
        username=actor.username, client_token=contact.client_token,
    )  # fmt: skip
    triggered = reasons(contact, _recent_high_fever(session, person, when))
    try:
        with session.begin_nested():
            session.add(follow_up)
    except IntegrityError as exc:
        # The same token sent twice at once (PostgreSQL lets both pass the check above; the
        # unique index stops the second): answer the first one, as for a later resend.
        again = _sent_before(session, person, contact.client_token)
        if again is None or unique_columns(exc) != ("follow_up", ("client_token",)):
            raise
        return again
    alert = None
    if triggered:
        alert = ReferralAlert(
            person_id=person.id, follow_up_id=follow_up.id, area_code=person.area_code,
            reasons=triggered, raised_at=when,
        )  # fmt: skip
        session.add(alert)
    if person.last_contact_at is None or when > person.last_contact_at:
        person.last_contact_at = when
        service.rederive(person)
    session.flush()
    coverage.refresh(session=session, villages=[person.area_code])
    _audit(session, actor, person, follow_up, alert)
    return follow_up, alert


def _audit(
    session: Session, actor: Actor, person: Person, follow_up: FollowUp, alert: ReferralAlert | None
) -> None:
    """The follow-up (which moved the person's last contact and due date) and its alert."""
    entries = [audit.Entry(
        AuditAction.create, "follow_up", str(follow_up.id), person.area_code,
        {"person_id": person.id, "method": follow_up.method, "due_on": person.due_on},
    )]  # fmt: skip
    if alert is not None:
        entries.append(audit.Entry(
            AuditAction.create, "referral_alert", str(alert.id), person.area_code,
            {"person_id": person.id, "follow_up_id": follow_up.id,
             "reasons": sorted(alert.reasons)},
        ))  # fmt: skip
    audit.record_many(session=session, actor=actor, entries=entries)


def alerts(
    *, session: Session, actor: Actor, area: str, status: AlertStatus | None = AlertStatus.open,
    limit: int = 100, offset: int = 0,
) -> tuple[list[ReferralAlert], int]:  # fmt: skip
    """Referral alerts under an area, newest first, and how many there are."""
    actor.require(Permission.people_read)
    actor.require_area(area)
    where = [
        codes.in_subtree(ReferralAlert.area_code, codes.short(area)),
        actor.area_filter(ReferralAlert.area_code),
    ]
    if status is not None:
        where.append(ReferralAlert.status == status)
    total = session.scalar(select(func.count()).select_from(ReferralAlert).where(*where)) or 0
    rows = session.scalars(
        select(ReferralAlert)
        .where(*where)
        .order_by(ReferralAlert.id.desc())
        .limit(min(limit, 500))
        .offset(offset)
    ).all()
    return list(rows), total


def close_alert(*, session: Session, actor: Actor, alert_id: int, note: str) -> ReferralAlert:
    """Record how an alert was handled and close it."""
    actor.require(Permission.people_edit)
    alert = session.get(ReferralAlert, alert_id)
    if alert is None or not actor.reaches(alert.area_code):
        raise NotFoundError(_("no alert %(alert_id)s", alert_id=alert_id))
    if alert.status is AlertStatus.closed:
        raise ConflictError(_("the alert is already closed"))
    if len(note.strip()) < service.MIN_REASON:
        raise InvalidInputError(_("say how it was handled"))
    alert.status, alert.closed_at = AlertStatus.closed, timeutil.now()
    alert.closed_by, alert.close_note = actor.username, note.strip()
    audit.record(
        session=session, actor=actor, action=AuditAction.update, entity_type="referral_alert",
        entity_id=str(alert.id), area_code=alert.area_code, detail={"note": note.strip()},
    )  # fmt: skip
    session.flush()
    return alert
