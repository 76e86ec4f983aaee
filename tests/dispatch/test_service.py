"""Directives cascade into tasks, tasks go through their life, the roll-up counts them; every
change is audited and scope holds."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.areas.choices import AreaLevel
from lianfang.auth import chain
from lianfang.auth.choices import Role
from lianfang.auth.models import AuditEvent
from lianfang.dispatch import evidence, rollup, service
from lianfang.dispatch.choices import TaskAction, TaskStatus
from lianfang.dispatch.models import Task
from lianfang.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDenied
from tests.dispatch.helpers import THREE_VILLAGES, actor, three_villages
from tests.factories import COUNTY, OTHER_TOWN, OTHER_TOWN_VILLAGE, TOWN, VILLAGE, VILLAGE_2

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def tasks_of(session: Session, directive_id: int) -> dict[str, Task]:
    query = select(Task).where(Task.directive_id == directive_id)
    return {t.area_code: t for t in session.scalars(query)}


def test_cascade_makes_one_task_per_area_on_the_way_to_each_target(session: Session) -> None:
    directive = three_villages(session)
    tasks = tasks_of(session, directive.id)
    # 如东县 → 掘港街道 (two villages) and 栟茶镇 (one village)
    assert set(tasks) == {COUNTY, TOWN, OTHER_TOWN, *THREE_VILLAGES}
    assert tasks[COUNTY].status is TaskStatus.divided
    assert not tasks[COUNTY].leaf
    assert tasks[TOWN].parent_id == tasks[COUNTY].id
    assert tasks[VILLAGE].parent_id == tasks[TOWN].id
    assert tasks[OTHER_TOWN_VILLAGE].parent_id == tasks[OTHER_TOWN].id
    assert all(tasks[v].leaf and tasks[v].status is TaskStatus.new for v in THREE_VILLAGES)
    # owners: the standing users of each level's role in that very area
    assert tasks[VILLAGE].owner_id == actor(session, Role.village_worker).user_id
    assert tasks[TOWN].owner_id == actor(session, Role.town_operator).user_id
    assert tasks[COUNTY].owner_id == actor(session, Role.district_operator).user_id
    assert tasks[VILLAGE_2].owner_id is None  # nobody holds that village's account
    audited = session.scalar(
        select(func.count()).where(
            AuditEvent.entity_type == "directive", AuditEvent.entity_id == str(directive.id)
        )
    )
    assert audited == 1
    assert chain.verify(session).broken is None


def test_life_of_a_task_and_the_rollup_follows(session: Session) -> None:
    directive = three_villages(session)
    task = tasks_of(session, directive.id)[VILLAGE]
    doctor = actor(session, Role.village_worker)
    town = actor(session, Role.town_operator)
    commander = actor(session, Role.city_commander)

    before = rollup.rollup(session=session, actor=commander, directive_id=directive.id)
    assert before.counts.total == 3
    assert before.counts.not_started == 3
    assert before.counts.done == 0
    assert [r.area_code for r in before.rows] == [COUNTY]

    service.act(session=session, actor=doctor, task_id=task.id, action=TaskAction.accept)
    service.act(session=session, actor=doctor, task_id=task.id, action=TaskAction.start)
    with pytest.raises(ConflictError, match="no evidence"):
        service.act(session=session, actor=doctor, task_id=task.id, action=TaskAction.complete)
    evidence.add(session=session, actor=doctor, task_id=task.id, text="已随访 42 人",
                 upload=evidence.Upload("随访.png", PNG))  # fmt: skip
    service.act(session=session, actor=doctor, task_id=task.id, action=TaskAction.complete)
    assert task.status is TaskStatus.done
    assert task.done_by == doctor.user_id

    with pytest.raises(PermissionDenied):  # a village worker may not verify at all
        service.act(session=session, actor=doctor, task_id=task.id, action=TaskAction.verify)
    service.act(session=session, actor=town, task_id=task.id, action=TaskAction.verify)
    assert task.status is TaskStatus.verified
    assert task.verified_by == town.user_id

    after = rollup.rollup(session=session, actor=commander, directive_id=directive.id)
    assert (after.counts.done, after.counts.verified, after.counts.not_started) == (1, 1, 2)
    town_level = rollup.rollup(
        session=session, actor=commander, directive_id=directive.id, area=COUNTY
    )
    by_town = {r.area_code: r for r in town_level.rows}
    assert by_town[TOWN].counts.done == 1
    assert by_town[TOWN].counts.total == 2
    assert by_town[OTHER_TOWN].counts.done == 0
    assert by_town[OTHER_TOWN].counts.total == 1
    assert by_town[TOWN].owner == "测试t_town_operator"
    actions = session.scalars(
        select(AuditEvent.detail).where(
            AuditEvent.entity_type == "task", AuditEvent.entity_id == str(task.id)
        )
    ).all()
    assert len(actions) == 4
    assert chain.verify(session).broken is None


def test_the_doer_cannot_verify_their_own_work(session: Session) -> None:
    directive = three_villages(session)
    task = tasks_of(session, directive.id)[VILLAGE]
    town = actor(session, Role.town_operator)
    evidence.add(session=session, actor=town, task_id=task.id, text="done by the town")
    service.act(session=session, actor=town, task_id=task.id, action=TaskAction.accept)
    service.act(session=session, actor=town, task_id=task.id, action=TaskAction.complete)
    with pytest.raises(PermissionDenied, match="someone other"):
        service.act(session=session, actor=town, task_id=task.id, action=TaskAction.verify)
    assert task.status is TaskStatus.done


def test_reject_needs_a_reason_and_the_task_can_be_taken_up_again(session: Session) -> None:
    directive = three_villages(session)
    task = tasks_of(session, directive.id)[VILLAGE]
    doctor = actor(session, Role.village_worker)
    with pytest.raises(InvalidInputError, match="reason"):
        service.act(
            session=session, actor=doctor, task_id=task.id, action=TaskAction.reject, reason=" "
        )
    service.act(session=session, actor=doctor, task_id=task.id, action=TaskAction.reject,
                reason="本村无65岁以上独居老人")  # fmt: skip
    assert task.status is TaskStatus.rejected
    assert task.reason == "本村无65岁以上独居老人"
    commander = actor(session, Role.city_commander)
    assert (
        rollup.rollup(session=session, actor=commander, directive_id=directive.id).counts.rejected
        == 1
    )
    with pytest.raises(ConflictError):
        service.act(session=session, actor=doctor, task_id=task.id, action=TaskAction.accept)
    service.act(session=session, actor=doctor, task_id=task.id, action=TaskAction.start)
    assert task.status is TaskStatus.in_progress


def test_late_tasks_are_counted_late(session: Session) -> None:
    directive = three_villages(session)
    tasks = tasks_of(session, directive.id)
    tasks[VILLAGE].deadline = timeutil.today() - timedelta(days=1)
    tasks[VILLAGE_2].deadline = timeutil.today() - timedelta(days=1)
    tasks[VILLAGE_2].status = TaskStatus.done
    session.flush()
    commander = actor(session, Role.city_commander)
    counts = rollup.rollup(session=session, actor=commander, directive_id=directive.id).counts
    assert (counts.late, counts.done, counts.not_started) == (1, 1, 1)


def test_scope_and_permissions(session: Session) -> None:
    directive = three_villages(session)
    tasks = tasks_of(session, directive.id)
    doctor = actor(session, Role.village_worker)
    # the village worker sees their village's task, not the neighbour's (picked by id)
    assert service.get_task(session=session, actor=doctor, task_id=tasks[VILLAGE].id)
    with pytest.raises(NotFoundError):
        service.get_task(session=session, actor=doctor, task_id=tasks[VILLAGE_2].id)
    with pytest.raises(PermissionDenied):
        rollup.rollup(session=session, actor=doctor, directive_id=directive.id, area=TOWN)
    # the directive reaches into the village: it is listed, its roll-up starts at the village
    assert directive.id in [d.id for d in service.list_directives(session=session, actor=doctor)]
    mine = rollup.rollup(session=session, actor=doctor, directive_id=directive.id)
    assert mine.area_code == VILLAGE
    assert mine.counts.total == 1
    with pytest.raises(PermissionDenied):  # village workers carry out, they do not issue
        service.issue(session=session, actor=doctor, data=service.DirectiveInput(
            area=VILLAGE, title="x", text="", to_level=AreaLevel.village,
            deadline=timeutil.today(),
        ))  # fmt: skip
    town = actor(session, Role.town_operator)
    with pytest.raises(PermissionDenied):  # the county is above the town operator
        service.issue(session=session, actor=town, data=service.DirectiveInput(
            area=COUNTY, title="x", text="", to_level=AreaLevel.village, deadline=timeutil.today(),
        ))  # fmt: skip
    other = actor(session, Role.town_operator, "other_town_op", OTHER_TOWN)
    with pytest.raises(NotFoundError):
        service.act(
            session=session, actor=other, task_id=tasks[VILLAGE].id, action=TaskAction.accept
        )
    assert tasks[VILLAGE].status is TaskStatus.new


def test_bad_directives_name_the_field(session: Session) -> None:
    town = actor(session, Role.town_operator)
    base = {"area": TOWN, "title": "储备药品", "text": "", "deadline": timeutil.today()}
    with pytest.raises(InvalidInputError) as lower:
        service.issue(session=session, actor=town, data=service.DirectiveInput(
            **base, to_level=AreaLevel.town))  # type: ignore[arg-type]  # fmt: skip
    assert "to_level" in lower.value.fields
    with pytest.raises(InvalidInputError) as outside:
        service.issue(session=session, actor=town, data=service.DirectiveInput(
            **base, to_level=AreaLevel.village, targets=(OTHER_TOWN_VILLAGE,)))  # type: ignore[arg-type]  # fmt: skip
    assert "targets" in outside.value.fields
    with pytest.raises(InvalidInputError) as past:
        service.issue(session=session, actor=town, data=service.DirectiveInput(
            **{**base, "deadline": timeutil.today() - timedelta(days=1)},  # type: ignore[arg-type]
            to_level=AreaLevel.village))  # fmt: skip
    assert "deadline" in past.value.fields
    assert session.scalar(select(func.count()).select_from(Task)) == 0


def test_a_county_task_is_split_into_its_towns(session: Session) -> None:
    commander = actor(session, Role.city_commander)
    directive = service.issue(session=session, actor=commander, data=service.DirectiveInput(
        area="3206", title="村卫生室药品储备", text="", to_level=AreaLevel.county,
        deadline=timeutil.today() + timedelta(days=5),
    ))  # fmt: skip
    tasks = tasks_of(session, directive.id)
    assert len(tasks) == 8
    assert all(t.leaf for t in tasks.values())
    county = actor(session, Role.district_operator)
    created = service.split(session=session, actor=county, task_id=tasks[COUNTY].id,
                            areas=(TOWN, OTHER_TOWN))  # fmt: skip
    assert {t.area_code for t in created} == {TOWN, OTHER_TOWN}
    assert all(t.parent_id == tasks[COUNTY].id and t.level is AreaLevel.town for t in created)
    assert tasks[COUNTY].status is TaskStatus.divided
    up = rollup.rollup(session=session, actor=commander, directive_id=directive.id)
    assert up.counts.total == 7 + 2  # seven counties, and 如东县 counted by its two towns
    with pytest.raises(ConflictError):
        service.split(session=session, actor=county, task_id=tasks[COUNTY].id)


def test_evidence_files_are_checked(session: Session) -> None:
    directive = three_villages(session)
    task = tasks_of(session, directive.id)[VILLAGE]
    doctor = actor(session, Role.village_worker)
    for name, content, problem in [
        ("photo.exe", b"MZ", "only"),
        ("photo.png", b"GIF89a...", "not a real"),
        ("photo.png", b"", "empty"),
        ("big.pdf", b"%PDF-" + b"0" * evidence.MAX_BYTES, "at most"),
    ]:
        with pytest.raises(InvalidInputError, match=problem):
            evidence.add(session=session, actor=doctor, task_id=task.id, text="",
                         upload=evidence.Upload(name, content))  # fmt: skip
    row = evidence.add(session=session, actor=doctor, task_id=task.id, text="",
                       upload=evidence.Upload("../../etc/照片.PNG", PNG))  # fmt: skip
    assert row.filename == "照片.PNG"
    assert row.content_type == "image/png"
    assert row.size == len(PNG)
    assert evidence.file(session=session, actor=doctor, evidence_id=row.id).content == PNG


def test_my_tasks_lists_the_owners_tasks(session: Session) -> None:
    directive = three_villages(session)
    doctor = actor(session, Role.village_worker)
    mine = service.my_tasks(session=session, actor=doctor)
    assert [t.area_code for t in mine] == [VILLAGE]
    assert service.open_count(session=session, actor=doctor) == 1
    assert mine[0].directive_id == directive.id
