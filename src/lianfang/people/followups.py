"""Follow-ups (contacts with a key person) and the referral triggers they meet.

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
from lianfang.alerts.models import Alert
from lianfang.auth import audit
from lianfang.auth.choices import AuditAction, Permission
from lianfang.auth.scope import Actor
from lianfang.db.errors import unique_columns
from lianfang.errors import ConflictError, InvalidInputError
from lianfang.i18n import SENTENCE_SEPARATOR, Text, _, listing
from lianfang.people import coverage, service
from lianfang.people.choices import AlertReason, ContactMethod, Symptom
from lianfang.people.models import FollowUp, Person

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


def reasons(
    contact: Contact, recent_high_fever: bool, low_spo2: float = LOW_SPO2
) -> frozenset[AlertReason]:
    """The referral triggers a contact meets."""
    found = set()
    if contact.spo2_pct is not None and contact.spo2_pct < low_spo2:
        found.add(AlertReason.low_spo2)
    if Symptom.breathless in contact.symptoms:
        found.add(AlertReason.breathless)
    high = contact.temperature_c is not None and contact.temperature_c >= HIGH_FEVER_C
    if high and ((contact.fever_days or 0) >= PERSISTENT_DAYS or recent_high_fever):
        found.add(AlertReason.persistent_fever)
    return frozenset(found)


def explain(alert: Alert, follow_up: FollowUp | None) -> list[Text]:
    """Why an alert was raised, each trigger with the reading that met it ("SpO2 91% < 93%"),
    as the confirmation after a follow-up and the alert lists show it."""
    found: list[Text] = []
    for reason in sorted(alert.reasons, key=lambda r: list(AlertReason).index(r)):
        if follow_up is None:
            found.append(reason.text)
        elif reason is AlertReason.low_spo2 and follow_up.spo2_pct is not None:
            limit = f"{alert.threshold:g}" if alert.threshold is not None else LOW_SPO2
            found.append(_("SpO2 %(value)s%% < %(limit)s%%", value=follow_up.spo2_pct, limit=limit))
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


def _sent_before(session: Session, person: Person, token: str | None) -> FollowUp | None:
    """The follow-up already recorded under a client token."""
    if not token:
        return None
    earlier = session.scalar(select(FollowUp).where(FollowUp.client_token == token))
    if earlier is None:
        return None
    if earlier.person_id != person.id:
        raise ConflictError(_("client token already used for another person"))
    return earlier


def record(
    *, session: Session, actor: Actor, person_id: int, contact: Contact
) -> tuple[FollowUp, bool]:
    """Record a contact and move the person's next check-in; return it and whether it is new.
    Sending the same ``client_token`` again returns the first record (not new). Raising the
    referral alert a contact may call for is a side effect: ``people.flows.record_follow_up``."""
    actor.require(Permission.people_edit)
    person = service.get(session=session, actor=actor, person_id=person_id)
    earlier = _sent_before(session, person, contact.client_token)
    if earlier is not None:
        return earlier, False
    when = contact.contacted_at or timeutil.now()
    _check(contact, when)
    follow_up = FollowUp(
        person_id=person.id, area_code=person.area_code, contacted_at=when, method=contact.method,
        temperature_c=contact.temperature_c, spo2_pct=contact.spo2_pct,
        symptoms=contact.symptoms, fever_days=contact.fever_days, notes=contact.notes.strip(),
        username=actor.username, client_token=contact.client_token,
    )  # fmt: skip
    try:
        with session.begin_nested():
            session.add(follow_up)
    except IntegrityError as exc:
        # The same token sent twice at once (PostgreSQL lets both pass the check above; the
        # unique index stops the second): answer the first one, as for a later resend.
        again = _sent_before(session, person, contact.client_token)
        if again is None or unique_columns(exc) != ("follow_up", ("client_token",)):
            raise
        return again, False
    if person.last_contact_at is None or when > person.last_contact_at:
        person.last_contact_at = when
        service.rederive(person)
    session.flush()
    coverage.refresh(session=session, villages=[person.area_code])
    _audit(session, actor, person, follow_up)
    return follow_up, True


def triggers(
    *, session: Session, follow_up: FollowUp, low_spo2: float = LOW_SPO2
) -> frozenset[AlertReason]:
    """The referral triggers a recorded follow-up meets (SpO2 below ``low_spo2``)."""
    contact = Contact(
        method=follow_up.method, contacted_at=follow_up.contacted_at,
        temperature_c=follow_up.temperature_c, spo2_pct=follow_up.spo2_pct,
        symptoms=follow_up.symptoms, fever_days=follow_up.fever_days,
    )  # fmt: skip
    person = session.get_one(Person, follow_up.person_id)
    recent = _recent_high_fever(session, person, follow_up.contacted_at)
    return reasons(contact, recent, low_spo2)


def _audit(session: Session, actor: Actor, person: Person, follow_up: FollowUp) -> None:
    """The follow-up (which moved the person's last contact and due date)."""
    audit.record(
        session=session, actor=actor, action=AuditAction.create, entity_type="follow_up",
        entity_id=str(follow_up.id), area_code=person.area_code,
        detail={"person_id": person.id, "method": follow_up.method, "due_on": person.due_on},
    )  # fmt: skip
