"""The periodic work of the alert engine, as idempotent jobs: each reads the whole state and
brings the alerts up to it, so a job run twice (or after a restart) changes nothing more.

- ``alerts.rules`` (every ``RULES_EVERY``): the periodic rules under every top-level area —
  open or update each alert a rule finds (with its task), clear those it no longer finds;
- ``people.regrade`` (daily): grade again the people whose grade changes on a 65th or 80th
  birthday (``people.service.regrade``).

Both are registered with ``lianfang.jobs`` (run inside ``lianfang serve`` and by ``lianfang
worker``, one process at a time); ``lianfang alerts run`` runs the rules once by hand.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from lianfang import jobs
from lianfang.alerts import engine, rules
from lianfang.alerts.choices import AlertKind
from lianfang.areas import codes
from lianfang.areas.models import Area
from lianfang.auth.scope import SYSTEM, Actor
from lianfang.db.engine import begin_write, release
from lianfang.people import service as people

RULES_EVERY = timedelta(minutes=15)
REGRADE_EVERY = timedelta(days=1)


@dataclass(frozen=True)
class RuleRun:
    """What one rule's run did under an area."""

    kind: AlertKind
    found: int
    opened: int
    updated: int
    cleared: int
    tasks: int


def run_rules(
    *, session: Session, actor: Actor = SYSTEM, area: str | None = None,
    kinds: Iterable[AlertKind] | None = None,
) -> list[RuleRun]:  # fmt: skip
    """Run the periodic rules under an area (every area by default): open or update what each
    finds, clear what it no longer finds. Write it in one transaction; it is idempotent."""
    prefix = codes.short(codes.normalise(area)) if area else ""
    if prefix:
        actor.require_area(codes.normalise(area or ""))
    chosen = [k for k in (kinds if kinds is not None else rules.PERIODIC) if k in rules.PERIODIC]
    found = {kind: rules.PERIODIC[kind](session, prefix) for kind in chosen}
    begin_write(session)  # the rules only read; the write lock is taken for the changes alone
    runs = []
    outcomes = engine.Outcome()
    for kind in chosen:
        findings = found[kind]
        outcome = engine.raise_many(session=session, actor=actor, findings=findings)
        cleared = engine.clear(
            session=session, actor=actor, kind=kind, keep={f.key for f in findings},
            prefix=prefix,
        )  # fmt: skip
        outcome.cleared = cleared
        runs.append(RuleRun(
            kind, len(findings), len(outcome.opened), len(outcome.updated), len(cleared),
            outcome.tasks,
        ))  # fmt: skip
        outcomes.entries.extend(outcome.entries)
        outcomes.cleared.extend(cleared)
    engine.write_audit(session=session, actor=actor, outcome=outcomes)
    return runs


def regrade(*, session: Session, actor: Actor = SYSTEM) -> int:
    """Grade again everyone under every top-level area whose age band changed (65, 80)."""
    roots = session.scalars(select(Area.code).where(Area.parent_code.is_(None))).all()
    return sum(people.regrade(session=session, actor=actor, area=code) for code in roots)


def rules_job(session: Session, run: jobs.Run) -> int:
    """Run the periodic alert rules everywhere: open, update and clear alerts (with tasks)."""
    release(session)  # read what the rules find without holding the write lock (SQLite)
    return sum(r.opened + r.updated + r.cleared for r in run_rules(session=session))


def regrade_job(session: Session, run: jobs.Run) -> int:
    """Grade again the people whose grade changes on a 65th or 80th birthday."""
    return regrade(session=session)


RULES = jobs.register("alerts.rules", RULES_EVERY, rules_job)
REGRADE = jobs.register("people.regrade", REGRADE_EVERY, regrade_job)
