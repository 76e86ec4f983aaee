"""Periodic jobs: an overdue task escalates to the level above and its owner is reminded once
a day; a job run twice changes nothing more; a lease held by another process keeps the job
from running, and an expired one is taken over; the registry refuses a clash."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from lianfang import jobs, timeutil
from lianfang.auth.choices import Role
from lianfang.auth.models import AuditEvent
from lianfang.dispatch import rollup, service
from lianfang.dispatch.choices import TaskStatus
from lianfang.dispatch.models import Task
from lianfang.jobs import JobLease
from tests.dispatch.helpers import actor, three_villages
from tests.factories import TOWN, VILLAGE


@pytest.fixture
def factory(session: Session) -> sessionmaker[Session]:
    """Sessions on the test's connection: each job transaction is a savepoint rolled back with
    the test."""
    connection = session.connection()
    return sessionmaker(bind=connection, join_transaction_mode="create_savepoint",
                       expire_on_commit=False)  # fmt: skip


@pytest.fixture
def later() -> Iterator[None]:
    """The world five days on: the three-day directive is overdue."""
    before = timeutil.use(timeutil.Clock(timeutil.today() + timedelta(days=5), "test"))
    yield
    timeutil.use(before)


def test_overdue_task_escalates_once_and_reminds_daily(
    session: Session, factory: sessionmaker[Session], later: None
) -> None:
    del later
    before = timeutil.use(timeutil.Clock(timeutil.today() - timedelta(days=5), "test"))
    directive = three_villages(session, days=3)
    timeutil.use(before)
    town_operator = actor(session, Role.town_operator)
    assert service.my_tasks(session=session, actor=town_operator) == []
    session.commit()

    first = jobs.run_due(factory, names=["dispatch.escalate", "dispatch.remind"], force=True)
    assert first.failed == {}
    assert first.ran == {"dispatch.escalate": 3, "dispatch.remind": 1}  # one has an owner
    session.expire_all()
    village = session.scalars(
        select(Task).where(Task.directive_id == directive.id, Task.area_code == VILLAGE)
    ).one()
    assert village.escalated_at is not None
    assert (village.reminders, village.reminded_on) == (1, timeutil.today())
    # the town's operator (owner of the village task's parent) now sees the escalated task
    escalated = service.my_tasks(session=session, actor=town_operator)
    assert village.id in [t.id for t in escalated]
    waiting = [t for t in escalated if t.leaf and t.status is not TaskStatus.divided]
    assert service.open_count(session=session, actor=town_operator) == len(waiting) >= 1
    assert all(t.area_code.startswith(TOWN[:9]) for t in escalated)
    tree = rollup.rollup(session=session, actor=town_operator, directive_id=directive.id)
    assert tree.counts.late == len(tree.rows) >= 1
    assert any(row.escalated for row in tree.rows)

    # a second run (forced, the same day) changes nothing
    again = jobs.run_due(factory, names=["dispatch.escalate", "dispatch.remind"], force=True)
    assert again.ran == {"dispatch.escalate": 0, "dispatch.remind": 0}
    session.expire_all()
    assert session.get_one(Task, village.id).reminders == 1
    rows = session.scalars(
        select(AuditEvent.detail).where(
            AuditEvent.entity_type == "task", AuditEvent.entity_id == str(village.id),
            AuditEvent.username == "system",
        )
    ).all()  # fmt: skip
    assert len(rows) == 2

    # the next day: reminded again, not escalated again
    before = timeutil.use(timeutil.Clock(timeutil.today() + timedelta(days=1), "test"))
    try:
        third = jobs.run_due(factory, names=["dispatch.escalate", "dispatch.remind"], force=True)
    finally:
        timeutil.use(before)
    assert third.ran == {"dispatch.escalate": 0, "dispatch.remind": 1}


def test_a_finished_task_is_neither_escalated_nor_reminded(
    session: Session, factory: sessionmaker[Session], later: None
) -> None:
    del later
    directive = three_villages(session, days=3)
    session.execute(
        update(Task)
        .where(Task.directive_id == directive.id, Task.leaf)
        .values(status=TaskStatus.done, deadline=timeutil.today() - timedelta(days=1))
    )
    session.commit()
    outcome = jobs.run_due(factory, names=["dispatch.escalate", "dispatch.remind"], force=True)
    assert outcome.ran == {"dispatch.escalate": 0, "dispatch.remind": 0}


def test_the_lease_keeps_a_job_to_one_process(
    session: Session, factory: sessionmaker[Session]
) -> None:
    ran: list[str] = []

    def probe(_session: Session, run: jobs.Run) -> int:
        ran.append(run.holder)
        return 1

    jobs.register("test.probe", timedelta(hours=1), probe)
    try:
        assert jobs.run_due(factory, names=["test.probe"], holder="a").ran == {"test.probe": 1}
        # not due again within the hour, whoever asks
        assert jobs.run_due(factory, names=["test.probe"], holder="b").skipped == ["test.probe"]
        # held by a live process: skipped even when forced
        session.execute(
            update(JobLease).where(JobLease.name == "test.probe").values(
                holder="c", expires_at=timeutil.utcnow() + timedelta(minutes=5)
            )
        )  # fmt: skip
        session.commit()
        assert jobs.run_due(factory, names=["test.probe"], force=True, holder="b").skipped
        # its holder died: the lease expires and another process takes the job over
        session.execute(
            update(JobLease).where(JobLease.name == "test.probe").values(
                expires_at=timeutil.utcnow() - timedelta(seconds=1),
                last_run_at=timeutil.utcnow() - timedelta(hours=2),
            )
        )  # fmt: skip
        session.commit()
        assert jobs.run_due(factory, names=["test.probe"], holder="b").ran == {"test.probe": 1}
        assert ran == ["a", "b"]
        lease = session.get_one(JobLease, "test.probe")
        session.refresh(lease)
        assert lease.holder is None
        assert lease.last_day == timeutil.today()
    finally:
        jobs.REGISTRY.pop("test.probe")


def test_a_failing_job_is_rolled_back_and_reported(
    session: Session, factory: sessionmaker[Session]
) -> None:
    def broken(job_session: Session, _run: jobs.Run) -> int:
        job_session.execute(update(Task).values(reminders=99))
        raise RuntimeError("boom")

    three_villages(session)
    session.commit()
    jobs.register("test.broken", timedelta(hours=1), broken)
    try:
        outcome = jobs.run_due(factory, names=["test.broken"])
        assert outcome.failed == {"test.broken": "RuntimeError: boom"}
        assert session.scalar(select(Task.id).where(Task.reminders == 99)) is None
        assert session.get_one(JobLease, "test.broken").holder is None
    finally:
        jobs.REGISTRY.pop("test.broken")


def test_register_refuses_a_second_job_of_the_same_name() -> None:
    jobs.load()
    with pytest.raises(ValueError, match="twice"):
        jobs.register("dispatch.escalate", timedelta(hours=1), lambda s, r: 0)
    assert {"dispatch.escalate", "dispatch.remind"} <= set(jobs.load())


def test_reminders_and_escalations_reach_people_s_notifications(
    session: Session, factory: sessionmaker[Session], later: None
) -> None:
    from lianfang.notify import service as notify

    del later
    before = timeutil.use(timeutil.Clock(timeutil.today() - timedelta(days=5), "test"))
    three_villages(session, days=3)
    timeutil.use(before)
    session.commit()
    jobs.run_due(factory, names=["dispatch.escalate", "dispatch.remind"], force=True)
    session.expire_all()
    village = actor(session, Role.village_worker)
    titles = [n.title for n in notify.inbox(session=session, actor=village).items]
    assert titles == ["任务已逾期：对65岁以上老人开展健康随访"]
    town = actor(session, Role.town_operator)  # owns the parent of the village's task
    assert "逾期任务已上报：对65岁以上老人开展健康随访" in [
        n.title for n in notify.inbox(session=session, actor=town).items
    ]
    again = jobs.run_due(factory, names=["dispatch.escalate", "dispatch.remind"], force=True)
    assert again.ran == {"dispatch.escalate": 0, "dispatch.remind": 0}
    session.expire_all()
    assert notify.inbox(session=session, actor=village).total == 1  # not told twice
