"""Synthetic follow-up histories of the demo's key people over the last two weeks, with gaps.

Red people are due daily and yellow every 3 days (green ones who opted in weekly); each due
check-in happens with probability 0.85, some people were never reached and some lapsed a few
days ago, so coverage shows a realistic overdue share. Readings are usual except for a few: the
unwell (fever, cough) and the rare desaturation below 93%, which raise referral alerts by the
follow-up rules. Generated column-wise with numpy: a city-scale history is millions of rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.db.base import join_choices
from lianfang.db.bulk import insert_columns
from lianfang.people import followups
from lianfang.people.choices import AlertStatus, ContactMethod, Symptom
from lianfang.people.models import FollowUp, ReferralAlert

HISTORY_DAYS = 14
ATTENDED = 0.85  # share of due check-ins that happen
NEVER_REACHED = 0.06
LAPSED = 0.08  # contacts stopped 2–5 days ago
UNWELL = 0.03  # share of contacts with fever or other symptoms
DESATURATED = 0.0006  # share of contacts with SpO2 below 93%
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


RECORDER = "演示数据"  # who "made" the invented contacts (not the operator building the demo)


def simulate(rng: np.random.Generator, intervals: list[int], today: date) -> History:
    """Check-ins of people due every ``intervals[i]`` days (0: not followed up)."""
    every = np.asarray(intervals, dtype=np.int64)
    n = len(every)
    days = np.arange(HISTORY_DAYS + 1)  # days ago
    top = HISTORY_DAYS - rng.integers(0, np.maximum(every, 1))
    stopped = np.where(rng.random(n) < LAPSED, rng.integers(2, 6, n), 0)
    due = ((top[:, None] - days) % np.maximum(every, 1)[:, None] == 0) & (days <= top[:, None])
    reached = (every > 0) & (rng.random(n) >= NEVER_REACHED)
    held = due & (days >= stopped[:, None]) & reached[:, None] & (rng.random(due.shape) < ATTENDED)
    midnight = datetime.combine(today, time(0), tzinfo=timeutil.LOCAL_TZ).timestamp()
    seconds = (midnight - days * DAY) + rng.integers(8 * 3600, 18 * 3600, due.shape) // 60 * 60
    held &= seconds <= timeutil.utcnow().timestamp()
    stamps = np.where(held, seconds, -np.inf).max(axis=1)
    person, day = np.nonzero(held)
    chosen = seconds[person, day].astype(np.int64)
    moments = {int(s): datetime.fromtimestamp(int(s), UTC) for s in np.unique(chosen)}
    last = [moments[int(s)] if np.isfinite(s) else None for s in stamps]
    columns = _readings(rng, len(person))
    columns["contacted_at"] = [moments[s] for s in chosen.tolist()]
    return History(person, columns, last, moments)


def _readings(rng: np.random.Generator, k: int) -> dict[str, list[Any]]:
    spo2 = np.minimum(100, np.round(rng.normal(97.4, 1.0, k))).astype(np.int64)
    low = rng.random(k) < DESATURATED
    spo2[low] = rng.integers(86, 93, int(low.sum()))
    temperature = np.round(rng.normal(36.5, 0.25, k), 1)
    unwell = np.flatnonzero(rng.random(k) < UNWELL)
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
              "created_at": [timeutil.utcnow()] * len(keep)}  # fmt: skip
    written = insert_columns(session, FollowUp.__table__, plain)  # type: ignore[arg-type]
    alerts = _alerts(session, columns, {i: r for i, r in reasons.items() if r})
    return written + alerts, alerts


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


def _alerts(session: Session, columns: dict[str, list[Any]], reasons: dict[int, Any]) -> int:
    """Follow-ups that met a trigger, each with its alert (closed when older than 2 days)."""
    visits = []
    for i in reasons:
        contact = _contact(columns, i)
        visits.append(FollowUp(
            person_id=columns["person_id"][i], area_code=columns["area_code"][i],
            username=RECORDER, method=contact.method, contacted_at=contact.contacted_at,
            temperature_c=contact.temperature_c, spo2_pct=contact.spo2_pct,
            symptoms=contact.symptoms, fever_days=contact.fever_days,
        ))  # fmt: skip
    session.add_all(visits)
    session.flush()
    now = timeutil.utcnow()
    for visit, why in zip(visits, reasons.values(), strict=True):
        old = now - visit.contacted_at > timedelta(days=2)
        session.add(ReferralAlert(
            person_id=visit.person_id, follow_up_id=visit.id, area_code=visit.area_code,
            reasons=why, raised_at=visit.contacted_at,
            status=AlertStatus.closed if old else AlertStatus.open,
            closed_at=visit.contacted_at + timedelta(hours=3) if old else None,
            closed_by=RECORDER if old else None,
            close_note="已转诊至定点医院（演示）" if old else None,
        ))  # fmt: skip
    session.flush()
    return len(visits)
