"""The directive and task pages as the server renders them (no JavaScript): the list and its
filters, the new-directive form with each problem beside its field, the roll-up drilled down,
a task carried out and verified through its forms, "my tasks" grouped by when they are due,
and what scope and permissions refuse."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.auth.choices import Role
from lianfang.dispatch.choices import TaskStatus
from lianfang.dispatch.models import Directive, Task
from tests.dispatch.helpers import THREE_VILLAGES, three_villages
from tests.factories import COUNTY, OTHER_TOWN_VILLAGE, TOWN, VILLAGE, VILLAGE_2
from tests.web.test_pages import sign_in
from tests.web.test_people_pages import csrf_of

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def tasks_of(session: Session, directive_id: int) -> dict[str, Task]:
    rows = session.scalars(select(Task).where(Task.directive_id == directive_id))
    return {t.area_code: t for t in rows}


def form_page(client: TestClient, url: str) -> tuple[str, str]:
    page = client.get(url)
    assert page.status_code == 200, page.text
    return page.text, csrf_of(page.text)


def test_issue_through_the_form_names_each_problem_then_cascades(
    client: TestClient, session: Session
) -> None:
    sign_in(client, Role.city_commander)
    page, csrf = form_page(client, "/directives/new")
    assert 'name="children"' in page
    assert "如东县" in page
    refused = client.post("/directives/new", data={
        "csrf_token": csrf, "title": " ", "area": "3206", "to_level": "village",
        "deadline": "soon", "targets": "",
    })  # fmt: skip
    assert refused.status_code == 422
    assert 'data-testid="title-error"' in refused.text
    assert 'data-testid="deadline-error"' in refused.text
    assert session.scalar(select(Directive.id)) is None
    past = client.post("/directives/new", data={
        "csrf_token": csrf, "title": "药包发放", "area": "3206", "to_level": "village",
        "deadline": str(timeutil.today() - timedelta(days=1)), "targets": VILLAGE,
    })  # fmt: skip
    assert past.status_code == 422
    assert 'data-testid="deadline-error"' in past.text
    assert 'value="药包发放"' in past.text  # what was typed is kept
    unknown = client.post("/directives/new", data={
        "csrf_token": csrf, "title": "药包发放", "area": "3206", "to_level": "village",
        "deadline": str(timeutil.today() + timedelta(days=2)), "targets": "不存在的村",
    })  # fmt: skip
    assert unknown.status_code == 422
    assert 'data-testid="targets-error"' in unknown.text
    assert "不存在的村" in unknown.text
    issued = client.post("/directives/new", data={
        "csrf_token": csrf, "title": "药包发放到户", "text": "逐户发放。", "area": "3206",
        "to_level": "village", "deadline": str(timeutil.today() + timedelta(days=2)),
        "targets": "、".join(THREE_VILLAGES), "departments": "卫健委、民政局",
    }, follow_redirects=False)  # fmt: skip
    assert issued.status_code == 303, issued.text
    directive = session.scalars(select(Directive)).one()
    assert issued.headers["location"] == f"/directives/{directive.id}?saved=issued"
    made = tasks_of(session, directive.id)
    assert set(made) == {COUNTY, TOWN, OTHER_TOWN_VILLAGE[:9] + "000", *THREE_VILLAGES}
    assert directive.departments == "卫健委,民政局"


def test_list_filters_and_the_roll_up_drills_down_to_the_village_tasks(
    client: TestClient, session: Session
) -> None:
    directive = three_villages(session, days=2)
    made = tasks_of(session, directive.id)
    made[VILLAGE].deadline = timeutil.today() - timedelta(days=1)  # one late village
    session.flush()
    sign_in(client, Role.city_commander)
    listed = client.get("/directives").text
    assert directive.title in listed
    assert 'data-testid="behind"' in listed
    assert directive.title in client.get("/directives?state=behind").text
    assert directive.title not in client.get("/directives?state=done").text
    assert directive.title in client.get("/directives?issuer=3206").text
    assert directive.title not in client.get("/directives?issuer=320623").text

    city = client.get(f"/directives/{directive.id}").text
    assert 'data-testid="computed"' in city
    assert f"/directives/{directive.id}?area=320623" in city  # the county, one click down
    county = client.get(f"/directives/{directive.id}?area=320623").text
    assert f"?area={TOWN[:9]}" in county
    town = client.get(f"/directives/{directive.id}?area={TOWN[:9]}").text
    rows = re.findall(r'data-area="(\d+)"', town)
    assert rows == [VILLAGE, VILLAGE_2]  # worst (late) first
    assert f'href="/tasks/{made[VILLAGE].id}"' in town  # each village links to its task
    assert "测试t_village_worker" in town  # who is responsible


def test_the_village_task_carried_out_and_verified_through_the_forms(
    client: TestClient, session: Session
) -> None:
    directive = three_villages(session)
    task = tasks_of(session, directive.id)[VILLAGE]
    url = f"/tasks/{task.id}"
    sign_in(client, Role.village_worker)
    page, csrf = form_page(client, url)
    assert 'data-testid="act-accept"' in page
    assert 'data-testid="act-verify"' not in page
    accepted = client.post(url + "/act", data={"csrf_token": csrf, "action": "accept"},
                           follow_redirects=False)  # fmt: skip
    assert (accepted.status_code, accepted.headers["location"]) == (303, url + "?saved=accept#task")
    refused = client.post(url + "/act", data={"csrf_token": csrf, "action": "complete"})
    assert refused.status_code == 422
    assert 'data-testid="act-error"' in refused.text
    assert "证据" in refused.text or "evidence" in refused.text
    stale = client.post(url + "/act", data={"csrf_token": "nope", "action": "complete"})
    assert stale.status_code == 403
    fake = client.post(url + "/evidence", data={"csrf_token": csrf, "text": ""},
                       files={"file": ("签收.png", b"not a png", "image/png")})  # fmt: skip
    assert fake.status_code == 422
    assert 'data-testid="evidence-error"' in fake.text
    added = client.post(url + "/evidence", data={"csrf_token": csrf, "text": "已发放 42 户"},
                        files={"file": ("签收.png", PNG, "image/png")})  # fmt: skip
    assert added.status_code == 200
    assert "签收.png" in added.text
    done = client.post(url + "/act", data={"csrf_token": csrf, "action": "complete"})
    assert done.status_code == 200
    assert task.status is TaskStatus.done
    assert 'data-testid="act-verify"' not in done.text  # not by the doer

    sign_in(client, Role.town_operator)
    page, csrf = form_page(client, url)
    assert 'data-testid="act-verify"' in page
    client.post(url + "/act", data={"csrf_token": csrf, "action": "verify"})
    assert task.status is TaskStatus.verified
    roll = client.get(f"/directives/{directive.id}?area={TOWN[:9]}").text
    assert re.search(r'data-testid="count-done"[^>]*>.*?<b>1</b>', roll, re.S)


def test_reject_needs_a_reason_beside_its_form(client: TestClient, session: Session) -> None:
    directive = three_villages(session)
    task = tasks_of(session, directive.id)[VILLAGE]
    sign_in(client, Role.village_worker)
    _page, csrf = form_page(client, f"/tasks/{task.id}")
    refused = client.post(
        f"/tasks/{task.id}/act", data={"csrf_token": csrf, "action": "reject", "reason": " "}
    )
    assert refused.status_code == 422
    assert 'data-testid="reject-error"' in refused.text
    assert task.status is TaskStatus.new


def test_split_a_town_task_into_its_villages(client: TestClient, session: Session) -> None:
    from lianfang.areas.choices import AreaLevel
    from lianfang.dispatch import service
    from tests.dispatch.helpers import actor

    commander = actor(session, Role.city_commander)
    directive = service.issue(session=session, actor=commander, data=service.DirectiveInput(
        area="3206", title="摸排", text="", to_level=AreaLevel.town,
        deadline=timeutil.today() + timedelta(days=2), targets=(TOWN,),
    ))  # fmt: skip
    town_task = tasks_of(session, directive.id)[TOWN]
    sign_in(client, Role.town_operator)
    page, csrf = form_page(client, f"/tasks/{town_task.id}")
    assert 'data-testid="split-form"' in page
    picked = {"csrf_token": csrf, "children": [VILLAGE, VILLAGE_2]}
    client.post(f"/tasks/{town_task.id}/split", data=picked)
    assert set(tasks_of(session, directive.id)) == {COUNTY, TOWN, VILLAGE, VILLAGE_2}
    sign_in(client, Role.village_worker)
    assert 'data-testid="split-form"' not in client.get(f"/tasks/{town_task.id}").text


def test_my_tasks_grouped_by_when_they_are_due_with_a_count_in_the_header(
    client: TestClient, session: Session
) -> None:
    late = three_villages(session, days=2)
    today = three_villages(session, days=0)
    later = three_villages(session, days=5)
    tasks_of(session, late.id)[VILLAGE].deadline = timeutil.today() - timedelta(days=2)
    session.flush()
    sign_in(client, Role.village_worker)
    page = client.get("/tasks/mine").text
    groups = {
        key: re.findall(r'data-task="(\d+)"', part)
        for key, part in re.findall(
            r'data-testid="group-(\w+)">(.*?)</div>', page, re.S
        )
    }  # fmt: skip
    assert groups["overdue"] == [str(tasks_of(session, late.id)[VILLAGE].id)]
    assert groups["today"] == [str(tasks_of(session, today.id)[VILLAGE].id)]
    assert groups["later"] == [str(tasks_of(session, later.id)[VILLAGE].id)]
    assert "2 天" in page or "2 days" in page
    badge = re.search(r'data-testid="open-tasks">(\d+)<', page)
    assert badge is not None
    assert badge.group(1) == "3"


def test_a_task_outside_scope_is_not_found_and_roles_keep_to_their_permissions(
    client: TestClient, session: Session
) -> None:
    directive = three_villages(session)
    other = tasks_of(session, directive.id)[OTHER_TOWN_VILLAGE]
    mine = tasks_of(session, directive.id)[VILLAGE]
    sign_in(client, Role.town_operator)  # 掘港街道: the 栟茶镇 village is outside
    assert client.get(f"/tasks/{other.id}").status_code == 404
    _page, csrf = form_page(client, f"/tasks/{mine.id}")
    accept = {"csrf_token": csrf, "action": "accept"}
    assert client.post(f"/tasks/{other.id}/act", data=accept).status_code == 404
    sign_in(client, Role.village_worker)
    assert client.get("/directives/new").status_code == 403
    _page, csrf = form_page(client, "/directives")
    refused = client.post("/directives/new", data={
        "csrf_token": csrf, "title": "x", "area": VILLAGE, "to_level": "village",
        "deadline": str(timeutil.today()),
    })  # fmt: skip
    assert refused.status_code == 403
    sign_in(client, Role.viewer)
    page, csrf = form_page(client, f"/tasks/{mine.id}")
    assert 'data-testid="actions"' not in page
    assert 'data-testid="evidence-form"' not in page
    accept = {"csrf_token": csrf, "action": "accept"}
    assert client.post(f"/tasks/{mine.id}/act", data=accept).status_code == 403
    assert mine.status is TaskStatus.new


def test_the_english_pages_show_no_chinese_interface_text(
    client: TestClient, session: Session
) -> None:
    from tests.test_messages import CJK, catalogue, visible_text

    directive = three_villages(session, days=0)
    task = tasks_of(session, directive.id)[VILLAGE]
    chinese = {
        str(m.string)
        for m in catalogue("zh")
        if m.id and m.string and CJK.search(str(m.string)) and len(str(m.string)) >= 2
    }
    sign_in(client, Role.village_worker)
    client.cookies.set("lianfang_lang", "en")
    for path in ("/directives", f"/directives/{directive.id}", f"/tasks/{task.id}", "/tasks/mine"):
        page = client.get(path)
        assert page.status_code == 200, path
        shown = visible_text(page.text)
        leaked = sorted(text for text in chinese if text in shown)
        assert not leaked, f"{path} shows Chinese interface text in English: {leaked}"
    assert "Due today" in visible_text(client.get("/tasks/mine").text)
