"""The dispatch API end to end: a city directive to three villages, the village worker's task
carried out with a photo, verified by the town, and the roll-up following at every level."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from lianfang import timeutil
from lianfang.auth.choices import Role
from tests.conftest import bearer
from tests.dispatch.helpers import THREE_VILLAGES
from tests.factories import CITY, COUNTY, TOWN, VILLAGE

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def issue(client: TestClient, **changes: object) -> dict:  # type: ignore[type-arg]
    body = {
        "area": CITY, "title": "药包发放到户", "text": "逐户发放并登记签收。",
        "to_level": "village", "deadline": str(timeutil.today() + timedelta(days=3)),
        "targets": list(THREE_VILLAGES), "departments": ["卫健委"],
    } | changes  # fmt: skip
    answer = client.post("/api/directives", json=body, headers=bearer(client, Role.city_commander))
    assert answer.status_code == 201, answer.text
    return answer.json()  # type: ignore[no-any-return]


def test_cascade_carry_out_verify_and_roll_up(client: TestClient) -> None:
    made = issue(client)
    directive_id = made["directive"]["id"]
    assert made["directive"]["counts"]["not_started"] == 3
    assert [r["area_code"] for r in made["rollup"]["rows"]] == [COUNTY]
    worker = bearer(client, Role.village_worker)
    mine = client.get("/api/tasks/mine", headers=worker).json()
    task = next(t for t in mine if t["directive_id"] == directive_id)
    assert (task["area_code"], task["status"], task["directive_title"]) == (
        VILLAGE,
        "new",
        "药包发放到户",
    )
    url = f"/api/tasks/{task['id']}"
    detail = client.get(url, headers=worker).json()
    assert detail["actions"] == ["accept", "reject"]
    for step in ("accept", "start"):
        answer = client.post(url + "/actions", json={"action": step}, headers=worker)
        assert answer.status_code == 200, answer.text
    refused = client.post(url + "/actions", json={"action": "complete"}, headers=worker)
    assert refused.status_code == 409
    assert "evidence" in refused.json()["message_en"]
    bad = client.post(
        url + "/evidence",
        data={"text": "照片"},
        files={"file": ("签收.png", b"not a png", "image/png")},
        headers=worker,
    )
    assert bad.status_code == 400
    assert "签收.png" in bad.json()["message_zh"]
    photo = client.post(
        url + "/evidence",
        data={"text": "已发放 42 户"},
        files={"file": ("签收.png", PNG, "image/png")},
        headers=worker,
    )
    assert photo.status_code == 201, photo.text
    fetched = client.get(photo.json()["file_url"], headers=worker)
    assert (fetched.status_code, fetched.content) == (200, PNG)
    assert fetched.headers["content-type"] == "image/png"
    comment = client.post(url + "/comments", json={"text": "还有两户外出"}, headers=worker)
    assert comment.status_code == 201
    done = client.post(url + "/actions", json={"action": "complete"}, headers=worker).json()
    assert done["task"]["status"] == "done"
    assert "verify" not in done["actions"]  # not by the doer
    town = bearer(client, Role.town_operator)
    town_view = client.get(url, headers=town).json()
    assert "verify" in town_view["actions"]
    assert [c["text"] for c in town_view["comments"]] == ["还有两户外出"]
    verified = client.post(url + "/actions", json={"action": "verify"}, headers=town).json()
    assert verified["task"]["status"] == "verified"

    city = client.get(f"/api/directives/{directive_id}", headers=town).json()
    assert city["rollup"]["area_code"] == TOWN  # the town operator sees their own area
    commander = bearer(client, Role.city_commander)
    top = client.get(f"/api/directives/{directive_id}", headers=commander).json()
    assert top["directive"]["counts"] | {} == top["directive"]["counts"]
    assert (top["rollup"]["counts"]["done"], top["rollup"]["counts"]["verified"]) == (1, 1)
    down = client.get(f"/api/directives/{directive_id}?area={TOWN}", headers=commander).json()
    row = next(r for r in down["rollup"]["rows"] if r["area_code"] == VILLAGE)
    assert row["counts"]["done"] == 1
    assert row["owner"] is not None
    listed = client.get("/api/directives", headers=commander).json()
    assert next(d for d in listed if d["id"] == directive_id)["counts"]["done"] == 1


def test_split_a_town_task_and_bad_input_is_named(client: TestClient) -> None:
    made = issue(client, to_level="town", targets=[TOWN])
    town = bearer(client, Role.town_operator)
    task = next(t for t in client.get("/api/tasks/mine", headers=town).json()
                if t["directive_id"] == made["directive"]["id"])  # fmt: skip
    split = client.post(f"/api/tasks/{task['id']}/split", json={"areas": [VILLAGE]}, headers=town)
    assert split.status_code == 201, split.text
    assert [t["area_code"] for t in split.json()] == [VILLAGE]
    wrong = client.post(f"/api/tasks/{task['id']}/split", json={}, headers=town)
    assert wrong.status_code == 409
    late = client.post("/api/directives", json={
        "area": CITY, "title": "x", "to_level": "village", "deadline": "2000-01-01"},
        headers=bearer(client, Role.city_commander))  # fmt: skip
    assert late.status_code == 400
    assert "deadline" in late.json()["message_en"]
    reject = client.post(
        f"/api/tasks/{split.json()[0]['id']}/actions",
        json={"action": "reject"},
        headers=bearer(client, Role.village_worker),
    )
    assert reject.status_code == 400


def test_records_outside_scope_are_not_found_and_lists_stay_in_scope(
    client: TestClient,
) -> None:
    from tests.factories import OTHER_COUNTY_TOWN, OTHER_TOWN_VILLAGE

    far = issue(client, area=OTHER_COUNTY_TOWN, targets=[OTHER_COUNTY_TOWN[:9] + "001"])
    near = issue(client, targets=[OTHER_TOWN_VILLAGE])
    admin = bearer(client, Role.admin)
    far_id = far["directive"]["id"]
    far_task = far["rollup"]["rows"][0]["task_id"]
    assert client.get(f"/api/tasks/{far_task}", headers=admin).status_code == 200
    for role in (Role.district_operator, Role.town_operator, Role.village_worker):
        headers = bearer(client, role)
        assert client.get(f"/api/directives/{far_id}", headers=headers).status_code == 404
        assert client.get(f"/api/tasks/{far_task}", headers=headers).status_code == 404
        step = client.post(f"/api/tasks/{far_task}/actions", json={"action": "accept"},
                           headers=headers)  # fmt: skip
        assert step.status_code == 404
        listed = {d["id"] for d in client.get("/api/directives", headers=headers).json()}
        assert far_id not in listed
    # a directive reaching another town of the county: the district sees it, the town does not
    listed = {d["id"] for d in client.get("/api/directives", headers=bearer(
        client, Role.district_operator)).json()}  # fmt: skip
    assert near["directive"]["id"] in listed
    listed = {d["id"] for d in client.get("/api/directives", headers=bearer(
        client, Role.town_operator)).json()}  # fmt: skip
    assert near["directive"]["id"] not in listed
