"""Demo directives: the city's decisions of the 2022–23 response (``story.DIRECTIVES``)
cascaded through the dispatch service's bulk path, with their tasks in every state — done and
verified, in progress, not started, rejected, past their deadline and escalated — and owners:
every county, town and village gets a staff account of its level's role (a village's is named
after and linked to its village doctor), which no one can sign in with.

Deterministic by seed; dated on or before the demo's day; fast at city scale (one cascade per
directive, updates in bulk)."""

from __future__ import annotations

import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lianfang import jobs, timeutil
from lianfang.areas import codes
from lianfang.areas.choices import AreaLevel
from lianfang.areas.models import Area
from lianfang.auth import audit
from lianfang.auth.choices import AuditAction
from lianfang.auth.models import User
from lianfang.auth.scope import Actor
from lianfang.auth.service import PASSWORDS
from lianfang.db.bulk import insert_columns
from lianfang.demo import story
from lianfang.dispatch import jobs as dispatch_jobs
from lianfang.dispatch import service
from lianfang.dispatch.choices import TaskStatus
from lianfang.dispatch.models import Directive, Task, TaskEvidence
from lianfang.people.choices import ResponsibleKind
from lianfang.people.models import Responsible

STAFF_LEVELS = (AreaLevel.county, AreaLevel.town, AreaLevel.village)
TITLE = {AreaLevel.county: "调度员", AreaLevel.town: "值班员", AreaLevel.village: "村医"}
NOTES = ("已完成，台账见附件", "已逐户落实并登记", "已整改到位，照片存档", "已完成，情况正常")


@dataclass(frozen=True)
class DirectivesReport:
    """What the demo's directives hold after a build."""

    directives: int = 0
    tasks: int = 0
    done: int = 0
    escalated: int = 0
    staff: int = 0


def staff(*, session: Session, actor: Actor, prefix: str) -> int:
    """A staff account for every county, town and village under ``prefix`` that has no user of
    its level's role (``service.LEVEL_ROLE``), so that every task has a named owner; a village's
    is its first village doctor, linked to them. Their password is a secret no one keeps."""
    rows = session.execute(
        select(Area.code, Area.name, Area.level)
        .where(codes.in_subtree(Area.code, prefix), Area.level.in_(STAFF_LEVELS))
        .order_by(Area.code)
    ).all()
    have = set(session.execute(select(User.area_code, User.role).where(User.active)).all())
    doctors: dict[str, tuple[int, str]] = {}
    for rid, code, name in session.execute(
        select(Responsible.id, Responsible.area_code, Responsible.name)
        .where(Responsible.kind == ResponsibleKind.village_doctor, Responsible.user_id.is_(None),
               codes.in_subtree(Responsible.area_code, prefix))
        .order_by(Responsible.id)
    ):  # fmt: skip
        doctors.setdefault(code, (rid, name))
    wanted = [(c, n, lv) for c, n, lv in rows if (c, service.LEVEL_ROLE[lv]) not in have]
    if not wanted:
        return 0
    secret = PASSWORDS.hash(secrets.token_urlsafe(32))
    names = [f"{doctors[c][1] if c in doctors else n + TITLE[lv]}（演示）" for c, n, lv in wanted]
    n = len(wanted)
    insert_columns(session, User.__table__, {  # type: ignore[arg-type]
        "username": [f"demo-{c}" for c, _n, _lv in wanted], "display_name": names,
        "role": [service.LEVEL_ROLE[lv].value for _c, _n, lv in wanted],
        "area_code": [c for c, _n, _lv in wanted], "password_hash": [secret] * n,
        "active": [True] * n, "created_at": [timeutil.utcnow()] * n,
    })  # fmt: skip
    ids = dict(
        session.execute(
            select(User.area_code, User.id).where(User.username.like("demo-%"))
        ).all()
    )  # fmt: skip
    links = [{"id": doctors[c][0], "user_id": ids[c]} for c, _n, _lv in wanted if c in doctors]
    if links:
        session.execute(update(Responsible), links)
    audit.record_many(session=session, actor=actor, entries=[
        audit.Entry(AuditAction.create, "user", str(ids[c]), c,
                    {"username": f"demo-{c}", "role": service.LEVEL_ROLE[lv].value})
        for c, _n, lv in wanted
    ])  # fmt: skip
    return n


