"""Synthetic follow-up histories of the demo's key people over the two weeks before today.

Red people are due daily and yellow every 3 days (green ones who opted in weekly). The generator
decides who is overdue today (``story.overdue``); for everyone else the last check-in falls within
their interval, so coverage counts exactly the overdue people the generator intended. Earlier
due check-ins happened with probability 0.85. Every contact lies on a day before today, between
08:00 and 18:00 in Nantong. Readings are usual except for a few: the unwell (fever, cough) and
the rare desaturation below 93%, more often where the epidemic is ahead (``story``), which raise
referral alerts by the follow-up rules. Generated column-wise with numpy: a city-scale history
is millions of rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.alerts.choices import AlertKind, AlertStatus, EventKind, Severity, Subject
from lianfang.alerts.models import Alert, AlertEvent
from lianfang.alerts.suggest import RESPIRATORY
from lianfang.db.base import join_choices
from lianfang.db.bulk import insert_columns
from lianfang.demo import story
from lianfang.people import followups
from lianfang.people.choices import AlertReason, ContactMethod, Symptom
from lianfang.people.models import FollowUp

HISTORY_DAYS = 14
ATTENDED = 0.85  # share of earlier due check-ins that happened
LATE_DAYS = (1, 6)  # an overdue person's contacts stopped this many days past their interval
UNWELL = 0.03  # share of contacts with fever or other symptoms (before story.EPIDEMIC_AHEAD)
DESATURATED = 0.0006  # share of contacts with SpO2 below 93% (likewise)
ALERT_OPEN_DAYS = 2  # alerts raised in the last two days are still open today
METHODS = (ContactMethod.phone, ContactMethod.visit, ContactMethod.video)
SYMPTOMS = ((Symptom.fever, 0.9), (Symptom.cough, 0.5), (Symptom.fatigue, 0.4),
            (Symptom.breathless, 0.005))  # fmt: skip
DAY = 86_400


@dataclass
class History:
    """Follow-ups of a batch of people: who (index into the batch) and the columns."""

    person: np.ndarray
    columns: dict[str, list[Any]]
    last: list[datetime | None]
    moments: dict[int, datetime] = field(default_factory=dict)
    today: date = story.TODAY


RECORDER = "演示数据"  # who "made" the invented contacts (not the operator building the demo)


def last_contact_days(
    rng: np.random.Generator, every: np.ndarray, overdue: np.ndarray
) -> np.ndarray:
    """Days before today of each person's last check-in (0: never contacted).

    On time: 1 to ``every`` days ago, so the next one is due today or later. Overdue: never
    reached (story.NEVER_REACHED), else ``every`` + 1–6 days ago, so it was due before today."""
    n = len(every)
    step = np.maximum(every, 1)
    on_time = 1 + (rng.random(n) * step).astype(np.int64)
    late = step + rng.integers(LATE_DAYS[0], LATE_DAYS[1] + 1, n)
    never = rng.random(n) < story.NEVER_REACHED
    days = np.where(overdue, np.where(never, 0, np.minimum(late, HISTORY_DAYS)), on_time)
    return np.where(every > 0, days, 0)


def simulate(
    rng: np.random.Generator,
    intervals: Sequence[int],
    overdue: Sequence[bool],
    ahead: Sequence[float],
    today: date,
) -> History:
    """Check-ins of people due every ``intervals[i]`` days (0: not followed up), of whom those
    flagged ``overdue`` are overdue today; ``ahead`` scales how often their contacts are unwell."""
    every = np.asarray(intervals, dtype=np.int64)
    last = last_contact_days(rng, every, np.asarray(overdue, dtype=bool))
    days = np.arange(1, HISTORY_DAYS + 1)  # days before today
    step = np.maximum(every, 1)[:, None]
    due = (last[:, None] > 0) & (days >= last[:, None]) & ((days - last[:, None]) % step == 0)
    held = due & ((days == last[:, None]) | (rng.random(due.shape) < ATTENDED))
    midnight = timeutil.start_of(today).timestamp()
    seconds = (midnight - days * DAY) + rng.integers(8 * 3600, 18 * 3600, due.shape) // 60 * 60
    stamps = np.where(held, seconds, -np.inf).max(axis=1)
    person, day = np.nonzero(held)
    chosen = seconds[person, day].astype(np.int64)
    moments = {int(s): datetime.fromtimestamp(int(s), UTC) for s in np.unique(chosen)}
    latest = [moments[int(s)] if np.isfinite(s) else None for s in stamps]
    columns = _readings(rng, np.asarray(ahead, dtype=np.float64)[person])
    columns["contacted_at"] = [moments[s] for s in chosen.tolist()]
    return History(person, columns, latest, moments, today)


def _readings(rng: np.random.Generator, ahead: np.ndarray) -> dict[str, list[Any]]:
    k = len(ahead)
    spo2 = np.minimum(100, np.round(rng.normal(97.4, 1.0, k))).astype(np.int64)
    low = rng.random(k) < DESATURATED * ahead
    spo2[low] = rng.integers(86, 93, int(low.sum()))
    temperature = np.round(rng.normal(36.5, 0.25, k), 1)
    unwell = np.flatnonzero(rng.random(k) < UNWELL * ahead)
    temperature[unwell] = np.minimum(np.round(rng.normal(38.0, 0.6, len(unwell)), 1), 40.5)
    symptoms: list[Any] = [""] * k
    fever_days: list[int | None] = [None] * k
    for index in unwell.tolist():
        found = frozenset(s for s, p in SYMPTOMS if rng.random() < p)
        symptoms[index] = join_choices(found) if found else ""
        fever_days[index] = int(rng.choice((1, 2, 3, 4), p=(0.55, 0.3, 0.1, 0.05)))
    methods = rng.choice(3, size=k, p=(0.7, 0.25, 0.05))
    return {
        "method": [str(METHODS[m]) for m in methods.tolist()],
        "spo2_pct": spo2.tolist(),
        "temperature_c": temperature.tolist(),
        "symptoms": symptoms,
        "fever_days": fever_days,
    }


def write(session: Session, history: History, people: list[tuple[int, str]]) -> tuple[int, int]:
    """Store the follow-ups of people given as (id, village); return (follow-ups, alerts)."""
    columns = history.columns
    columns["person_id"] = [people[i][0] for i in history.person.tolist()]
    columns["area_code"] = [people[i][1] for i in history.person.tolist()]
    alerting = [i for i, why in enumerate(_candidates(columns)) if why]
    reasons = {i: _reasons(columns, i) for i in alerting}
    keep = [i for i in range(len(columns["person_id"])) if not reasons.get(i)]
    plain = {key: [values[i] for i in keep] for key, values in columns.items()}
    plain |= {"notes": [""] * len(keep), "username": [RECORDER] * len(keep),
              "created_at": plain["contacted_at"]}  # recorded as it was made  # fmt: skip
    written = insert_columns(session, FollowUp.__table__, plain)  # type: ignore[arg-type]
    visits, alerts = _alerts(
        session, columns, {i: r for i, r in reasons.items() if r}, history.today
    )
    return written + visits, alerts


def _candidates(columns: dict[str, list[Any]]) -> list[bool]:
    """Contacts that could meet a referral trigger (only an unusual reading can)."""
    return [
        spo2 < followups.LOW_SPO2 or temperature >= followups.HIGH_FEVER_C or bool(symptoms)
        for spo2, temperature, symptoms in zip(
            columns["spo2_pct"], columns["temperature_c"], columns["symptoms"], strict=True
        )
    ]


def _contact(columns: dict[str, list[Any]], i: int) -> followups.Contact:
    return followups.Contact(
        method=ContactMethod.of(columns["method"][i]),
        contacted_at=columns["contacted_at"][i],
        temperature_c=columns["temperature_c"][i],
        spo2_pct=columns["spo2_pct"][i],
        symptoms=frozenset(Symptom.of(s) for s in columns["symptoms"][i].split(",") if s),
        fever_days=columns["fever_days"][i],
    )


def _reasons(columns: dict[str, list[Any]], i: int) -> frozenset[Any]:
    return followups.reasons(_contact(columns, i), recent_high_fever=False)


def _alerts(
    session: Session, columns: dict[str, list[Any]], reasons: dict[int, Any], today: date
) -> tuple[int, int]:
    """Follow-ups that met a trigger and their alerts (closed when raised before the last two
    days: 3 hours after it was raised; a later one of a person's open alert updates it); return
    how many of each."""
    visits = []
    for i in reasons:
        contact = _contact(columns, i)
        visits.append(FollowUp(
            person_id=columns["person_id"][i], area_code=columns["area_code"][i],
            username=RECORDER, method=contact.method, contacted_at=contact.contacted_at,
            temperature_c=contact.temperature_c, spo2_pct=contact.spo2_pct,
            symptoms=contact.symptoms, fever_days=contact.fever_days,
            created_at=contact.contacted_at,
        ))  # fmt: skip
    session.add_all(visits)
    session.flush()
    recent = timeutil.start_of(today - timedelta(days=ALERT_OPEN_DAYS))
    opened: dict[int, Alert] = {}  # person -> their open alert: a repeat updates it
    alerts: list[Alert] = []
    events: list[tuple[Alert, EventKind, datetime, str]] = []
    pairs = sorted(zip(visits, reasons.values(), strict=True), key=lambda p: p[0].contacted_at)
    for visit, why in pairs:
        old = visit.contacted_at < recent
        severity = Severity.high if why & RESPIRATORY else Severity.medium
        low = AlertReason.low_spo2 in why and visit.spo2_pct is not None
        current = opened.get(visit.person_id)
        if current is not None and not old:
            if severity.rank < current.severity.rank:
                current.severity = severity
            current.reasons = current.reasons | why
            current.follow_up_id, current.updated_at = visit.id, visit.contacted_at
            current.value = float(visit.spo2_pct or 0) if low else current.value
            events.append((current, EventKind.updated, visit.contacted_at, ""))
            continue
        key = f"referral:person:{visit.person_id}"
        alert = Alert(
            kind=AlertKind.referral, severity=severity, subject=Subject.person,
            person_id=visit.person_id, follow_up_id=visit.id, area_code=visit.area_code,
            dedupe_key=key, open_key=None if old else key, reasons=why,
            value=float(visit.spo2_pct or 0) if low else None,
            threshold=float(followups.LOW_SPO2) if low else None,
            opened_at=visit.contacted_at, updated_at=visit.contacted_at,
            status=AlertStatus.closed if old else AlertStatus.open,
            closed_at=visit.contacted_at + timedelta(hours=3) if old else None,
            closed_by=RECORDER if old else None,
            close_note="已转诊至定点医院（演示）" if old else None,
        )  # fmt: skip
        alerts.append(alert)
        events.append((alert, EventKind.opened, visit.contacted_at, ""))
        if old:
            events.append((alert, EventKind.closed, visit.contacted_at + timedelta(hours=3),
                           "已转诊至定点医院（演示）"))  # fmt: skip
        else:
            opened[visit.person_id] = alert
    session.add_all(alerts)
    session.flush()
    session.add_all(
        AlertEvent(
            alert_id=alert.id,
            area_code=alert.area_code,
            at=at,
            kind=kind,
            severity=alert.severity,
            value=alert.value,
            username=RECORDER,
            note=note,
        )
        for alert, kind, at, note in events
    )
    session.flush()
    return len(visits), len(alerts)