def generate(
    *, session: Session, actor: Actor, seed: int, prefix: str, today: date
) -> DirectivesReport:
    """Issue the story's directives from the city (as ``actor``, its commander) on their days,
    carry their tasks forward to ``today``, then escalate those past their deadline."""
    staffed = staff(session=session, actor=actor, prefix=prefix)
    city = session.scalar(select(Area.code).where(Area.code == codes.normalise(prefix)))
    assert city is not None
    titles = [plan.title for plan in story.DIRECTIVES]
    issued_before = select(Directive.id).where(
        Directive.area_code == city, Directive.title.in_(titles)
    )
    if session.scalar(issued_before.limit(1)) is not None:  # a rebuild: issue nothing twice
        return DirectivesReport(staff=staffed)
    rng = random.Random(f"{seed}-directives")
    tasks = done = 0
    for plan in story.DIRECTIVES:
        issued = today - timedelta(days=plan.issued_days_ago)
        before = timeutil.use(timeutil.Clock(issued, "demo"))
        try:
            directive = service.issue(session=session, actor=actor, data=service.DirectiveInput(
                area=city, title=plan.title, text=plan.text, to_level=AreaLevel.of(plan.to_level),
                deadline=today + timedelta(days=plan.due_in_days), departments=("市卫健委",),
            ))  # fmt: skip
        finally:
            timeutil.use(before)
        made, finished = _carry(session, actor, rng, directive.id, plan, issued, today)
        tasks, done = tasks + made, done + finished
    before = timeutil.use(timeutil.Clock(today, "demo"))
    try:
        run = jobs.Run(today=today, now=timeutil.now(), holder="demo")
        escalated = dispatch_jobs.escalate(session, run)
    finally:
        timeutil.use(before)
    return DirectivesReport(len(story.DIRECTIVES), tasks, done, escalated, staffed)


def _moment(rng: random.Random, start: date, end: date) -> datetime:
    """A working-hours moment between two days (local time), as aware UTC."""
    day = start + timedelta(days=rng.randint(0, max(0, (end - start).days)))
    return timeutil.start_of(day) + timedelta(hours=rng.uniform(8.5, 18))


def _carry(
    session: Session, actor: Actor, rng: random.Random, directive_id: int,
    plan: story.DemoDirective, issued: date, today: date,
) -> tuple[int, int]:  # fmt: skip
    """Move the directive's leaf tasks to where they stand on ``today``: done (with a note)
    and verified by the owner of the task above, in progress, not started, or rejected."""
    leaves: Sequence[Any] = session.execute(
        select(Task.id, Task.area_code, Task.owner_id, Task.parent_id)
        .where(Task.directive_id == directive_id, Task.leaf)
        .order_by(Task.id)
    ).all()
    parents = dict(
        session.execute(
            select(Task.id, Task.owner_id).where(Task.directive_id == directive_id, ~Task.leaf)
        ).all()
    )  # fmt: skip
    last = min(today, today + timedelta(days=plan.due_in_days))
    changes: list[dict[str, Any]] = []
    entries: list[audit.Entry] = []
    notes: list[tuple[int, str, int | None, datetime]] = []
    for task_id, code, owner, parent in leaves:
        behind = code[:9] + "000" in story.BEHIND
        share = plan.done * (story.BEHIND_DONE if behind else 1.0)
        u = rng.random()
        change: dict[str, Any] = {"id": task_id}
        if u < share:
            done_at = _moment(rng, issued + timedelta(days=1), last)
            change |= {"status": TaskStatus.done, "done_by": owner, "done_at": done_at}
            checker = parents.get(parent) if parent else actor.user_id
            if rng.random() < plan.verified and checker not in (None, owner):
                verified_at = min(done_at + timedelta(hours=rng.uniform(2, 40)),
                                  timeutil.start_of(today) + timedelta(hours=9))  # fmt: skip
                change |= {"status": TaskStatus.verified, "verified_by": checker,
                           "verified_at": max(verified_at, done_at)}  # fmt: skip
            notes.append((task_id, code, owner, done_at))
        elif u < share + story.REJECTED:
            change |= {"status": TaskStatus.rejected, "reason": "本村无此类机构，申请核销"}
        elif rng.random() < story.STARTED:
            change["status"] = rng.choice((TaskStatus.accepted, TaskStatus.in_progress))
        else:
            continue  # not started
        change["updated_at"] = (
            change.get("verified_at") or change.get("done_at") or _moment(rng, issued, last)
        )
        changes.append(change)
        entries.append(audit.Entry(AuditAction.update, "task", str(task_id), code, {
            "to": change["status"].value, "at": change["updated_at"], "demo": True,
        }))  # fmt: skip
    if changes:
        session.execute(update(Task), changes)
    _evidence(session, rng, notes)
    audit.record_many(session=session, actor=actor, entries=entries)
    return len(leaves), len(notes)


def _evidence(
    session: Session, rng: random.Random, notes: list[tuple[int, str, int | None, datetime]]
) -> None:
    """A note as the evidence of each task done (completion needs one)."""
    if not notes:
        return
    names = dict(
        session.execute(
            select(User.id, User.username).where(User.id.in_({o for _t, _c, o, _d in notes if o}))
        ).all()
    )  # fmt: skip
    n = len(notes)
    insert_columns(session, TaskEvidence.__table__, {  # type: ignore[arg-type]
        "task_id": [t for t, _c, _o, _d in notes], "area_code": [c for _t, c, _o, _d in notes],
        "text": [rng.choice(NOTES) for _ in notes], "size": [0] * n,
        "user_id": [o for _t, _c, o, _d in notes],
        "username": [names.get(o or 0, "demo") for _t, _c, o, _d in notes],
        "created_at": [d for _t, _c, _o, d in notes],
    })  # fmt: skip
